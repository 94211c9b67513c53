import CRuntimeKernels
import QuantMath

/// A function of one code: `output[i] = table[input[i] + 128]`, a constant int8 table of 256
/// entries made at export from the function on the input's and output's parameters (an activation
/// that is no clamp: SiLU, sigmoid, tanh, hardswish, leaky ReLU). Arguments `[input, output, table]`.
public struct LookupTable: RuntimeOperator {
    static let code = OperatorCode.lookupTable
    public var input: Int, output: Int, table: Int

    public init(input: Int, output: Int, table: Int) { (self.input, self.output, self.table) = (input, output, table) }

    init(arguments: [Int32]) throws(OperatorArgumentError) {
        let t = try Self.checked(arguments, count: 3)
        self.init(input: t[0], output: t[1], table: t[2])
    }

    var arguments: [Int32] { [input, output, table].map { Int32(truncatingIfNeeded: $0) } }

    static func tensorPositions(_ arguments: [Int32]) -> (reads: [Int], writes: [Int]) {
        ([0, 2].filter { $0 < arguments.count }, arguments.count > 1 ? [1] : [])
    }

    func validate(_ v: inout OperatorValidation) throws(ModelFormatError) {
        let x = try v.activationInput(input), t = try v.constant(table, [.int8])
        guard t.shape == [256] else { throw v.fail("table shape \(t.shape), expected [256]") }
        let out = try v.activationOutput(output)
        guard x.shape == out.shape else { throw v.fail("shapes \(x.shape) -> \(out.shape)") }
        try v.addWork(2, out.elementCount)
    }

    func prepare(_ p: OperatorPreparation) -> PreparedKernel {
        let (x, out, codes) = (p.codes(input), p.codes(output), p.int8s(table))
        if let kernel = p.kernels?.pointee.lookup {
            let arguments = p.store(mnw_lookup(count: Int32(out.count), input: UnsafePointer(x.baseAddress), table: codes.baseAddress,
                                               output: out.baseAddress))
            return { kernel(arguments) }
        }
        return { ReferenceKernels.lookup(input: UnsafeBufferPointer(x), table: codes, output: out) }
    }

    func summary(_ model: RuntimeModel) -> (description: String, multiplyAccumulates: Int) {
        ("lookup table -> \(model.tensors[output].shape.map(String.init).joined(separator: "x"))", 0)
    }
}

extension ReferenceKernels {
    /// `output[i] = table[input[i] + 128]` (`table`: 256 codes, the output for each input code).
    public static func lookup(input: UnsafeBufferPointer<Int8>, table: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>) {
        for i in 0..<output.count { output[i] = table[Int(input[i]) &+ 128] }
    }
}
