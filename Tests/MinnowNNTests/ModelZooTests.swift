import MinnowModels
import MinnowNN
import MinnowTensor
import MinnowTestSupport
import XCTest

final class ModelZooTests: XCTestCase {
    /// The presets reproduce shared/peers/models.py: parameters and MACs (conv + linear) per image.
    func testPresetsMatchPeerReferenceModels() throws {
        let expected: [(String, Int, Int)] = [
            ("teacher", 696_042, 80_508_672), ("student_mbv2", 148_186, 8_336_480), ("student_squeeze", 89_866, 6_272_000),
        ]
        for (name, parameters, macs) in expected {
            let model = try ModelZoo.build(ModelConfig.preset(name)!)
            XCTAssertEqual(model.parameterCount, parameters, name)
            let summary = ModelSummary(model: model, inputShape: [1, 28, 28, 1])
            XCTAssertEqual(summary.totalMACs, macs, name)
            XCTAssertEqual(summary.rows.last?.outputShape, [10], name)
        }
    }

    func testEveryArchitectureBuildsForBothInputFormats() throws {
        for architecture in ModelConfig.Architecture.allCases {
            for inputShape in [[28, 28, 1], [32, 32, 3]] {
                let config = ModelConfig(architecture: architecture, width: 0.5, depth: 8, inputShape: inputShape, classes: 10)
                let model = try ModelZoo.build(config)
                let output = withoutGrad { model(Tensor.zeros([2] + inputShape)) }
                XCTAssertEqual(output.shape, [2, 10], "\(architecture) \(inputShape)")
            }
        }
    }

    func testWidthMultiplierScalesMobileNetV2() throws {
        let half = try ModelZoo.build(ModelConfig(architecture: .mobilenetV2, width: 0.5))
        let full = try ModelZoo.build(ModelConfig(architecture: .mobilenetV2, width: 1))
        XCTAssertEqual(half.parameterCount, 148_186)
        XCTAssertGreaterThan(full.parameterCount, 3 * half.parameterCount)
    }

    func testInvalidConfigsGiveClearErrors() {
        XCTAssertThrowsError(try ModelZoo.build(ModelConfig(architecture: .resnet, depth: 15))) { error in
            XCTAssertTrue("\(error)".contains("6n+2"), "\(error)")
        }
        XCTAssertThrowsError(try ModelZoo.build(ModelConfig(architecture: .cnn, width: 0))) { error in
            XCTAssertTrue("\(error)".contains("width"), "\(error)")
        }
        XCTAssertNil(ModelConfig.preset("resnet9000"))
    }

    func testParametersAndBuffersHaveDottedPaths() throws {
        let model = try ModelZoo.build(ModelConfig.preset("teacher")!)
        let paths = model.namedParameters().map(\.path)
        XCTAssertEqual(paths.first, "stem.conv.filter")
        XCTAssertTrue(paths.contains("layers.2.shortcut.0.filter"), "\(paths.prefix(20))")
        XCTAssertEqual(Set(paths).count, paths.count, "paths are unique")
        let buffers = model.namedBuffers().map(\.path)
        XCTAssertTrue(buffers.contains("stem.bn.runningMean"))
    }

    func testTrainEvalModeReachesEveryModule() throws {
        let model = try ModelZoo.build(ModelConfig.preset("student_mbv2")!)
        model.eval()
        var modes: [Bool] = []
        model.visitModules { _, module in modes.append(module.isTraining) }
        XCTAssertFalse(modes.contains(true))
        model.train()
        model.visitModules { _, module in XCTAssertTrue(module.isTraining) }
    }

    /// Every block's gradients, with respect to its input and to every parameter, against central
    /// differences, in evaluation mode (batch norm with running statistics) and in training mode
    /// (batch statistics, whose gradient flows through the mean and variance).
    func testBlocksGradientCheck() {
        for training in [false, true] {
            var generator = SeededGenerator(seed: 3)
            let blocks: [any Layer] = [
                BasicBlock(inputChannels: 3, outputChannels: 4, stride: 2, generator: &generator),
                InvertedResidual(inputChannels: 4, outputChannels: 4, stride: 1, expansion: 2, generator: &generator),
                DepthwiseSeparableBlock(inputChannels: 3, outputChannels: 5, stride: 1, generator: &generator),
                FireModule(inputChannels: 3, squeezeChannels: 2, expand1x1Channels: 3, expand3x3Channels: 3, generator: &generator),
            ]
            for block in blocks {
                randomizeBatchNorms(block, generator: &generator)
                if training { block.train() } else { block.eval() }
                let channels = (block as? InvertedResidual) != nil ? 4 : 3
                let x = Tensor.randomNormal([2, 5, 5, channels], generator: &generator)
                GradientCheck.check([x], step: 1e-3, rtol: 5e-2, atol: 5e-3) { block($0[0]) }
                checkParameterGradients(block, x, label: "\(type(of: block)) (\(training ? "training" : "eval"))")
            }
        }
    }

    /// Gives every batch norm of `block` random scales, offsets and running statistics. Besides
    /// testing more than the identity, this keeps the check away from ReLU's kink: with the initial
    /// values, an all-zero input (all channels cut by the previous ReLU) gives exactly 0 after a
    /// bias-free convolution and batch norm, where the one-sided derivatives of ReLU differ.
    private func randomizeBatchNorms(_ block: any Layer, generator: inout SeededGenerator) {
        for (path, parameter) in block.namedParameters() where path.hasSuffix(".scale") || path.hasSuffix(".offset") {
            let (low, high): (Float, Float) = path.hasSuffix(".scale") ? (0.5, 1.5) : (-0.5, 0.5)
            parameter.assign(Tensor.randomUniform(parameter.shape, low: low, high: high, generator: &generator))
        }
        for (path, buffer) in block.namedBuffers() {
            let (low, high): (Float, Float) = path.hasSuffix("runningVariance") ? (0.5, 1.5) : (-0.3, 0.3)
            buffer.value = Tensor.randomUniform(buffer.value.shape, low: low, high: high, generator: &generator)
        }
    }

    /// Compares the gradient of `sum(block(x) * w)` (fixed random `w`) with respect to each element
    /// of each parameter with `(L(p + h) - L(p - h)) / 2h`, perturbing the parameter in place.
    ///
    /// A ReLU input within `h` of 0 (a kink) makes that difference meaningless. Such an element is
    /// recognized because the differences at `h` and `h / 4` disagree (away from kinks both agree
    /// to float precision); it is counted and not compared. At most 1 in 8 elements may be so (one
    /// ReLU input near 0 makes every parameter that reaches it through batch statistics, a whole
    /// channel's filter, uncheckable at once).
    private func checkParameterGradients(_ block: any Layer, _ x: Tensor, step: Float = 1e-3, rtol: Double = 5e-2,
                                         atol: Double = 5e-3, label: String, line: UInt = #line) {
        var generator = SeededGenerator(seed: 11)
        let weights = Tensor.randomUniform(withoutGrad { block(x) }.shape, low: 0.5, high: 1.5, generator: &generator)
        let weightValues = weights.scalars.map(Double.init)
        func loss() -> Double {
            zip(withoutGrad { block(x) }.scalars, weightValues).reduce(0) { $0 + Double($1.0) * $1.1 }
        }
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= atol + rtol * abs(b) }
        block.zeroGrad()
        (block(x) * weights).sum().backward()
        let parameters = block.namedParameters()
        XCTAssertFalse(parameters.isEmpty, label)
        var (checked, atKinks) = (0, 0)
        for (path, parameter) in parameters {
            guard let analytic = parameter.grad?.scalars else {
                XCTFail("\(label) \(path): no gradient reached it", line: line)
                continue
            }
            let values = parameter.value.scalars
            func difference(_ h: Float, at element: Int) -> Double {
                parameter.update { p, _ in p[element] = values[element] + h }
                let plus = loss()
                parameter.update { p, _ in p[element] = values[element] - h }
                let minus = loss()
                parameter.update { p, _ in p[element] = values[element] }
                return (plus - minus) / (2 * Double(h))
            }
            for element in values.indices {
                let (coarse, fine) = (difference(step, at: element), difference(step / 4, at: element))
                guard close(coarse, fine) else { atKinks += 1; continue }
                checked += 1
                guard close(Double(analytic[element]), fine) else {
                    XCTFail("\(label) \(path) element \(element): analytic \(analytic[element]) vs numeric \(fine)", line: line)
                    return
                }
            }
        }
        XCTAssertLessThanOrEqual(atKinks * 8, checked + atKinks, "\(label): \(atKinks) of \(checked + atKinks) elements at a kink", line: line)
    }
}
