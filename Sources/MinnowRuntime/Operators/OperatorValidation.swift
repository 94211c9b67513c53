import QuantMath

/// The checks every operator's `validate` uses: tensor indices and kinds, the order of writes and
/// reads, clamps and fixed-point multipliers. An operator that passes cannot make its kernels read
/// or write out of bounds, or trap.
struct OperatorValidation {
    let tensors: [TensorInfo]
    /// The data section (constant tensors, whose bounds the loader checked).
    let data: UnsafeRawBufferPointer
    var index: Int, code: OperatorCode
    /// The activations computed so far (the model input, then each operator's output).
    var written: Set<Int>
    /// The work of the operators checked so far (`ModelFormat.maximumWork` bounds it).
    var work: Int64 = 0

    /// Checks every operator in order, then that one of them writes `output`.
    static func check(_ operators: [Operator], tensors: [TensorInfo], data: UnsafeRawBufferPointer, input: Int,
                      output: Int) throws(ModelFormatError) {
        var context = OperatorValidation(tensors: tensors, data: data, index: 0, code: .clamp, written: [input])
        for (index, op) in operators.enumerated() {
            (context.index, context.code) = (index, op.entry.code)
            try op.validate(&context)
        }
        guard context.written.contains(output) else { throw .invalidHeader("no operator writes the output tensor \(output)") }
    }

    func fail(_ detail: String) -> ModelFormatError { .invalidOperator(index, "\(code): \(detail)") }

    /// Adds the product of `factors` (an operator's work per inference) to the model's, which may
    /// not pass `ModelFormat.maximumWork`; no product overflows.
    mutating func addWork(_ factors: Int...) throws(ModelFormatError) {
        var product: Int64 = 1
        for factor in factors {
            let (next, overflow) = product.multipliedReportingOverflow(by: Int64(max(factor, 0)))
            guard !overflow, next <= ModelFormat.maximumWork else { throw fail("asks for more than \(ModelFormat.maximumWork) operations per inference") }
            product = next
        }
        work += product
        guard work <= ModelFormat.maximumWork else { throw fail("the model asks for more than \(ModelFormat.maximumWork) operations per inference") }
    }

    /// Fails unless the product of `factors` is at most `ModelFormat.maximumElements` (a scratch buffer's size).
    func boundElements(_ what: String, _ factors: Int...) throws(ModelFormatError) {
        var product = 1
        for factor in factors {
            let (next, overflow) = product.multipliedReportingOverflow(by: max(factor, 0))
            guard !overflow, next <= ModelFormat.maximumElements else { throw fail("\(what) would need more than \(ModelFormat.maximumElements) elements") }
            product = next
        }
    }

    func tensor(_ t: Int) throws(ModelFormatError) -> TensorInfo {
        guard tensors.indices.contains(t) else { throw fail("names tensor \(t), the model has \(tensors.count)") }
        return tensors[t]
    }

    /// An activation already written (the model input or an earlier operator's output).
    func activationInput(_ t: Int) throws(ModelFormatError) -> TensorInfo {
        let info = try tensor(t)
        guard info.storage == .arena, written.contains(t) else { throw fail("input tensor \(t) is not a value computed before") }
        return info
    }

    func constant(_ t: Int, _ types: [TensorType]) throws(ModelFormatError) -> TensorInfo {
        let info = try tensor(t)
        guard info.storage == .constant, types.contains(info.type) else { throw fail("tensor \(t) must be a constant of type \(types)") }
        return info
    }

    /// An activation no operator wrote before; marks it written.
    mutating func activationOutput(_ t: Int) throws(ModelFormatError) -> TensorInfo {
        let info = try tensor(t)
        guard info.storage == .arena, !written.contains(t) else { throw fail("output tensor \(t) is a constant or written twice") }
        written.insert(t)
        return info
    }

    func clamp(_ range: CodeRange) throws(ModelFormatError) {
        guard -128 <= range.minimum, range.minimum <= range.maximum, range.maximum <= 127 else {
            throw fail("clamp [\(range.minimum), \(range.maximum)] outside int8")
        }
    }

    /// A fixed-point multiplier `>= 0` with a shift in `-31...30` (what `requantize` assumes).
    func multiplier(_ m: FixedPointMultiplier) throws(ModelFormatError) {
        guard m.multiplier >= 0, (-31...30).contains(m.shift) else { throw fail("fixed-point multiplier \(m.multiplier) * 2^(\(m.shift) - 31) out of range") }
    }

    /// The largest `|code − zeroPoint|` an int8 activation with this zero point can give.
    static func span(_ zeroPoint: Int32) -> Int64 { Int64(max(127 - zeroPoint, zeroPoint + 128)) }

    /// Fails when some output channel's sum `bias + Σ (code − zeroPoint) · weight` could leave
    /// int32 for some input: `|bias| + span · Σ |weight|` over the channel's weights (the last axis
    /// of `weights`, of `outputs` channels) must be at most `Int32.max`, so no kernel's sum wraps.
    func accumulatorsFit(weights: Int, bias: Int, outputs: Int, inputZeroPoint: Int32) throws(ModelFormatError) {
        let values = ConstantReader(tensors: tensors, data: data), span = Self.span(inputZeroPoint)
        var bounds = values.int32s(bias).map { Int64($0).magnitude }
        guard bounds.count == outputs else { throw fail("\(bounds.count) biases for \(outputs) channels") }
        for (index, weight) in values.weights(weights).enumerated() { bounds[index % outputs] += UInt64(span) * UInt64(weight.magnitude) }
        if let channel = bounds.firstIndex(where: { $0 > UInt64(Int32.max) }) {
            throw fail("output channel \(channel)'s sum can reach \(bounds[channel]) in size, beyond int32: its weights and bias would make the int32 sums wrap")
        }
    }

    /// Per-channel multipliers (a constant int32 vector of `channels`) and shifts (int8, or int32
    /// in version 1 files), each in range.
    func channelMultipliers(_ multipliers: Int, _ shifts: Int, channels: Int) throws(ModelFormatError) {
        let (m, s) = (try constant(multipliers, [.int32]), try constant(shifts, [.int8, .int32]))
        guard m.shape == [channels], s.shape == [channels] else { throw fail("multipliers and shifts must have \(channels) entries") }
        let values = ConstantReader(tensors: tensors, data: data)
        for (multiplier, shift) in zip(values.int32s(multipliers), values.shifts(shifts)) {
            try self.multiplier(FixedPointMultiplier(multiplier: multiplier, shift: shift))
        }
    }
}

/// Reads constant tensors' values (little-endian) from a data section whose bounds are checked.
struct ConstantReader {
    let tensors: [TensorInfo]
    let data: UnsafeRawBufferPointer

    func bytes(_ index: Int) -> UnsafeRawBufferPointer {
        let t = tensors[index]
        return UnsafeRawBufferPointer(rebasing: data[t.offset..<(t.offset + t.byteLength)])
    }

    func int32s(_ index: Int) -> [Int32] {
        let b = bytes(index)
        return (0..<(b.count / 4)).map { i in
            Int32(bitPattern: UInt32(b[4 * i]) | UInt32(b[4 * i + 1]) << 8 | UInt32(b[4 * i + 2]) << 16 | UInt32(b[4 * i + 3]) << 24)
        }
    }

    /// A weight tensor's values: int8, or int4 unpacked (low nibble first, sign-extended).
    func weights(_ index: Int) -> [Int8] {
        let b = bytes(index)
        guard tensors[index].type == .int4 else { return b.map { Int8(bitPattern: $0) } }
        let count = tensors[index].elementCount
        return (0..<count).map { i in
            let nibble = i % 2 == 0 ? b[i / 2] & 0x0F : b[i / 2] >> 4
            return Int8(bitPattern: nibble << 4) >> 4
        }
    }

    /// A per-channel shift vector: int8 (versions 2 and 3) or int32 (version 1) constants.
    func shifts(_ index: Int) -> [Int32] {
        tensors[index].type == .int8 ? bytes(index).map { Int32(Int8(bitPattern: $0)) } : int32s(index)
    }
}
