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

    func testBlocksGradientCheck() {
        var generator = SeededGenerator(seed: 3)
        let blocks: [any Layer] = [
            BasicBlock(inputChannels: 3, outputChannels: 4, stride: 2, generator: &generator),
            InvertedResidual(inputChannels: 4, outputChannels: 4, stride: 1, expansion: 2, generator: &generator),
            DepthwiseSeparableBlock(inputChannels: 3, outputChannels: 5, stride: 1, generator: &generator),
            FireModule(inputChannels: 3, squeezeChannels: 2, expand1x1Channels: 3, expand3x3Channels: 3, generator: &generator),
        ]
        for block in blocks {
            block.eval()  // running statistics make the check a fixed function
            let channels = (block as? InvertedResidual) != nil ? 4 : 3
            let x = Tensor.randomNormal([2, 5, 5, channels], generator: &generator)
            GradientCheck.check([x], step: 1e-3, rtol: 5e-2, atol: 5e-3) { block($0[0]) }
        }
    }
}
