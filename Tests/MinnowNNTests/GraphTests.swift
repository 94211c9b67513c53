import Foundation
import MinnowModels
import MinnowNN
import MinnowTensor
import MinnowTestSupport
import XCTest

/// The traced op graph is the model: replayed by the reference interpreter it gives the model's
/// evaluation-mode logits bit for bit, and it counts the same parameters and MACs as `ModelSummary`.
final class GraphTests: XCTestCase {
    /// Every architecture and preset, on Fashion-MNIST- and CIFAR-shaped inputs.
    static let configs: [(String, ModelConfig)] = {
        var configs = ModelConfig.presetNames.map { ($0, ModelConfig.preset($0)!) }
        for architecture in ModelConfig.Architecture.allCases {
            configs.append(("\(architecture.rawValue) 0.5 cifar",
                            ModelConfig(architecture: architecture, width: 0.5, depth: 8, inputShape: [32, 32, 3], seed: 4)))
        }
        return configs
    }()

    /// Running statistics away from their initial values, so batch norm is no identity.
    func randomizeBuffers(_ model: Module, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for (path, buffer) in model.namedBuffers() {
            let (low, high): (Float, Float) = path.hasSuffix("runningVariance") ? (0.5, 2) : (-0.5, 0.5)
            buffer.value = Tensor.randomUniform(buffer.value.shape, low: low, high: high, generator: &generator)
        }
    }

    func testReplayEqualsTheModelBitForBit() throws {
        for (name, config) in Self.configs {
            let model = try ModelZoo.build(config)
            randomizeBuffers(model, seed: 9)
            var generator = SeededGenerator(seed: 5)
            let images = Tensor.randomNormal([3] + config.inputShape, generator: &generator)
            model.eval()
            let expected = withoutGrad { model(images) }
            let graph = try ModelGraph.trace(model, inputShape: config.inputShape)
            let replayed = try graph.run(images, tensors: graph.tensors(of: model))
            XCTAssertEqual(replayed.shape, expected.shape, name)
            XCTAssertEqual(replayed.scalars.map(\.bitPattern), expected.scalars.map(\.bitPattern), "\(name): logits differ")
        }
    }

    func testParametersAndMACsEqualTheSummary() throws {
        for (name, config) in Self.configs {
            let model = try ModelZoo.build(config)
            let graph = try ModelGraph.trace(model, inputShape: config.inputShape)
            let summary = ModelSummary(model: model, inputShape: [1] + config.inputShape)
            XCTAssertEqual(graph.parameterCount, summary.totalParameters, name)
            XCTAssertEqual(graph.totalMACs, summary.totalMACs, name)
            XCTAssertEqual(Set(graph.parameters.keys), Set(model.namedParameters().map(\.path)), "\(name): every parameter is read")
        }
    }

    /// Residual adds (ResNet, MobileNetV2) and Fire concatenations (SqueezeNet) are ops, with the
    /// module that ran them and both of their inputs.
    func testAddsAndConcatsAreOps() throws {
        let resnet = try ModelGraph.trace(ModelZoo.build(ModelConfig.preset("teacher")!), inputShape: [28, 28, 1])
        let adds = resnet.ops.filter { $0.kind == .add }
        XCTAssertEqual(adds.count, 6, "one per basic block")
        XCTAssertEqual(adds.first?.module, "layers.0")
        XCTAssertEqual(Set(adds.first?.operands.keys ?? [:].keys), ["inputs.0", "inputs.1"])

        let mbv2 = try ModelGraph.trace(ModelZoo.build(ModelConfig.preset("student_mbv2")!), inputShape: [28, 28, 1])
        XCTAssertEqual(mbv2.ops.filter { $0.kind == .add }.count, 6, "the inverted residuals with stride 1 and equal channels")
        XCTAssertFalse(mbv2.ops.filter { $0.kind == .depthwiseConv2d }.isEmpty)

        let squeeze = try ModelGraph.trace(ModelZoo.build(ModelConfig.preset("student_squeeze")!), inputShape: [28, 28, 1])
        let concats = squeeze.ops.filter { $0.kind == .concat }
        XCTAssertEqual(concats.count, 6, "one per Fire module")
        XCTAssertEqual(concats.first?.attributes["axis"], .int(3))
        XCTAssertEqual(concats.first.map { squeeze.valueShapes[$0.output] }, [14, 14, 64])
    }

    /// A layer that computes with an op which does not trace itself makes the trace an error,
    /// naming the op that used its result.
    func testAnUntracedOpIsAnError() throws {
        final class Doubling: Module, Layer {
            let linear: Linear
            init(generator: inout SeededGenerator) { linear = Linear(inputFeatures: 4, outputFeatures: 2, generator: &generator) }
            func forward(_ input: Tensor) -> Tensor { linear(input * 2) }  // scaling is not a traced op
        }
        var generator = SeededGenerator(seed: 1)
        XCTAssertThrowsError(try ModelGraph.trace(Doubling(generator: &generator), inputShape: [4])) { error in
            XCTAssertTrue("\(error)".contains("linear in 'linear': operand input of shape [1, 4] was made by an op that is not traced"), "\(error)")
        }
    }

    /// A layer type that does nothing for it still appears in summaries and traces and can be
    /// captured by path: calling a layer is what registers it.
    func testANewLayerNeedsNoOptInToBeSeen() throws {
        final class Clipped: Module, Layer {
            func forward(_ input: Tensor) -> Tensor { input.relu6() }
        }
        var generator = SeededGenerator(seed: 1)
        let model = Sequential([Linear(inputFeatures: 4, outputFeatures: 3, generator: &generator), Clipped()])
        let summary = ModelSummary(model: model, inputShape: [1, 4])
        XCTAssertEqual(summary.rows.map(\.kind), ["Linear", "Clipped"])
        XCTAssertEqual(summary.rows.map(\.path), ["0", "1"])
        XCTAssertEqual(FeatureRecorder.capturableShapes(of: model, inputShape: [4])["1"], [3])
        XCTAssertEqual(try ModelGraph.trace(model, inputShape: [4]).ops.map { "\($0.kind) \($0.module)" }, ["linear 0", "relu6 1"])
    }

    /// A graph is data: it survives JSON, and a damaged one is an error when run, never a trap.
    func testGraphRoundTripsThroughJSONAndBadGraphsAreErrors() throws {
        let config = ModelConfig(architecture: .mobilenetV2, width: 0.25)
        let model = try ModelZoo.build(config)
        model.eval()
        let graph = try ModelGraph.trace(model, inputShape: config.inputShape)
        let decoded = try JSONDecoder().decode(ModelGraph.self, from: JSONEncoder().encode(graph))
        XCTAssertEqual(decoded.ops, graph.ops)
        let images = Tensor.zeros([2, 28, 28, 1])
        XCTAssertEqual(try decoded.run(images, tensors: decoded.tensors(of: model)).scalars, withoutGrad { model(images) }.scalars)

        // An op kind this version does not know is an error naming it when the graph is read.
        let json = String(decoding: try JSONEncoder().encode(graph), as: UTF8.self)
        let kind = graph.ops[3].kind.rawValue
        let unknown = json.replacingOccurrences(of: "\"kind\":\"\(kind)\"", with: "\"kind\":\"gelu\"")
        XCTAssertNotEqual(unknown, json)
        XCTAssertThrowsError(try JSONDecoder().decode(ModelGraph.self, from: Data(unknown.utf8))) { error in
            XCTAssertTrue("\(error)".contains("unknown op kind 'gelu'"), "\(error)")
        }
        var missing = graph
        missing.ops[0].attributes["stride"] = nil
        XCTAssertThrowsError(try missing.run(images, tensors: graph.tensors(of: model))) { error in
            XCTAssertTrue("\(error)".contains("attribute 'stride' is missing"), "\(error)")
        }
        XCTAssertThrowsError(try graph.run(images, tensors: [:])) { error in
            XCTAssertTrue("\(error)".contains("no tensor 'features.0.conv.filter'"), "\(error)")
        }
        XCTAssertThrowsError(try graph.run(Tensor.zeros([2, 32, 32, 3]), tensors: graph.tensors(of: model)))
    }
}
