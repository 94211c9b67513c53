import CRuntimeKernels
import QuantMath

/// Codes clamped to a range (an activation that no layer before it could fuse): `output[i] =
/// min(max(input[i], min), max)`, input and output sharing their parameters. Arguments `[input,
/// output, min, max]`.
public struct Clamp: RuntimeOperator {
    static let code = OperatorCode.clamp
    public var input: Int, output: Int
    public var clamp: CodeRange

    public init(input: Int, output: Int, clamp: CodeRange) { (self.input, self.output, self.clamp) = (input, output, clamp) }

    init(arguments: [Int32]) throws(OperatorArgumentError) {
        let t = try Self.checked(arguments, count: 4)
        self.init(input: t[0], output: t[1], clamp: CodeRange(minimum: arguments[2], maximum: arguments[3]))
    }

    var arguments: [Int32] { [Int32(truncatingIfNeeded: input), Int32(truncatingIfNeeded: output), clamp.minimum, clamp.maximum] }

    static func tensorPositions(_ arguments: [Int32]) -> (reads: [Int], writes: [Int]) {
        (arguments.count > 0 ? [0] : [], arguments.count > 1 ? [1] : [])
    }

    func validate(_ v: inout OperatorValidation) throws(ModelFormatError) {
        let x = try v.activationInput(input)
        let out = try v.activationOutput(output)
        guard x.shape == out.shape else { throw v.fail("shapes \(x.shape) -> \(out.shape)") }
        try v.clamp(clamp)
        try v.addWork(2, out.elementCount)
    }

    func prepare(_ p: OperatorPreparation) -> PreparedKernel {
        let (x, out, range) = (p.codes(input), p.codes(output), clamp)
        if let kernel = p.kernels?.pointee.clamp {
            let arguments = p.store(mnw_clamp(count: Int32(out.count), input: UnsafePointer(x.baseAddress), minimum: range.minimum, maximum: range.maximum,
                                              output: out.baseAddress))
            return { kernel(arguments) }
        }
        return { ReferenceKernels.clamp(input: UnsafeBufferPointer(x), minimum: range.minimum, maximum: range.maximum, output: out) }
    }

    func summary(_ model: RuntimeModel) -> (description: String, multiplyAccumulates: Int) {
        ("clamp -> \(model.tensors[output].shape.map(String.init).joined(separator: "x"))", 0)
    }
}

extension ReferenceKernels {
    /// `output[i] = min(max(input[i], minimum), maximum)`.
    public static func clamp(input: UnsafeBufferPointer<Int8>, minimum: Int32, maximum: Int32, output: UnsafeMutableBufferPointer<Int8>) {
        for i in 0..<output.count { output[i] = Int8(min(max(Int32(input[i]), minimum), maximum)) }
    }
}
