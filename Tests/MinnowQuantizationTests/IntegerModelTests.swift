import MinnowModels
import MinnowNN
import MinnowQuantization
import MinnowTensor
import QuantMath
import XCTest

/// A zoo model with batch-norm statistics away from the identity (so folding matters), in evaluation mode.
func zooModel(_ architecture: ModelConfig.Architecture, inputShape: [Int] = [12, 12, 1], seed: UInt64 = 2) throws -> (any Layer, ModelConfig) {
    let config = ModelConfig(architecture: architecture, width: 0.25, depth: 8, inputShape: inputShape, classes: 10, seed: seed)
    let model = try ModelZoo.build(config)
    var generator = SeededGenerator(seed: seed + 1)
    for (path, buffer) in model.namedBuffers() {
        let (low, high): (Float, Float) = path.hasSuffix("runningVariance") ? (0.5, 2) : (-0.3, 0.3)
        buffer.value = Tensor.randomUniform(buffer.value.shape, low: low, high: high, generator: &generator)
    }
    model.eval()
    return (model, config)
}

/// Post-training quantization to an integer model: every zoo architecture lowers (batch norms
/// folded, activations fused, adds and Fire concatenations rescaled) and its integer logits stay
/// close to the float model's.
final class IntegerModelTests: XCTestCase {
    func testEveryArchitectureQuantizesAndStaysCloseToFloat() throws {
        for architecture in ModelConfig.Architecture.allCases {
            let (model, config) = try zooModel(architecture)
            var generator = SeededGenerator(seed: 3)
            let quantized = try QuantizedModel(model: model, inputShape: config.inputShape)
            try quantized.calibrate((0..<4).map { _ in Tensor.randomNormal([8, 12, 12, 1], generator: &generator) })
            let integer = try IntegerModel(quantized: quantized)
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

            // The fake-quantized model (what QAT trains) computes the same function: its logits
            // are within a few output steps of the integer ones.
            XCTAssertFalse(quantized.isTraining, "a quantized model takes its float model's mode")
            let fake = withoutGrad { quantized(images) }.scalars
            let step = try XCTUnwrap(integer.parameters[integer.graph.output]).scale
            let far = zip(fake, actual).map { abs($0 - $1) / step }.max() ?? 0
            XCTAssertLessThanOrEqual(far, 4, "\(architecture): fake-quantized and integer logits differ by \(far) steps")
        }
    }

    /// The output step: logits are multiples of the output scale around its zero point, that is,
    /// they come from int8 codes.
    /// `logits` are the output codes of `codes` (computed here on the same images, one batch, one
    /// thread's worth) dequantized with the output's parameters, value for value; and they differ
    /// between images (a constant output would pass the first check).
    func testLogitsAreDequantizedCodes() throws {
        let (model, config) = try zooModel(.cnn)
        var generator = SeededGenerator(seed: 1)
        let quantized = try QuantizedModel(model: model, inputShape: config.inputShape)
        try quantized.calibrate([Tensor.randomNormal([8, 12, 12, 1], generator: &generator)])
        let integer = try IntegerModel(quantized: quantized)
        let output = try XCTUnwrap(integer.parameters[integer.graph.output])
        let images = Tensor.randomNormal([3, 12, 12, 1], generator: &generator)
        let codes = try XCTUnwrap(integer.codes(images)[integer.graph.output])
        let logits = integer.logits(images)
        XCTAssertEqual(logits.shape, [3] + integer.graph.valueShapes[integer.graph.output])
        XCTAssertEqual(logits.scalars, codes.map { output.dequantize(Int32($0)) })
        XCTAssertGreaterThan(Set(codes).count, 1, "the output codes vary")
    }

    func testCalibrationOnZeroImagesIsAnError() throws {
        let (model, config) = try zooModel(.cnn)
        let quantized = try QuantizedModel(model: model, inputShape: config.inputShape)
        XCTAssertThrowsError(try quantized.calibrate([])) { error in
            XCTAssertEqual(error as? QuantizationError, .noObservations("calibration (zero images)"))
        }
        XCTAssertThrowsError(try IntegerModel(quantized: quantized), "no value observed yet")
    }

    /// 4-bit weights: every code within [-8, 7] (symmetric: -8 never made), and the layers say so.
    func testFourBitWeights() throws {
        let (model, config) = try zooModel(.mobilenetV2)
        var generator = SeededGenerator(seed: 5)
        let quantized = try QuantizedModel(model: model, inputShape: config.inputShape,
                                           scheme: QuantizationScheme(weightBits: 4, layerWeightBits: ["fc": 8]))
        try quantized.calibrate([Tensor.randomNormal([8, 12, 12, 1], generator: &generator)])
        let integer = try IntegerModel(quantized: quantized)
        for layer in integer.layers {
            let type: QuantizedType = layer.module == "fc" ? .int8 : .int4
            XCTAssertEqual(layer.weightParameters.first?.type, type, layer.module)
            XCTAssertTrue(layer.weight.allSatisfy { Int32($0) >= -type.maximum && Int32($0) <= type.maximum }, layer.module)
        }
        for step in integer.agreement(Tensor.randomNormal([4, 12, 12, 1], generator: &generator)) {
            XCTAssertLessThanOrEqual(step.largest, 1)
        }
    }
}
