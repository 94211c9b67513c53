import MinnowModels
import MinnowNN
@testable import MinnowPruning
import MinnowTensor
import XCTest

/// Pruning each channel group of every block type of the zoo: the model still runs, its
/// parameter and MAC counts are the predicted ones, and channels whose weights were zero leave
/// the outputs unchanged when removed.
final class ChannelGroupTests: XCTestCase {
    var generator = SeededGenerator(seed: 11)

    /// Random batch-norm statistics and affine parameters, so that a zeroed channel is not zero by accident.
    func randomizeNorms(_ model: any Layer) {
        model.visitModules { _, module in
            guard let norm = module as? BatchNorm else { return }
            let c = norm.scale.shape[0]
            norm.scale.assign(Tensor.randomUniform([c], low: 0.5, high: 1.5, generator: &generator))
            norm.offset.assign(Tensor.randomUniform([c], low: -0.5, high: 0.5, generator: &generator))
            norm.runningMean.value = Tensor.randomUniform([c], low: -0.2, high: 0.2, generator: &generator)
            norm.runningVariance.value = Tensor.randomUniform([c], low: 0.5, high: 1.5, generator: &generator)
        }
    }

    /// Sets the group's `channels` to zero in every layer that makes them (filters, biases,
    /// batch-norm scale and offset, depthwise filters): after that, the channels carry zeros.
    func zero(_ channels: [Int], of group: ChannelGroup, in model: any Layer) {
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.parameter) })
        for member in group.members where member.role != .consumer {
            for name in ["filter", "weight", "bias", "scale", "offset"] {
                guard let parameter = parameters["\(member.layer).\(name)"] else { continue }
                var values = parameter.value.scalars
                let last = parameter.shape.last!
                for row in 0..<(values.count / last) { for c in channels { values[row * last + member.offset + c] = 0 } }
                parameter.assign(Tensor(shape: parameter.shape, scalars: values))
            }
        }
    }

    /// For every prunable group: removing half of its channels (every other one) gives a model
    /// that runs with the predicted counts; with those channels zeroed first, the same logits.
    func checkEveryGroup(_ model: any Layer, inputShape: [Int], excluding: [String] = [], expectGroups: Int? = nil,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        randomizeNorms(model)
        let graph = try ModelGraph.trace(model, inputShape: inputShape)
        let analysis = try ChannelAnalysis(graph: graph, excluding: excluding)
        XCTAssertEqual(analysis.multiplyAccumulates(), graph.totalMACs, "MACs of the unpruned model", file: file, line: line)
        XCTAssertEqual(analysis.parameterCount(), graph.parameterCount, "parameters of the unpruned model", file: file, line: line)
        let groups = analysis.prunableGroups.filter { $0.channels > 1 }
        if let expectGroups { XCTAssertEqual(groups.count, expectGroups, "prunable groups", file: file, line: line) }
        XCTAssertFalse(groups.isEmpty, file: file, line: line)
        let input = Tensor.randomNormal([3] + inputShape, generator: &generator)
        for group in groups {
            let kept = Array(stride(from: 0, to: group.channels, by: 2))
            let removed = Array(Set(0..<group.channels).subtracting(kept))
            let pruned = try Pruner.prune(model, analysis: analysis, kept: [group.id: kept], registry: .zoo)
            let prunedGraph = try ModelGraph.trace(pruned, inputShape: inputShape)
            XCTAssertEqual(prunedGraph.totalMACs, analysis.multiplyAccumulates(kept: [group.id: kept.count]),
                           "MACs after pruning \(group.name)", file: file, line: line)
            XCTAssertEqual(prunedGraph.parameterCount, analysis.parameterCount(kept: [group.id: kept.count]),
                           "parameters after pruning \(group.name)", file: file, line: line)
            XCTAssertTrue(prunedGraph.parameterCount < graph.parameterCount, file: file, line: line)
            // Zeroed channels: removing them changes nothing.
            let zeroed = try Surgery.keepingChannels([], of: model, inputShape: inputShape, registry: .zoo)
            zero(removed, of: group, in: zeroed)
            let prunedZeroed = try Pruner.prune(zeroed, analysis: analysis, kept: [group.id: kept], registry: .zoo)
            zeroed.eval()
            prunedZeroed.eval()
            let (expected, actual) = (withoutGrad { zeroed(input) }.scalars, withoutGrad { prunedZeroed(input) }.scalars)
            XCTAssertEqual(expected.count, actual.count, file: file, line: line)
            for (a, b) in zip(expected, actual) {
                XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(a)), "logits after removing zeroed channels of \(group.name)", file: file, line: line)
            }
        }
    }

    func stem(_ channels: Int) -> ConvBNActivation {
        ConvBNActivation(1, channels, kernelSize: 3, activation: .relu, generator: &generator)
    }

    func head(_ channels: Int) -> [any Layer] {
        [GlobalAvgPool2D(), Linear(inputFeatures: channels, outputFeatures: 5, generator: &generator)]
    }

    func testResNetBasicBlocksWithAndWithoutProjection() throws {
        let model = Sequential([stem(8), BasicBlock(inputChannels: 8, outputChannels: 8, stride: 1, generator: &generator),
                                BasicBlock(inputChannels: 8, outputChannels: 16, stride: 2, generator: &generator)] + head(16))
        // Groups: the stem with the identity block's output (one residual group), its conv1, the
        // projection block's conv1, and its output joined with the projection shortcut.
        try checkEveryGroup(model, inputShape: [8, 8, 1], expectGroups: 4)
        let analysis = try ChannelAnalysis(graph: try ModelGraph.trace(model, inputShape: [8, 8, 1]), excluding: [])
        let residual = try XCTUnwrap(analysis.groups.first { $0.producers.contains("2.conv2") })
        XCTAssertEqual(Set(residual.producers), ["2.conv2", "2.shortcut.0"], "both sides of the add are one group")
    }

    func testInvertedResidualsWithAndWithoutSkipAndExpansion() throws {
        let model = Sequential([stem(8),
                                InvertedResidual(inputChannels: 8, outputChannels: 8, stride: 1, expansion: 1, generator: &generator),
                                InvertedResidual(inputChannels: 8, outputChannels: 8, stride: 1, expansion: 3, generator: &generator),
                                InvertedResidual(inputChannels: 8, outputChannels: 12, stride: 2, expansion: 2, generator: &generator)] + head(12))
        try checkEveryGroup(model, inputShape: [8, 8, 1], expectGroups: 4)
        let analysis = try ChannelAnalysis(graph: try ModelGraph.trace(model, inputShape: [8, 8, 1]), excluding: [])
        // Without expansion the depthwise convolution runs on the block's input: the stem's group.
        let first = try XCTUnwrap(analysis.groups.first { $0.producers.contains("0.conv") })
        XCTAssertTrue(first.members.contains { $0.layer == "1.depthwise.conv" && $0.role == .perChannel })
        XCTAssertTrue(first.producers.contains("2.project"), "the skip joins the block's projection to its input")
    }

    func testDepthwiseSeparableBlock() throws {
        let model = Sequential([stem(8), DepthwiseSeparableBlock(inputChannels: 8, outputChannels: 16, stride: 2, generator: &generator),
                                DepthwiseSeparableBlock(inputChannels: 16, outputChannels: 16, stride: 1, generator: &generator)] + head(16))
        try checkEveryGroup(model, inputShape: [8, 8, 1], expectGroups: 3)
    }

    func testFireModulesConcatenationOffsets() throws {
        let model = Sequential([stem(8),
                                FireModule(inputChannels: 8, squeezeChannels: 4, expand1x1Channels: 6, expand3x3Channels: 6, generator: &generator),
                                FireModule(inputChannels: 12, squeezeChannels: 4, expand1x1Channels: 8, expand3x3Channels: 8, generator: &generator),
                                Conv2D(16, 5, kernelSize: 1, padding: 0, generator: &generator), GlobalAvgPool2D()])
        try checkEveryGroup(model, inputShape: [6, 6, 1], expectGroups: 7)
        let analysis = try ChannelAnalysis(graph: try ModelGraph.trace(model, inputShape: [6, 6, 1]), excluding: [])
        let expand3x3 = try XCTUnwrap(analysis.groups.first { $0.producers == ["1.expand3x3.conv"] })
        XCTAssertEqual(expand3x3.members.first { $0.layer == "2.squeeze.conv" }?.offset, 6, "the 3x3 half starts after the 1x1 half")
    }

    /// A grouped (not depthwise) convolution keeps its channels, and so do the layers joined to
    /// them; the rest of the network still prunes (Torch-Pruning#328).
    func testGroupedConvolutionIsFixedAndTheRestPrunes() throws {
        let model = Sequential([stem(8), Conv2D(8, 16, kernelSize: 3, groups: 2, useBias: false, generator: &generator), BatchNorm(channels: 16),
                                Activation(.relu), ConvBNActivation(16, 8, kernelSize: 1, activation: .relu, generator: &generator)] + head(8))
        let analysis = try ChannelAnalysis(graph: try ModelGraph.trace(model, inputShape: [6, 6, 1]), excluding: [])
        let grouped = analysis.groups.filter { $0.members.contains { $0.layer == "1" } }
        XCTAssertEqual(grouped.count, 2)
        XCTAssertTrue(grouped.allSatisfy { !$0.isPrunable && $0.fixedBecause!.contains("grouped convolution 1 (groups 2)") })
        try checkEveryGroup(model, inputShape: [6, 6, 1], expectGroups: 1)
    }

    /// A convolution with one output channel is an ordinary convolution, not a depthwise one
    /// (Torch-Pruning#126, #179): its input channels prune; its single output stays. A flatten
    /// before the classifier maps each channel to its features at every position.
    func testOneOutputChannelConvolutionAndFlatten() throws {
        let model = Sequential([stem(8), Conv2D(8, 1, kernelSize: 1, padding: 0, generator: &generator), Activation(.relu),
                                ConvBNActivation(1, 8, kernelSize: 3, activation: .relu, generator: &generator), Flatten(),
                                Linear(inputFeatures: 4 * 4 * 8, outputFeatures: 5, generator: &generator)])
        let analysis = try ChannelAnalysis(graph: try ModelGraph.trace(model, inputShape: [4, 4, 1]), excluding: [])
        let single = try XCTUnwrap(analysis.groups.first { $0.producers == ["1"] })
        XCTAssertEqual(single.channels, 1)
        XCTAssertFalse(single.members.contains { $0.role == .perChannel }, "not mistaken for a depthwise convolution")
        let flattened = try XCTUnwrap(analysis.groups.first { $0.producers == ["3.conv"] })
        XCTAssertEqual(flattened.members.first { $0.layer == "5" }?.positions, 16)
        try checkEveryGroup(model, inputShape: [4, 4, 1], expectGroups: 2)
    }

    /// Every architecture of the zoo prunes to half its MACs with the default exclusions, with
    /// predicted counts, and the first convolution and the classifier keep their outputs.
    func testZooArchitecturesPruneToATarget() throws {
        let configs: [ModelConfig] = [
            ModelConfig(architecture: .resnet, width: 0.5, depth: 8), ModelConfig(architecture: .mobilenetV1, width: 0.5),
            ModelConfig(architecture: .mobilenetV2, width: 0.5), ModelConfig(architecture: .squeezenet, width: 0.5),
            ModelConfig(architecture: .cnn, width: 0.5),
        ]
        for config in configs {
            let model = try ModelZoo.build(config)
            let graph = try ModelGraph.trace(model, inputShape: config.inputShape)
            let analysis = try ChannelAnalysis(graph: graph, excluding: ChannelAnalysis.defaultExclusions(graph))
            let scores = try ChannelImportance.scores(.l1, analysis: analysis, model: model)
            let selector = try ChannelSelector(target: .macs(0.5), roundTo: 4)
            let kept = try selector.select(analysis, scores: scores, baseline: ModelSize(analysis))
            let pruned = try Pruner.prune(model, analysis: analysis, kept: kept, registry: .zoo)
            let after = try ModelGraph.trace(pruned, inputShape: config.inputShape)
            XCTAssertLessThanOrEqual(after.totalMACs, graph.totalMACs / 2, "\(config.architecture)")
            XCTAssertEqual(after.totalMACs, analysis.multiplyAccumulates(kept: kept.mapValues(\.count)), "\(config.architecture)")
            XCTAssertTrue(kept.values.allSatisfy { $0.count % 4 == 0 }, "rounded to multiples of 4: \(config.architecture)")
            let excluded = ChannelAnalysis.defaultExclusions(graph)
            for row in LayerSize.all(after) where excluded.contains(row.layer) {
                XCTAssertEqual(row.outputs, LayerSize.all(graph).first { $0.layer == row.layer }?.outputs, "\(row.layer) kept its outputs")
            }
            XCTAssertEqual(withoutGrad { pruned(Tensor.zeros([2] + config.inputShape)) }.shape, [2, 10])
        }
    }
}
