import MinnowModels
import MinnowNN
import MinnowQuantization
import MinnowTensor
import QuantMath
import XCTest

/// Quantization-aware training: the fake-quantized graph trains the float model's parameters,
/// folds batch norms as PyTorch's ConvBn QAT modules do, freezes on schedule, learns LSQ steps,
/// and rejects what it cannot quantize.
final class QuantizedModelTests: XCTestCase {
    func images(_ count: Int, seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor.randomNormal([count, 12, 12, 1], generator: &generator)
    }

    /// Before the freeze, a training step normalizes with the batch's statistics: the output is
    /// the float model's training-mode output up to quantization noise, and the batch norms'
    /// running statistics move as the float model's do. (The ranges follow each batch entirely,
    /// averaging constant 1: the calibrated ones come from evaluation mode, whose running
    /// statistics are random here.)
    func testTrainingModeUsesBatchStatisticsAndUpdatesRunningOnes() throws {
        for architecture in [ModelConfig.Architecture.resnet, .mobilenetV2, .squeezenet] {
            let (model, config) = try zooModel(architecture)
            let (twin, _) = try zooModel(architecture)
            let quantized = try QuantizedModel(model: model, inputShape: config.inputShape, scheme: QuantizationScheme(averagingConstant: 1, freezeBatchNormAfter: 1))
            try quantized.calibrate([images(16, seed: 1)])
            twin.train()
            quantized.train()
            let x = images(16, seed: 2)
            let float = withoutGrad { twin(x) }.scalars, fake = withoutGrad { quantized(x) }.scalars
            let spread = (float.max() ?? 0) - (float.min() ?? 0)
            let mean = zip(float, fake).map { abs($0 - $1) }.reduce(0, +) / Float(float.count)
            XCTAssertLessThan(mean, 0.05 * spread, "\(architecture): training-mode QAT output off by \(mean) on average, of a spread \(spread)")
            let after = Dictionary(uniqueKeysWithValues: model.namedBuffers().map { ($0.path, $0.buffer.value.scalars) })
            for (path, buffer) in twin.namedBuffers() {
                let moved = zip(after[path]!, buffer.value.scalars).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(moved, 0.1, "\(architecture): \(path) did not move as the float model's")
            }
            // Frozen (step 1 reached): the running statistics stay, and training mode computes what evaluation does.
            let frozen = model.namedBuffers().map(\.buffer.value.scalars)
            let trainingOutput = withoutGrad { quantized(x) }.scalars
            XCTAssertEqual(model.namedBuffers().map(\.buffer.value.scalars), frozen, "\(architecture): frozen batch norms moved")
            XCTAssertEqual(quantized.stepCount, 2)
            quantized.eval()
            XCTAssertEqual(withoutGrad { quantized(x) }.scalars.count, trainingOutput.count)
        }
    }

    /// With both freezes at step 0 there is nothing left that depends on the mode: a training
    /// forward pass equals an evaluation one bit for bit (no dropout in QAT).
    func testFrozenTrainingEqualsEvaluation() throws {
        let (model, config) = try zooModel(.mobilenetV2)
        let quantized = try QuantizedModel(model: model, inputShape: config.inputShape,
                                           scheme: QuantizationScheme(freezeObserversAfter: 0, freezeBatchNormAfter: 0))
        try quantized.calibrate([images(8, seed: 3)])
        let x = images(4, seed: 4)
        quantized.eval()
        let evaluation = withoutGrad { quantized(x) }.scalars
        quantized.train()
        XCTAssertEqual(withoutGrad { quantized(x) }.scalars, evaluation)
    }

    /// Observers move by the averaging constant while training, and stop at their freeze step.
    func testObserversMoveThenFreeze() throws {
        let (model, config) = try zooModel(.cnn)
        let quantized = try QuantizedModel(model: model, inputShape: config.inputShape,
                                           scheme: QuantizationScheme(averagingConstant: 0.5, freezeObserversAfter: 1))
        try quantized.calibrate([images(8, seed: 5)])
        let before = quantized.ranges[0].value.scalars
        quantized.train()
        let x = images(8, seed: 6).scaled(by: 3)
        _ = withoutGrad { quantized(x) }
        let after = quantized.ranges[0].value.scalars
        let (low, high) = (x.scalars.min()!, x.scalars.max()!)
        XCTAssertEqual(after[0], before[0] + 0.5 * (low - before[0]), accuracy: 1e-6)
        XCTAssertEqual(after[1], before[1] + 0.5 * (high - before[1]), accuracy: 1e-6)
        XCTAssertEqual(after[2], 2)
        _ = withoutGrad { quantized(x.scaled(by: 2)) }
        XCTAssertEqual(quantized.ranges[0].value.scalars, after, "frozen after step 1")
    }

    /// A backward pass reaches every parameter of the float model (batch-norm scales and offsets
    /// through the folding), and with LSQ every step size.
    func testGradientsReachEveryParameter() throws {
        for method in QuantizationScheme.Method.allCases {
            let (model, config) = try zooModel(.mobilenetV2)
            let quantized = try QuantizedModel(model: model, inputShape: config.inputShape, scheme: QuantizationScheme(method: method))
            try quantized.calibrate([images(8, seed: 7)])
            quantized.train()
            let loss = crossEntropy(logits: quantized(images(8, seed: 8)), labels: [0, 1, 2, 3, 4, 5, 6, 7])
            loss.backward()
            for (path, parameter) in quantized.namedParameters() {
                let gradient = try XCTUnwrap(parameter.grad, "\(method): \(path) has no gradient")
                XCTAssertTrue(gradient.scalars.allSatisfy(\.isFinite), "\(method): \(path)")
                XCTAssertTrue(gradient.scalars.contains { $0 != 0 }, "\(method): \(path) has a zero gradient")
            }
            XCTAssertEqual(quantized.namedParameters().contains { $0.path.hasPrefix("weightSteps") }, method == .lsq)
        }
    }

    /// LSQ starts from calibration: activation steps equal the calibrated scales (zero points kept),
    /// weight steps are 2·mean|w|/sqrt(Qp) per channel; the integer model then uses exactly them.
    func testLSQInitializationAndIntegerForm() throws {
        let (model, config) = try zooModel(.resnet)
        let quantized = try QuantizedModel(model: model, inputShape: config.inputShape, scheme: QuantizationScheme(method: .lsq))
        try quantized.calibrate([images(8, seed: 9)])
        for (slot, value) in quantized.plan.quantizedValues.enumerated() {
            let range = quantized.ranges[slot].value.scalars
            XCTAssertEqual(quantized.parameters(ofValue: value), .asymmetric(minimum: range[0], maximum: range[1]))
        }
        let integer = try IntegerModel(quantized: quantized)
        XCTAssertEqual(integer.layers.count, quantized.weightSteps.count)
        for (layer, steps) in zip(integer.layers, quantized.weightSteps) {
            XCTAssertEqual(layer.weightParameters.map(\.scale), steps.value.scalars, layer.module)
        }
        for step in integer.agreement(images(4, seed: 10)) { XCTAssertLessThanOrEqual(step.largest, 1) }
    }

    /// Everything a user can get wrong is a typed error naming the problem.
    func testBadInput() throws {
        var generator = SeededGenerator(seed: 0)
        // Average pooling has no integer form (sigmoid and the other activations do: lookup tables).
        let poolingModel = Sequential([
            Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: (3, 3), generator: &generator), AvgPool2D(kernelSize: 2), Flatten(),
        ])
        XCTAssertThrowsError(try QuantizedModel(model: poolingModel, inputShape: [6, 6, 1])) { error in
            guard case .unsupportedLayer(let path, let detail)? = error as? QuantizationError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "1")
            XCTAssertTrue(detail.contains("avg_pool2d"), detail)
        }
        let (model, config) = try zooModel(.cnn)
        for scheme in [QuantizationScheme(weightBits: 3), QuantizationScheme(layerWeightBits: ["fc": 16]),
                       QuantizationScheme(layerWeightBits: ["no.such.layer": 4]), QuantizationScheme(averagingConstant: 0),
                       QuantizationScheme(freezeObserversAfter: -1)] {
            XCTAssertThrowsError(try QuantizedModel(model: model, inputShape: config.inputShape, scheme: scheme)) { error in
                guard case .invalidScheme? = error as? QuantizationError else { return XCTFail("\(error)") }
            }
        }
    }

    /// An all-zero weight channel (a pruned filter) gets the minimum scale, not 0, NaN or infinity,
    /// and quantizes to zeros.
    func testAllZeroChannelHasAValidScale() throws {
        let (model, config) = try zooModel(.cnn)
        let filter = try XCTUnwrap(model.namedParameters().first { $0.path.hasSuffix("filter") }?.parameter)
        let channels = filter.shape.last!
        filter.assign(Tensor(shape: filter.shape, scalars: filter.value.scalars.enumerated().map { $0.offset % channels == 0 ? 0 : $0.element }))
        let quantized = try QuantizedModel(model: model, inputShape: config.inputShape)
        try quantized.calibrate([images(4, seed: 11)])
        let layer = try XCTUnwrap(IntegerModel(quantized: quantized).layers.first)
        XCTAssertEqual(layer.weightParameters[0].scale, QuantizationParameters.minimumScale)
        XCTAssertTrue(layer.weightParameters.allSatisfy { $0.scale.isFinite && $0.scale > 0 })
        XCTAssertTrue(stride(from: 0, to: layer.weight.count, by: channels).allSatisfy { layer.weight[$0] == 0 })
        XCTAssertTrue(withoutGrad { quantized(images(2, seed: 12)) }.scalars.allSatisfy(\.isFinite))
    }
}
