import MinnowModels
import MinnowNN
import MinnowQuantization
import MinnowRuntime
import MinnowTensor
import QuantMath
import XCTest

/// Activations that are no clamp (SiLU, sigmoid, tanh, hardswish, leaky ReLU) end to end: a
/// model using one is described and rebuilt, quantized (a 256-entry table of codes in QAT's own
/// arithmetic), evaluated in integers, exported, and run in the runtime bit for bit on every
/// kernel level.
final class LookupActivationTests: XCTestCase {
    static let functions: [ActivationFunction] = [.silu, .sigmoid, .tanh, .hardswish, .leakyRelu]

    /// conv 3x3 + BN + f, conv 1x1 + f, global average pooling, linear.
    func model(_ function: ActivationFunction, seed: UInt64 = 4) -> Sequential {
        var generator = SeededGenerator(seed: seed)
        let model = Sequential([
            Conv2D(1, 8, kernelSize: 3, generator: &generator), BatchNorm(channels: 8), Activation(function),
            Conv2D(8, 8, kernelSize: 1, generator: &generator), Activation(function),
            GlobalAvgPool2D(), Linear(inputFeatures: 8, outputFeatures: 10, generator: &generator),
        ])
        model.eval()
        return model
    }

    func testDescriptionRebuildsTheModel() throws {
        for function in Self.functions {
            let original = model(function)
            let description = try LayerDescription(describing: original)
            var generator = SeededGenerator(seed: 1)
            let rebuilt = try LayerRegistry.core.build(description, generator: &generator)
            for ((path, a), (_, b)) in zip(original.namedParameters(), rebuilt.namedParameters()) { b.assign(a.value); _ = path }
            rebuilt.eval()
            let x = Tensor.randomNormal([2, 6, 6, 1], generator: &generator)
            XCTAssertEqual(rebuilt(x).scalars, original(x).scalars, "\(function)")
            let graph = try ModelGraph.trace(original, inputShape: [6, 6, 1])
            XCTAssertEqual(graph.ops.filter { $0.kind.activation == function }.count, 2, "\(function) traced")
        }
    }

    func testIntegerModelEqualsFakeQuantizationAndTheRuntimeEqualsIt() throws {
        var generator = SeededGenerator(seed: 11)
        for function in Self.functions {
            let quantized = try QuantizedModel(model: model(function), inputShape: [12, 12, 1])
            try quantized.calibrate((0..<3).map { _ in Tensor.randomNormal([8, 12, 12, 1], generator: &generator) })
            quantized.eval()
            let integer = try IntegerModel(quantized: quantized)
            let images = Tensor.randomNormal([5, 12, 12, 1], generator: &generator)
            // The tables are fake quantization's own values for each code: the integer logits stay
            // within one output step of the quantized model's.
            let step = integer.parameters[integer.graph.output]!.scale
            for (a, b) in zip(integer.logits(images).scalars, withoutGrad { quantized(images) }.scalars) {
                XCTAssertLessThanOrEqual(abs(a - b), step * 1.001, "\(function)")
            }
            let export = try integer.exportForRuntime()
            let runtime = try export.bytes.withUnsafeBytes { try RuntimeModel(bytes: $0) }
            XCTAssertEqual(runtime.operations.filter { if case .lookupTable = $0 { true } else { false } }.count, 2, "\(function): two tables")
            let expected = integer.codes(images)[integer.graph.output]!
            for kernels in [KernelChoice.fastest, .avxVNNI, .avx2, .reference] {
                XCTAssertEqual(try runtimeCodes(export.bytes, images: images, kernels: kernels), expected, "\(function), \(kernels)")
            }
        }
    }

    /// The table maps every input code as the float function does (SiLU at codes of -4, 0 and 4).
    func testSiLUTableValues() throws {
        let quantized = try QuantizedModel(model: model(.silu), inputShape: [12, 12, 1])
        var generator = SeededGenerator(seed: 2)
        try quantized.calibrate([Tensor.randomNormal([8, 12, 12, 1], generator: &generator)])
        let integer = try IntegerModel(quantized: quantized)
        let graph = integer.graph
        let silu = try XCTUnwrap(graph.ops.first { $0.kind == .silu })
        guard case .value(let inputValue)? = silu.operands["input"] else { return XCTFail("no input value") }
        let (input, output) = (try XCTUnwrap(integer.parameters[inputValue]), try XCTUnwrap(integer.parameters[silu.output]))
        let images = Tensor.randomNormal([2, 12, 12, 1], generator: &generator)
        let codes = integer.codes(images)
        for (x, y) in zip(codes[inputValue]!, codes[silu.output]!) {
            let real = Double(input.dequantize(Int32(x)))
            let expected = output.quantize(Float(real / (1 + Foundation.exp(-real))))
            XCTAssertLessThanOrEqual(abs(Int(expected) - Int(y)), 1, "SiLU of code \(x)")
        }
    }
}
