// Loads a .mnw model (the path given, or a small one built here with the runtime's own writer),
// runs it on a few synthetic images and prints the predicted classes. Uses MinnowRuntime only
// (and QuantMath, which it is built on).
#if canImport(Glibc)
import Glibc
#endif
import MinnowRuntime
import QuantMath

/// A tiny valid model: a 3x3 convolution to 8 channels (ReLU fused), global average pooling, a linear layer to 3 classes.
func tinyModel() throws -> [UInt8] {
    var writer = ModelWriter()
    let input = writer.addActivation(shape: [6, 6, 1], parameters: QuantizationParameters(scale: 0.02, zeroPoint: 0))
    let filter = writer.addConstant(type: .int8, shape: [3, 3, 1, 8], parameters: QuantizationParameters(scale: 1, zeroPoint: 0),
                                    bytes: (0..<72).map { UInt8(bitPattern: Int8(truncatingIfNeeded: $0 * 37 % 61 - 30)) })
    let bias = writer.addConstant(Array(repeating: 0, count: 8))
    let m = FixedPointMultiplier(0.01)
    let conv = writer.addActivation(shape: [6, 6, 8], parameters: QuantizationParameters(scale: 0.05, zeroPoint: -128))
    let (multipliers, shifts) = (writer.addConstant(Array(repeating: m.multiplier, count: 8)), writer.addConstant(Array(repeating: m.shift, count: 8)))
    writer.addOperator(.convolution(Convolution(input: input, filter: filter, bias: bias, multipliers: multipliers, shifts: shifts, output: conv,
                                                stride: Extent(1, 1), padding: Extent(1, 1), dilation: Extent(1, 1), groups: 1,
                                                clamp: CodeRange(minimum: -128, maximum: 127))))
    let pooled = writer.addActivation(shape: [8], parameters: QuantizationParameters(scale: 0.05, zeroPoint: -128))
    let g = FixedPointMultiplier(1.0 / 36)
    writer.addOperator(.globalAveragePool(GlobalAveragePool(input: conv, output: pooled, multiplier: g)))
    let weight = writer.addConstant(type: .int8, shape: [8, 3], parameters: QuantizationParameters(scale: 1, zeroPoint: 0),
                                    bytes: (0..<24).map { UInt8(bitPattern: Int8($0 % 7 - 3)) })
    let f = FixedPointMultiplier(0.05)
    let logits = writer.addActivation(shape: [3], parameters: QuantizationParameters(scale: 0.1, zeroPoint: 0))
    let (fcBias, fcMultipliers, fcShifts) = (writer.addConstant([5, -5, 0]), writer.addConstant(Array(repeating: f.multiplier, count: 3)),
                                             writer.addConstant(Array(repeating: f.shift, count: 3)))
    writer.addOperator(.fullyConnected(FullyConnected(input: pooled, weight: weight, bias: fcBias, multipliers: fcMultipliers, shifts: fcShifts,
                                                      output: logits, clamp: CodeRange(minimum: -128, maximum: 127))))
    return try writer.serialize(input: input, output: logits, multiplyAccumulates: 6 * 6 * 9 * 8 + 24).bytes
}

func readFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    return bytes
}

let arguments = CommandLine.arguments
do {
    guard let bytes = arguments.count > 1 ? readFile(arguments[1]) : try tinyModel() else {
        print("cannot read \(arguments[1])")
        exit(1)
    }
    try bytes.withUnsafeBytes { raw in
        let model = try RuntimeModel(bytes: raw)
        let interpreter = try Interpreter(model: model)
        var predictions: [Int] = []
        for image in 0..<4 {
            for i in 0..<interpreter.input.count { interpreter.input[i] = Int8(truncatingIfNeeded: (i * 7 + image * 31) % 97 - 48) }
            interpreter.invoke()
            predictions.append(interpreter.argmax)
        }
        print("RuntimeDemo: \(model.tensors.count) tensors, \(model.operators.count) operators, arena \(model.arenaSize) bytes, kernels \(KernelChoice.detected); predictions \(predictions)")
    }
} catch {
    print("RuntimeDemo: \(error)")
    exit(1)
}
