import CRuntimeKernels
import QuantMath

/// A fully connected layer: the input's codes (any shape, flattened in row-major order, that is
/// NHWC) times a weight `[inputs, outputs]` (IO; int8 or int4 packed), requantized per output with
/// fixed-point multipliers. Arguments `[input, weight, bias, multipliers, shifts, output, min, max]`;
/// versions 2 and 3 store one channel-parameters tensor in place of bias, multipliers and shifts.
public struct FullyConnected: RuntimeOperator {
    static let code = OperatorCode.fullyConnected
    /// Arguments in memory (and version 1 files); versions 2 and 3 have two fewer.
    static let argumentCount = 8
    public var input: Int, weight: Int, bias: Int, multipliers: Int, shifts: Int, output: Int
    public var clamp: CodeRange

    public init(input: Int, weight: Int, bias: Int, multipliers: Int, shifts: Int, output: Int, clamp: CodeRange) {
        (self.input, self.weight, self.bias, self.multipliers, self.shifts, self.output) = (input, weight, bias, multipliers, shifts, output)
        self.clamp = clamp
    }

    init(arguments: [Int32]) throws(OperatorArgumentError) {
        let a = try Self.checked(arguments, count: Self.argumentCount)
        self.init(input: a[0], weight: a[1], bias: a[2], multipliers: a[3], shifts: a[4], output: a[5],
                  clamp: CodeRange(minimum: arguments[6], maximum: arguments[7]))
    }

    var arguments: [Int32] {
        [input, weight, bias, multipliers, shifts, output].map { Int32(truncatingIfNeeded: $0) } + [clamp.minimum, clamp.maximum]
    }

    static func tensorPositions(_ arguments: [Int32]) -> (reads: [Int], writes: [Int]) {
        channelLayerPositions(arguments, output: 5, fullCount: argumentCount)
    }

    func validate(_ v: inout OperatorValidation) throws(ModelFormatError) {
        let x = try v.activationInput(input), w = try v.constant(weight, [.int8, .int4])
        guard w.shape.count == 2, w.shape[0] == x.elementCount else { throw v.fail("weight \(w.shape) for \(x.elementCount) inputs") }
        let b = try v.constant(bias, [.int32])
        guard b.shape == [w.shape[1]] else { throw v.fail("bias shape \(b.shape)") }
        try v.channelMultipliers(multipliers, shifts, channels: w.shape[1])
        try v.accumulatorsFit(weights: weight, bias: bias, outputs: w.shape[1], inputZeroPoint: x.parameters.zeroPoint)
        let out = try v.activationOutput(output)
        guard out.elementCount == w.shape[1] else { throw v.fail("output \(out.shape) for \(w.shape[1]) outputs") }
        try v.clamp(clamp)
        try v.addWork(w.shape[0], w.shape[1])
    }

    func prepare(_ p: OperatorPreparation) -> PreparedKernel {
        let w = p.model.tensors[weight].shape
        if let kernels = p.kernels,
           let fast = GEMMPreparation(input: input, weight: weight, bias: bias, multipliers: multipliers, shifts: shifts, output: output, clamp: clamp)
               .prepare(p, kernels.pointee, rows: 1, inputs: w[0], outputs: w[1]) {
            return fast
        }
        let requantization = Requantization(multipliers: p.multipliers(multipliers, shifts), outputZeroPoint: p.parameters(output).zeroPoint,
                                            minimum: clamp.minimum, maximum: clamp.maximum)
        let (codes, zeroPoint, weights, biases, out) = (UnsafeBufferPointer(p.codes(input)), p.parameters(input).zeroPoint, p.int8s(weight),
                                                        p.int32s(bias), p.codes(output))
        return {
            ReferenceKernels.fullyConnected(rows: 1, inputs: w[0], outputs: w[1], input: codes, inputZeroPoint: zeroPoint, weight: weights,
                                            bias: biases, requantization: requantization, output: out)
        }
    }

    func summary(_ model: RuntimeModel) -> (description: String, multiplyAccumulates: Int) {
        let w = model.tensors[weight].shape
        return ("fully connected -> \(model.tensors[output].shape.map(String.init).joined(separator: "x"))", w[0] * w[1])
    }
}

extension ReferenceKernels {
    /// A fully connected layer, `weight` `[inputs, outputs]` (IO): a 1x1 convolution over `rows` rows.
    public static func fullyConnected(rows: Int, inputs: Int, outputs: Int, input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32,
                                      weight: UnsafeBufferPointer<Int8>, bias: UnsafeBufferPointer<Int32>?,
                                      requantization: Requantization, output: UnsafeMutableBufferPointer<Int8>) {
        for row in 0..<rows {
            for column in 0..<outputs {
                var accumulator = bias.map { $0[column] } ?? 0
                for k in 0..<inputs {
                    accumulator &+= (Int32(input[row &* inputs &+ k]) &- inputZeroPoint) &* Int32(weight[k &* outputs &+ column])
                }
                output[row * outputs + column] = requantization.code(accumulator, channel: column)
            }
        }
    }
}
