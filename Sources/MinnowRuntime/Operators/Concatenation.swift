import CRuntimeKernels
import QuantMath

/// Concatenation of activations along their last axis (channels): each input's codes copied, or
/// requantized to the output's parameters when its own differ. Arguments `[output, n] + n *
/// [input, rescaled (0 or 1), multiplier, shift]`.
public struct Concatenation: RuntimeOperator {
    static let code = OperatorCode.concatenate

    /// One input and, when its parameters differ from the output's, the multiplier `inputScale /
    /// outputScale` that rescales it.
    public struct Input: Sendable, Equatable {
        public var tensor: Int
        public var rescale: FixedPointMultiplier?
        public init(tensor: Int, rescale: FixedPointMultiplier?) { (self.tensor, self.rescale) = (tensor, rescale) }
    }

    public var output: Int
    public var inputs: [Input]

    public init(output: Int, inputs: [Input]) { (self.output, self.inputs) = (output, inputs) }

    init(arguments a: [Int32]) throws(OperatorArgumentError) {
        guard a.count >= 2, a[1] >= 1, a.count == 2 + 4 * Int(a[1]) else {
            throw OperatorArgumentError(detail: "\(a.count) arguments for \(a.count >= 2 ? a[1] : 0) inputs")
        }
        var inputs: [Input] = []
        for i in 0..<Int(a[1]) {
            let flag = a[3 + 4 * i]
            guard flag == 0 || flag == 1 else { throw OperatorArgumentError(detail: "rescale flag \(flag)") }
            inputs.append(Input(tensor: Int(a[2 + 4 * i]), rescale: flag == 1 ? FixedPointMultiplier(multiplier: a[4 + 4 * i], shift: a[5 + 4 * i]) : nil))
        }
        self.init(output: Int(a[0]), inputs: inputs)
    }

    var arguments: [Int32] {
        [Int32(truncatingIfNeeded: output), Int32(inputs.count)] + inputs.flatMap { input in
            [Int32(truncatingIfNeeded: input.tensor), input.rescale == nil ? 0 : 1, input.rescale?.multiplier ?? 0, input.rescale?.shift ?? 0]
        }
    }

    static func tensorPositions(_ arguments: [Int32]) -> (reads: [Int], writes: [Int]) {
        guard arguments.count >= 2 else { return ([], []) }
        let n = max(0, min(Int(arguments[1]), (arguments.count - 2) / 4))
        return ((0..<n).map { 2 + 4 * $0 }, [0])
    }

    func validate(_ v: inout OperatorValidation) throws(ModelFormatError) {
        guard !inputs.isEmpty else { throw v.fail("no inputs") }
        var channels = 0
        var rest: [Int]?
        for input in inputs {
            let x = try v.activationInput(input.tensor)
            if let rescale = input.rescale { try v.multiplier(rescale) }
            guard rest == nil || rest! == Array(x.shape.dropLast()) else { throw v.fail("inputs of different shapes") }
            rest = Array(x.shape.dropLast())
            channels += x.shape.last!
        }
        let out = try v.activationOutput(output)
        guard Array(out.shape.dropLast()) == rest!, out.shape.last! == channels else { throw v.fail("output shape \(out.shape) is not the inputs' concatenation") }
        try v.addWork(2, out.elementCount + inputs.count)
    }

    func prepare(_ p: OperatorPreparation) -> PreparedKernel {
        let out = p.model.tensors[output], pixels = out.elementCount / out.shape.last!, result = p.codes(output)
        if let kernel = p.kernels?.pointee.concatenate {
            let parts = p.allocate(mnw_concat_input.self, count: inputs.count)
            for (i, input) in inputs.enumerated() {
                parts[i] = mnw_concat_input(codes: UnsafePointer(p.codes(input.tensor).baseAddress), channels: Int32(p.model.tensors[input.tensor].shape.last!),
                                            zero_point: p.parameters(input.tensor).zeroPoint, table: nil, left_shift: 0, form: Int32(MNW_REQUANT_ROUNDED))
                if let rescale = input.rescale {
                    let table = p.allocate(Int64.self, count: mnw_requant_table_size(16) / 8)
                    parts[i].form = mnw_rescale_prepare(rescale.multiplier, rescale.shift, out.parameters.zeroPoint, table, &parts[i].left_shift)
                    parts[i].table = UnsafePointer(table)
                }
            }
            // A rescaling whose form the level does not run (a real multiplier of 2^7 or more on AVX2) takes the reference.
            if (0..<inputs.count).allSatisfy({ p.runs(parts[$0].form) }) {
                let arguments = p.store(mnw_concatenate(pixels: Int32(pixels), count: Int32(inputs.count), inputs: UnsafePointer(parts),
                                                        output_zero_point: out.parameters.zeroPoint, output: result.baseAddress))
                return { kernel(arguments) }
            }
        }
        let parts = inputs.map { input in
            ReferenceKernels.ConcatenationInput(codes: UnsafeBufferPointer(p.codes(input.tensor)), channels: p.model.tensors[input.tensor].shape.last!,
                                                zeroPoint: p.parameters(input.tensor).zeroPoint, multiplier: input.rescale)
        }
        let zeroPoint = out.parameters.zeroPoint
        return { ReferenceKernels.concatenateChannels(pixels: pixels, inputs: parts, outputZeroPoint: zeroPoint, output: result) }
    }

    func summary(_ model: RuntimeModel) -> (description: String, multiplyAccumulates: Int) {
        ("concatenate \(inputs.count) -> \(model.tensors[output].shape.map(String.init).joined(separator: "x"))", 0)
    }
}

extension ReferenceKernels {
    /// One input of a channel concatenation: its codes `[pixels, channels]`, and how they map to
    /// the output's parameters (`inputScale / outputScale`; skipped when the parameters are equal).
    public struct ConcatenationInput {
        public var codes: UnsafeBufferPointer<Int8>
        public var channels: Int
        public var zeroPoint: Int32
        public var multiplier: FixedPointMultiplier?
        public init(codes: UnsafeBufferPointer<Int8>, channels: Int, zeroPoint: Int32, multiplier: FixedPointMultiplier?) {
            (self.codes, self.channels, self.zeroPoint, self.multiplier) = (codes, channels, zeroPoint, multiplier)
        }
    }

    /// Concatenation along the last axis of `pixels` rows: each input's codes copied, or
    /// requantized to the output's parameters when its own differ.
    public static func concatenateChannels(pixels: Int, inputs: [ConcatenationInput], outputZeroPoint: Int32,
                                           output: UnsafeMutableBufferPointer<Int8>) {
        let total = inputs.reduce(0) { $0 + $1.channels }
        var offset = 0
        for input in inputs {
            for pixel in 0..<pixels {
                for channel in 0..<input.channels {
                    let code = input.codes[pixel * input.channels + channel]
                    output[pixel * total + offset + channel] = input.multiplier.map {
                        Int8(requantize(Int32(code) - input.zeroPoint, multiplier: $0, outputZeroPoint: outputZeroPoint, minimum: -128, maximum: 127))
                    } ?? code
                }
            }
            offset += input.channels
        }
    }
}
