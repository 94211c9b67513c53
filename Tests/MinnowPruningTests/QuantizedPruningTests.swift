import MinnowModels
import MinnowNN
@testable import MinnowPruning
import MinnowQuantization
import MinnowTensor
import XCTest

/// Pruning a quantization-aware model slices its per-channel quantizer state with the channels
/// (NNCF#406) and keeps the per-tensor state; the result lowers to integer arithmetic.
final class QuantizedPruningTests: XCTestCase {
    func testLSQWeightStepsAndOptimizerSlotsAreSlicedWithTheirChannels() throws {
        var generator = SeededGenerator(seed: 9)
        let model = Sequential([ConvBNActivation(1, 8, kernelSize: 3, activation: .relu, generator: &generator),
                                InvertedResidual(inputChannels: 8, outputChannels: 8, stride: 1, expansion: 2, generator: &generator),
                                GlobalAvgPool2D(), Linear(inputFeatures: 8, outputFeatures: 3, generator: &generator)])
        let quantized = try QuantizedModel(model: model, inputShape: [6, 6, 1], scheme: QuantizationScheme(method: .lsq))
        try quantized.calibrate([Tensor.randomNormal([4, 6, 6, 1], generator: &generator)])
        // One SGD step so that every parameter has a momentum slot.
        let optimizer = SGD(learningRate: 0.01, momentum: 0.9)
        let loss = quantized(Tensor.randomNormal([4, 6, 6, 1], generator: &generator)).squared().sum()
        loss.backward()
        optimizer.step(quantized.namedParameters())
        let analysis = try ChannelAnalysis(graph: try ModelGraph.trace(model, inputShape: [6, 6, 1]), excluding: [])
        let hidden = try XCTUnwrap(analysis.groups.first { $0.producers == ["1.expand.conv"] })
        let kept = [1, 4, 6, 9, 12, 15]
        let oldSlots = optimizer.slots
        let pruned = try Pruner.prune(quantized, analysis: analysis, kept: [hidden.id: kept], optimizer: optimizer, registry: .zoo)

        let index = try XCTUnwrap(quantized.weightStepLayers.firstIndex(of: "1.expand.conv"))
        let before = quantized.weightSteps[index].value.scalars, after = pruned.weightSteps[index].value.scalars
        XCTAssertEqual(after, kept.map { before[$0] }, "the expand layer's per-channel steps follow its channels")
        let depthwise = try XCTUnwrap(quantized.weightStepLayers.firstIndex(of: "1.depthwise.conv"))
        XCTAssertEqual(pruned.weightSteps[depthwise].value.scalars, kept.map { quantized.weightSteps[depthwise].value.scalars[$0] })
        for (old, new) in zip(quantized.ranges, pruned.ranges) { XCTAssertEqual(old.value.scalars, new.value.scalars) }
        XCTAssertEqual(quantized.activationZeroPoints.value.scalars, pruned.activationZeroPoints.value.scalars)
        let slot = "weightSteps.\(index)"
        XCTAssertEqual(optimizer.slots[slot]?.values.first?.scalars, kept.map { oldSlots[slot]!.values.first!.scalars[$0] })
        let shapes = Dictionary(uniqueKeysWithValues: pruned.namedParameters().map { ($0.path, $0.parameter.shape) })
        for (path, states) in optimizer.slots { for state in states.values { XCTAssertEqual(state.shape, shapes[path], path) } }
        XCTAssertEqual(Set(optimizer.slots.keys), Set(shapes.keys))
        let integer = try IntegerModel(quantized: pruned)
        XCTAssertEqual(integer.logits(Tensor.randomNormal([2, 6, 6, 1], generator: &generator)).shape, [2, 3])
    }
}
