import CRuntimeKernels
import QuantMath

/// Global average pooling of an HWC image to its C channels: per channel the sum of `code -
/// zero point` over the pixels, rescaled by one multiplier (`inputScale / (H W outputScale)`),
/// offset and clamped to int8. Arguments `[input, output, multiplier, shift]`.
public struct GlobalAveragePool: RuntimeOperator {
    static let code = OperatorCode.globalAveragePool
    public var input: Int, output: Int
    public var multiplier: FixedPointMultiplier

    public init(input: Int, output: Int, multiplier: FixedPointMultiplier) { (self.input, self.output, self.multiplier) = (input, output, multiplier) }

    init(arguments: [Int32]) throws(OperatorArgumentError) {
        let t = try Self.checked(arguments, count: 4)
        self.init(input: t[0], output: t[1], multiplier: FixedPointMultiplier(multiplier: arguments[2], shift: arguments[3]))
    }

    var arguments: [Int32] { [Int32(truncatingIfNeeded: input), Int32(truncatingIfNeeded: output), multiplier.multiplier, multiplier.shift] }

    static func tensorPositions(_ arguments: [Int32]) -> (reads: [Int], writes: [Int]) {
        (arguments.count > 0 ? [0] : [], arguments.count > 1 ? [1] : [])
    }

    func validate(_ v: inout OperatorValidation) throws(ModelFormatError) {
        let x = try v.activationInput(input)
        let out = try v.activationOutput(output)
        guard x.shape.count == 3, out.shape == [x.shape[2]] else { throw v.fail("shapes \(x.shape) -> \(out.shape)") }
        try v.multiplier(multiplier)
        // Each channel's sum of (code − zero point) over the pixels must stay inside int32.
        let pixels = Int64(x.shape[0]) * Int64(x.shape[1])
        guard pixels * OperatorValidation.span(x.parameters.zeroPoint) <= Int64(Int32.max) else {
            throw v.fail("\(pixels) pixels: the int32 sum of a channel could wrap")
        }
        try v.addWork(x.elementCount)
    }

    func prepare(_ p: OperatorPreparation) -> PreparedKernel {
        let x = p.model.tensors[input]
        let (pixels, channels, zeroPoint, outputZeroPoint) = (x.shape[0] * x.shape[1], x.shape[2], x.parameters.zeroPoint, p.parameters(output).zeroPoint)
        let (codes, result) = (p.codes(input), p.codes(output))
        if let kernels = p.kernels, let kernel = kernels.pointee.global_average_pool {
            let (table, form) = p.requantizationTable(multiplier)
            if p.runs(form) {
                let arguments = p.store(mnw_global_average_pool(pixels: Int32(pixels), channels: Int32(channels), input: UnsafePointer(codes.baseAddress),
                                                                zero_point: zeroPoint, table: table, form: form, output_zero_point: outputZeroPoint,
                                                                output: result.baseAddress))
                return { kernel(arguments) }
            }
        }
        let m = multiplier
        return {
            ReferenceKernels.globalAveragePool(batch: 1, pixels: pixels, channels: channels, input: UnsafeBufferPointer(codes), inputZeroPoint: zeroPoint,
                                               multiplier: m, outputZeroPoint: outputZeroPoint, output: result)
        }
    }

    func summary(_ model: RuntimeModel) -> (description: String, multiplyAccumulates: Int) {
        ("global average pool -> \(model.tensors[output].shape.map(String.init).joined(separator: "x"))", 0)
    }
}

extension ReferenceKernels {
    /// Global average pooling `[N, H, W, C]` to `[N, C]`: the sum of `(code - inputZeroPoint)` over
    /// the `H * W` pixels, rescaled by `multiplier` (`inputScale / (H * W * outputScale)`), offset
    /// and clamped.
    public static func globalAveragePool(batch: Int, pixels: Int, channels: Int, input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32,
                                         multiplier: FixedPointMultiplier, outputZeroPoint: Int32,
                                         output: UnsafeMutableBufferPointer<Int8>) {
        for n in 0..<batch {
            for c in 0..<channels {
                var sum: Int32 = 0
                for p in 0..<pixels { sum &+= Int32(input[(n * pixels + p) * channels + c]) - inputZeroPoint }
                output[n * channels + c] = Int8(requantize(sum, multiplier: multiplier, outputZeroPoint: outputZeroPoint,
                                                           minimum: -128, maximum: 127))
            }
        }
    }
}
