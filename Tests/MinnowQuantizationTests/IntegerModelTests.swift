import MinnowModels
import MinnowNN
import MinnowQuantization
import MinnowTensor
import QuantMath
import XCTest

/// Post-training quantization to an integer model: every zoo architecture lowers (batch norms
/// folded, activations fused, adds and Fire concatenations rescaled) and its integer logits stay
/// close to the float model's.
final class IntegerModelTests: XCTestCase {
    func testEveryArchitectureQuantizesAndStaysCloseToFloat() throws {
        for architecture in ModelConfig.Architecture.allCases {
            let config = ModelConfig(architecture: architecture, width: 0.25, depth: 8, inputShape: [12, 12, 1], classes: 10, seed: 2)
            let model = try ModelZoo.build(config)
            var generator = SeededGenerator(seed: 3)
            for (path, buffer) in model.namedBuffers() {  // batch norm statistics away from the identity
                let (low, high): (Float, Float) = path.hasSuffix("runningVariance") ? (0.5, 2) : (-0.3, 0.3)
                buffer.value = Tensor.randomUniform(buffer.value.shape, low: low, high: high, generator: &generator)
            }
            model.eval()
            let graph = try ModelGraph.trace(model, inputShape: config.inputShape)
            let tensors = graph.tensors(of: model)
            let calibration = try Calibration(graph: graph, tensors: tensors,
                                              batches: (0..<4).map { _ in Tensor.randomNormal([8, 12, 12, 1], generator: &generator) })
            XCTAssertEqual(calibration.images, 32)
            let integer = try IntegerModel(graph: graph, tensors: tensors, calibration: calibration)
            let images = Tensor.randomNormal([16, 12, 12, 1], generator: &generator)
            let expected = withoutGrad { model(images) }.scalars
            let actual = integer.logits(images).scalars
            let spread = (expected.max() ?? 0) - (expected.min() ?? 0)
            let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 0.03 * spread, "\(architecture): largest logit error \(worst) of a spread \(spread)")

            // Step by step, the integer result and fake quantization of the same step differ by at most one code.
            let agreement = integer.agreement(images)
            XCTAssertFalse(agreement.isEmpty)
            for step in agreement {
                XCTAssertLessThanOrEqual(step.largest, 1, "\(architecture): \(step.kind) %\(step.output): \(step.differing) of \(step.count) differ")
            }
            let (differing, count) = agreement.reduce((0, 0)) { ($0.0 + $1.differing, $0.1 + $1.count) }
            print("\(architecture): \(differing) of \(count) output codes differ by one step from fake quantization")
        }
    }

    /// The output step: logits are multiples of the output scale around its zero point, that is,
    /// they come from int8 codes.
    func testLogitsAreDequantizedCodes() throws {
        let config = ModelConfig(architecture: .cnn, width: 0.25, inputShape: [12, 12, 1], classes: 4)
        let model = try ModelZoo.build(config)
        let graph = try ModelGraph.trace(model, inputShape: config.inputShape)
        var generator = SeededGenerator(seed: 1)
        let calibration = try Calibration(graph: graph, tensors: graph.tensors(of: model),
                                          batches: [Tensor.randomNormal([8, 12, 12, 1], generator: &generator)])
        let integer = try IntegerModel(graph: graph, tensors: graph.tensors(of: model), calibration: calibration)
        let output = try XCTUnwrap(integer.parameters[graph.output])
        for logit in integer.logits(Tensor.randomNormal([3, 12, 12, 1], generator: &generator)).scalars {
            XCTAssertEqual(output.dequantize(output.quantize(logit)), logit)
        }
    }

    func testCalibrationOnZeroImagesIsAnError() throws {
        let config = ModelConfig(architecture: .cnn, width: 0.25, inputShape: [12, 12, 1], classes: 4)
        let model = try ModelZoo.build(config)
        let graph = try ModelGraph.trace(model, inputShape: config.inputShape)
        XCTAssertThrowsError(try Calibration(graph: graph, tensors: graph.tensors(of: model), batches: [])) { error in
            XCTAssertEqual(error as? QuantizationError, .noObservations("calibration (zero images)"))
        }
    }
}
