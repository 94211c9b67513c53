import MinnowModels
import MinnowNN
import MinnowQuantization
import MinnowRuntime
import MinnowTensor
import QuantMath
import XCTest

/// The runtime running an exported model computes exactly what the training side's integer
/// evaluation computes: every output code equal, for every zoo architecture and op kind (dense,
/// depthwise and pointwise convolutions, linear, residual adds, Fire concatenations, max and
/// global average pooling, fused ReLU/ReLU6), int8 and int4 weights.
final class RuntimeExportTests: XCTestCase {
    func integerModel(_ architecture: ModelConfig.Architecture, weightBits: Int = 8) throws -> IntegerModel {
        let (model, config) = try zooModel(architecture)
        var generator = SeededGenerator(seed: 3)
        let quantized = try QuantizedModel(model: model, inputShape: config.inputShape, scheme: QuantizationScheme(weightBits: weightBits))
        try quantized.calibrate((0..<4).map { _ in Tensor.randomNormal([8, 12, 12, 1], generator: &generator) })
        return try IntegerModel(quantized: quantized)
    }

    func testExportedModelsRunBitExactlyInTheRuntime() throws {
        var generator = SeededGenerator(seed: 8)
        for architecture in ModelConfig.Architecture.allCases {
            for bits in [8, 4] {
                let integer = try integerModel(architecture, weightBits: bits)
                let export = try integer.exportForRuntime()
                let images = Tensor.randomNormal([6, 12, 12, 1], generator: &generator)
                let expected = integer.codes(images)[integer.graph.output]!
                // The fast kernels this CPU has (\(KernelChoice.detected)) and the reference kernels, both exact.
                XCTAssertEqual(try runtimeCodes(export.bytes, images: images), expected, "\(architecture), \(bits)-bit weights, fastest kernels")
                XCTAssertEqual(try runtimeCodes(export.bytes, images: images, kernels: .reference), expected, "\(architecture), reference kernels")
                // The AVX2 kernels (where they apply; the reference elsewhere, and everywhere on a CPU without AVX2).
                XCTAssertEqual(try runtimeCodes(export.bytes, images: images, kernels: .avx2), expected, "\(architecture), AVX2 kernels")
                // The AVX2 kernels with AVX-VNNI GEMMs (as `.avx2` on a CPU without AVX-VNNI).
                XCTAssertEqual(try runtimeCodes(export.bytes, images: images, kernels: .avxVNNI), expected, "\(architecture), AVX-VNNI kernels")
                XCTAssertLessThanOrEqual(export.arena.size, export.arena.lowerBound * 11 / 10 + 16, "\(architecture): arena near its lower bound")
                let model = try export.bytes.withUnsafeBytes { try RuntimeModel(bytes: $0) }
                XCTAssertEqual(model.multiplyAccumulates, integer.graph.totalMACs)
                XCTAssertEqual(model.arenaSize, export.arena.size)
            }
        }
    }

    /// A ResNet's ReLU after each residual add is the add's own clamp in the file (one operator
    /// and one pass fewer); nothing reads the add's output besides it, and the codes stay exact
    /// (the test above).
    func testTheReLUAfterAResidualAddIsTheAddsClamp() throws {
        let integer = try integerModel(.resnet)
        let bytes = try integer.exportForRuntime().bytes
        let model = try bytes.withUnsafeBytes { try RuntimeModel(bytes: $0) }
        let adds = model.operators.filter { $0.code == .add }, clamps = model.operators.filter { $0.code == .clamp }
        XCTAssertFalse(adds.isEmpty)
        let addOutputs = Set(adds.map { $0.tensors.writes[0] })
        XCTAssertTrue(clamps.allSatisfy { !addOutputs.contains($0.tensors.reads[0]) }, "a clamp still reads an add's output")
        // The traced graph has a ReLU after every add; each add clamps below at its output's zero point.
        XCTAssertTrue(adds.allSatisfy { $0.arguments[9] > -128 }, "an add without the ReLU's lower bound: \(adds.map { $0.arguments[9] })")
    }
}

/// Runs `bytes` in the runtime on each image and returns the output codes.
func runtimeCodes(_ bytes: [UInt8], images: Tensor, kernels: KernelChoice = .fastest) throws -> [Int8] {
    try bytes.withUnsafeBytes { raw in
        let model = try RuntimeModel(bytes: raw)
        let interpreter = try Interpreter(model: model, kernels: kernels)
        let size = images.count / images.shape[0], values = images.scalars
        var result: [Int8] = []
        for n in 0..<images.shape[0] {
            let input = interpreter.input
            for i in 0..<size { input[i] = Int8(interpreter.inputParameters.quantize(values[n * size + i])) }
            interpreter.invoke()
            result += Array(interpreter.output)
        }
        return result
    }
}
