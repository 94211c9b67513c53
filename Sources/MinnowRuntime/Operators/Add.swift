import CRuntimeKernels
import QuantMath

/// The elementwise sum of two int8 tensors of one shape with their own parameters, into an
/// output's (TFLite's int8 add): each input made relative to its zero point, shifted left by
/// `ReferenceKernels.addLeftShift`, rescaled by its multiplier; the sum rescaled to the output.
/// Arguments `[a, b, output, aMultiplier, aShift, bMultiplier, bShift, outputMultiplier,
/// outputShift, min, max]`.
public struct Add: RuntimeOperator {
    static let code = OperatorCode.add
    public var a: Int, b: Int, output: Int
    public var aMultiplier: FixedPointMultiplier, bMultiplier: FixedPointMultiplier, outputMultiplier: FixedPointMultiplier
    public var clamp: CodeRange

    public init(a: Int, b: Int, output: Int, aMultiplier: FixedPointMultiplier, bMultiplier: FixedPointMultiplier,
                outputMultiplier: FixedPointMultiplier, clamp: CodeRange) {
        (self.a, self.b, self.output, self.clamp) = (a, b, output, clamp)
        (self.aMultiplier, self.bMultiplier, self.outputMultiplier) = (aMultiplier, bMultiplier, outputMultiplier)
    }

    init(arguments: [Int32]) throws(OperatorArgumentError) {
        let t = try Self.checked(arguments, count: 11), m = arguments
        self.init(a: t[0], b: t[1], output: t[2], aMultiplier: FixedPointMultiplier(multiplier: m[3], shift: m[4]),
                  bMultiplier: FixedPointMultiplier(multiplier: m[5], shift: m[6]), outputMultiplier: FixedPointMultiplier(multiplier: m[7], shift: m[8]),
                  clamp: CodeRange(minimum: m[9], maximum: m[10]))
    }

    var arguments: [Int32] {
        [a, b, output].map { Int32(truncatingIfNeeded: $0) } + [aMultiplier, bMultiplier, outputMultiplier].flatMap { [$0.multiplier, $0.shift] }
            + [clamp.minimum, clamp.maximum]
    }

    static func tensorPositions(_ arguments: [Int32]) -> (reads: [Int], writes: [Int]) {
        (Array(0..<min(2, arguments.count)), arguments.count > 2 ? [2] : [])
    }

    func validate(_ v: inout OperatorValidation) throws(ModelFormatError) {
        let (x, y) = (try v.activationInput(a), try v.activationInput(b))
        let out = try v.activationOutput(output)
        guard x.shape == out.shape, y.shape == out.shape else { throw v.fail("shapes \(x.shape) + \(y.shape) -> \(out.shape)") }
        for m in [aMultiplier, bMultiplier, outputMultiplier] { try v.multiplier(m) }
        // The two rescaled inputs are summed in int32: their largest sizes together must fit.
        let largest = { (zeroPoint: Int32, m: FixedPointMultiplier) -> Int64 in
            let shifted = Int32(OperatorValidation.span(zeroPoint)) << ReferenceKernels.addLeftShift
            return max(abs(Int64(multiplyByQuantizedMultiplier(shifted, m))), abs(Int64(multiplyByQuantizedMultiplier(-shifted, m))))
        }
        guard largest(x.parameters.zeroPoint, aMultiplier) + largest(y.parameters.zeroPoint, bMultiplier) <= Int64(Int32.max) else {
            throw v.fail("input multipliers \(aMultiplier.multiplier) * 2^(\(aMultiplier.shift) - 31) and \(bMultiplier.multiplier) * 2^(\(bMultiplier.shift) - 31) let the int32 sum wrap")
        }
        try v.clamp(clamp)
        try v.addWork(3, out.elementCount)
    }

    func prepare(_ p: OperatorPreparation) -> PreparedKernel {
        if let kernels = p.kernels, let fast = prepareFast(p, kernels.pointee) { return fast }
        let (x, y, out) = (UnsafeBufferPointer(p.codes(a)), UnsafeBufferPointer(p.codes(b)), p.codes(output))
        let aInput = ReferenceKernels.AddInput(zeroPoint: p.parameters(a).zeroPoint, multiplier: aMultiplier)
        let bInput = ReferenceKernels.AddInput(zeroPoint: p.parameters(b).zeroPoint, multiplier: bMultiplier)
        let (multiplier, zeroPoint, range) = (outputMultiplier, p.parameters(output).zeroPoint, clamp)
        return {
            ReferenceKernels.add(count: out.count, a: x, aInput, b: y, bInput, outputMultiplier: multiplier, outputZeroPoint: zeroPoint,
                                 minimum: range.minimum, maximum: range.maximum, output: out)
        }
    }

    private func prepareFast(_ p: OperatorPreparation, _ kernels: mnw_kernels) -> PreparedKernel? {
        var add = mnw_add()
        (add.count, add.a, add.b) = (Int32(p.model.tensors[output].elementCount), UnsafePointer(p.codes(a).baseAddress), UnsafePointer(p.codes(b).baseAddress))
        (add.a_zero_point, add.b_zero_point) = (p.parameters(a).zeroPoint, p.parameters(b).zeroPoint)
        // An input whose total shift is 31 or 30 takes one or two more left shifts instead (its
        // codes less the zero point, at most 255 x 2^22, still fit), so that its table gets the
        // shorter form.
        let extra = [aMultiplier.shift, bMultiplier.shift].map { shift in shift >= 0 && shift <= 1 ? shift + 1 : 0 }
        (add.a_left_shift, add.b_left_shift) = (ReferenceKernels.addLeftShift + extra[0], ReferenceKernels.addLeftShift + extra[1])
        (add.output_zero_point, add.minimum, add.maximum, add.output) = (p.parameters(output).zeroPoint, clamp.minimum, clamp.maximum,
                                                                         p.codes(output).baseAddress)
        let tables = [(aMultiplier, extra[0], Int32(0)), (bMultiplier, extra[1], 0), (outputMultiplier, 0, add.output_zero_point)].map {
            p.requantizationTable(FixedPointMultiplier(multiplier: $0.0.multiplier, shift: $0.0.shift - $0.1), zeroPoint: $0.2)
        }
        (add.a_table, add.b_table, add.output_table) = (tables[0].table, tables[1].table, tables[2].table)
        add.form = tables.allSatisfy { $0.form >= Int32(MNW_REQUANT_HIGH) } ? tables[2].form : Int32(MNW_REQUANT_GENERAL)
        guard p.runs(add.form), let kernel = kernels.add else { return nil }
        let arguments = p.store(add)
        return { kernel(arguments) }
    }

    func summary(_ model: RuntimeModel) -> (description: String, multiplyAccumulates: Int) {
        ("add -> \(model.tensors[output].shape.map(String.init).joined(separator: "x"))", 0)
    }
}

extension ReferenceKernels {
    /// The rescaling of one input of an elementwise add: its code minus its zero point, shifted left
    /// by `leftShift` bits for headroom, times `multiplier` (`inputScale / (2 * max input scale)`).
    public struct AddInput: Sendable, Equatable {
        public var zeroPoint: Int32
        public var multiplier: FixedPointMultiplier
        public init(zeroPoint: Int32, multiplier: FixedPointMultiplier) {
            self.zeroPoint = zeroPoint
            self.multiplier = multiplier
        }
    }

    /// Headroom bits of `add` (TFLite's `left_shift` for int8 adds).
    public static let addLeftShift: Int32 = 20

    /// Elementwise `a + b` of two int8 tensors with their own parameters into an output's, as
    /// TFLite's int8 add computes it: each input is made relative to its zero point, shifted left
    /// by 20 bits, rescaled to a common scale, summed, rescaled to the output scale
    /// (`outputMultiplier = 2 * max input scale / (2^20 * outputScale)`), offset and clamped.
    public static func add(count: Int, a: UnsafeBufferPointer<Int8>, _ aInput: AddInput, b: UnsafeBufferPointer<Int8>, _ bInput: AddInput,
                           outputMultiplier: FixedPointMultiplier, outputZeroPoint: Int32, minimum: Int32, maximum: Int32,
                           output: UnsafeMutableBufferPointer<Int8>) {
        for i in 0..<count {
            let scaledA = multiplyByQuantizedMultiplier((Int32(a[i]) - aInput.zeroPoint) << addLeftShift, aInput.multiplier)
            let scaledB = multiplyByQuantizedMultiplier((Int32(b[i]) - bInput.zeroPoint) << addLeftShift, bInput.multiplier)
            output[i] = Int8(requantize(scaledA &+ scaledB, multiplier: outputMultiplier, outputZeroPoint: outputZeroPoint,
                                        minimum: minimum, maximum: maximum))
        }
    }
}
