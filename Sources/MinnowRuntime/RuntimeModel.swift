import QuantMath

/// A model file checked and parsed: its tensors and operators, every field validated before use
/// (`ModelFormatError` names what was wrong). The weights stay in the caller's bytes, used in
/// place: the bytes must outlive the model and every interpreter made from it.
public struct RuntimeModel: @unchecked Sendable {
    public let tensors: [TensorInfo]
    /// The operators as the file encodes them (in memory: version 1's arguments).
    public let operators: [OperatorEntry]
    /// The same operators, typed and validated.
    public let operations: [Operator]
    public let input: Int, output: Int
    /// Bytes of arena the planned layout needs.
    public let arenaSize: Int
    /// Multiply-accumulates per inference, as the exporter counted them.
    public let multiplyAccumulates: Int
    /// The data section (constant tensors), inside the caller's bytes.
    public let data: UnsafeRawBufferPointer
    public let fileSize: Int
    /// The input normalization and class names the file stores (version 4; empty before).
    public let metadata: ModelMetadata
    /// Each class name's bytes inside the caller's bytes, followed there by a NUL (what the C
    /// interface hands out without copying).
    public let classNameBytes: [UnsafeRawBufferPointer]

    /// Parses and checks `bytes` (a whole `.mnw` file; 16-byte aligned, as a memory-mapped file or
    /// a `[UInt8]` is).
    public init(bytes: UnsafeRawBufferPointer) throws(ModelFormatError) {
        var reader = ByteReader(bytes: bytes)
        guard bytes.count >= ModelFormat.headerSize else { throw .truncated("\(bytes.count) bytes, the header alone is \(ModelFormat.headerSize)") }
        guard Array(bytes[0..<4]) == ModelFormat.magic else { throw .badMagic }
        reader.position = 4
        let version = reader.u16(), headerSize = Int(reader.u16()), declaredSize = reader.u64()
        guard ModelFormat.readableVersions.contains(version) else { throw .unsupportedVersion(Int(version)) }
        guard headerSize == ModelFormat.headerSize else { throw .invalidHeader("header size \(headerSize), expected \(ModelFormat.headerSize)") }
        guard declaredSize == UInt64(bytes.count) else {
            throw declaredSize > UInt64(bytes.count) ? .truncated("the header says \(declaredSize) bytes, the file has \(bytes.count)")
                : .invalidHeader("the header says \(declaredSize) bytes, the file has \(bytes.count)")
        }
        let storedChecksum = reader.u32()
        let computed = crc32(UnsafeRawBufferPointer(rebasing: bytes[ModelFormat.headerSize...]))
        guard storedChecksum == computed else { throw .checksumMismatch(stored: storedChecksum, computed: computed) }
        let tensorCount = Int(reader.u32()), operatorCount = Int(reader.u32())
        let input = Int(reader.u32()), output = Int(reader.u32()), arenaSize = Int(reader.u32())
        let tensorOffset = Int(reader.u32()), operatorOffset = Int(reader.u32()), dataOffset = Int(reader.u32()), dataSize = Int(reader.u32())
        let macs = reader.u64()
        guard (1...ModelFormat.maximumTensors).contains(tensorCount) else { throw .invalidHeader("tensor count \(tensorCount)") }
        guard (1...ModelFormat.maximumOperators).contains(operatorCount) else { throw .invalidHeader("operator count \(operatorCount)") }
        // Version 3's tables are varints: where the tensor table ends is checked after reading it.
        let fixedEntries = version < 3
        guard tensorOffset == ModelFormat.headerSize, tensorOffset <= operatorOffset,
              !fixedEntries || operatorOffset == tensorOffset + tensorCount * ModelFormat.fixedTensorEntrySize,
              operatorOffset <= dataOffset, dataOffset % ModelFormat.alignment == 0, dataOffset <= bytes.count,
              dataSize == bytes.count - dataOffset else {
            throw .invalidHeader("section offsets \(tensorOffset), \(operatorOffset), \(dataOffset) (+\(dataSize)) do not fit a \(bytes.count)-byte file")
        }
        guard arenaSize <= 1 << 30, macs <= UInt64(Int.max) else { throw .invalidHeader("arena size \(arenaSize) or MAC count \(macs) out of range") }
        guard Int(bitPattern: bytes.baseAddress) % ModelFormat.alignment == 0 else {
            throw .misaligned("the model's bytes start at an address that is not a multiple of \(ModelFormat.alignment)")
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[dataOffset...])
        var tensors: [TensorInfo] = []
        reader.position = tensorOffset
        for index in 0..<tensorCount {
            let fields = fixedEntries ? Self.fixedTensorFields(&reader) : try Self.varintTensorFields(&reader, index: index, end: operatorOffset)
            tensors.append(try Self.checkedTensor(fields, index: index, dataSize: dataSize, arenaSize: arenaSize,
                                                  constantAlignment: fixedEntries ? ModelFormat.alignment : ModelFormat.constantAlignment))
        }
        guard reader.position == operatorOffset else {
            throw .invalidHeader("the tensor table ends at byte \(reader.position), the header says the operator list starts at \(operatorOffset)")
        }
        var operators: [OperatorEntry] = []
        for index in 0..<operatorCount {
            operators.append(fixedEntries ? try Self.fixedOperator(&reader, index: index, end: dataOffset)
                : try Self.varintOperator(&reader, index: index, end: dataOffset))
        }
        if version >= 2 { try Self.expandChannelParameters(&operators, &tensors) }
        guard tensors.indices.contains(input), tensors[input].storage == .arena else { throw .invalidHeader("input tensor \(input) is not an activation") }
        guard tensors.indices.contains(output), tensors[output].storage == .arena else { throw .invalidHeader("output tensor \(output) is not an activation") }
        var names: [UnsafeRawBufferPointer] = []
        metadata = version >= 4
            ? try ModelMetadata.read(&reader, end: dataOffset, inputChannels: tensors[input].shape.last ?? 1,
                                     outputElements: tensors[output].elementCount, names: &names)
            : ModelMetadata()
        classNameBytes = names
        var operations: [Operator] = []
        for (index, entry) in operators.enumerated() { operations.append(try Operator(entry, index: index)) }
        try OperatorValidation.check(operations, tensors: tensors, data: data, input: input, output: output)
        (self.tensors, self.operators, self.operations, self.input, self.output) = (tensors, operators, operations, input, output)
        (self.arenaSize, self.multiplyAccumulates, self.data, self.fileSize) = (arenaSize, Int(macs), data, bytes.count)
        try checkArena()
    }

    /// A constant int32 tensor's values.
    /// Version 2 files give a convolution or fully connected layer one channel-parameters tensor
    /// (biases, multipliers, shifts); in memory it is three tensors that view its bytes (appended
    /// to the table), and the operator has its version 1 arguments. Only the index and kind of
    /// the channel-parameters tensor are checked here; everything else as for version 1.
    private static func expandChannelParameters(_ operators: inout [OperatorEntry], _ tensors: inout [TensorInfo]) throws(ModelFormatError) {
        for index in operators.indices where operators[index].code == .convolution || operators[index].code == .fullyConnected {
            let a = operators[index].arguments, expected = (operators[index].code == .convolution ? Convolution.argumentCount : FullyConnected.argumentCount) - 2
            guard a.count == expected else { throw .invalidOperator(index, "\(a.count) arguments, expected \(expected)") }
            guard tensors.indices.contains(Int(a[2])) else { throw .invalidOperator(index, "tensor index \(a[2]) out of range") }
            let parameters = tensors[Int(a[2])]
            guard parameters.type == .channelParameters, parameters.storage == .constant, parameters.shape.count == 1 else {
                throw .invalidOperator(index, "tensor \(a[2]) is not a constant vector of channel parameters")
            }
            let channels = parameters.shape[0], unit = QuantizationParameters(scale: 1, zeroPoint: 0)
            let views = [(TensorType.int32, 0), (.int32, 4 * channels), (.int8, 8 * channels)].map { type, start in
                TensorInfo(type: type, storage: .constant, shape: [channels], parameters: unit, offset: parameters.offset + start,
                           byteLength: type.byteCount(channels))
            }
            let first = Int32(tensors.count)
            tensors += views
            operators[index].arguments = [a[0], a[1], first, first + 1, first + 2] + a[3...]
        }
    }

    /// A per-channel shift vector: int8 (versions 2 and 3) or int32 (version 1) constants.
    func shifts(_ index: Int) -> [Int32] { ConstantReader(tensors: tensors, data: data).shifts(index) }

    func int32s(_ index: Int) -> [Int32] { ConstantReader(tensors: tensors, data: data).int32s(index) }

    /// A tensor-table entry's fields as the file has them, before any check.
    private struct TensorFields {
        var type: UInt8, rank: Int, storage: UInt8, dimensions: [Int], scale: Float, zeroPoint: Int32, offset: Int
        /// The byte length (versions 1 and 2; version 3 derives it from the type and shape).
        var length: Int?
    }

    /// A 40-byte entry (versions 1 and 2; the header's offsets put the whole table inside the file).
    private static func fixedTensorFields(_ reader: inout ByteReader) -> TensorFields {
        let type = reader.u8(), rank = Int(reader.u8()), storage = reader.u8()
        _ = reader.u8()
        let dimensions = (0..<ModelFormat.maximumRank).map { _ in Int(reader.i32()) }
        let scale = Float(bitPattern: reader.u32()), zeroPoint = reader.i32()
        let offset = Int(reader.u32()), length = Int(reader.u32())
        _ = reader.u32()
        return TensorFields(type: type, rank: rank, storage: storage, dimensions: dimensions, scale: scale, zeroPoint: zeroPoint, offset: offset,
                            length: length)
    }

    /// A version 3 entry: type, rank, storage (one byte each), the zero point (zigzag varint),
    /// `rank` dimensions (varints), the scale (4 bytes, f32), the offset (varint); none may run
    /// past `end`.
    private static func varintTensorFields(_ reader: inout ByteReader, index: Int, end: Int) throws(ModelFormatError) -> TensorFields {
        let truncated = ModelFormatError.truncated("tensor \(index) runs past the tensor table")
        guard reader.position + 3 <= end else { throw truncated }
        let type = reader.u8(), rank = Int(reader.u8()), storage = reader.u8()
        guard (1...ModelFormat.maximumRank).contains(rank) else { throw .invalidTensor(index, "rank \(rank)") }
        guard let zeroPoint = reader.zigzag(before: end) else { throw truncated }
        var dimensions: [Int] = []
        for _ in 0..<rank {
            guard let dimension = reader.varint(before: end) else { throw truncated }
            // (Within every target's Int, 32-bit ones too; the shape's product is checked later.)
            guard dimension <= ModelFormat.maximumElements else { throw .invalidTensor(index, "dimension \(dimension)") }
            dimensions.append(Int(dimension))
        }
        guard reader.position + 4 <= end else { throw truncated }
        let scale = Float(bitPattern: reader.u32())
        guard let offset = reader.varint(before: end) else { throw truncated }
        guard offset <= Int32.max else { throw .invalidTensor(index, "offset \(offset)") }
        return TensorFields(type: type, rank: rank, storage: storage, dimensions: dimensions, scale: scale, zeroPoint: zeroPoint,
                            offset: Int(offset), length: nil)
    }

    /// A version 1 or 2 operator: u16 code, u16 count, count i32 arguments.
    private static func fixedOperator(_ reader: inout ByteReader, index: Int, end: Int) throws(ModelFormatError) -> OperatorEntry {
        guard reader.position + 4 <= end else { throw .truncated("operator \(index) runs past the operator list") }
        let rawCode = reader.u16(), count = Int(reader.u16())
        guard let code = OperatorCode(rawValue: rawCode) else { throw .invalidOperator(index, "unknown operator code \(rawCode)") }
        guard reader.position + 4 * count <= end else { throw .truncated("operator \(index)'s \(count) arguments run past the operator list") }
        return OperatorEntry(code: code, arguments: (0..<count).map { _ in reader.i32() })
    }

    /// A version 3 operator: code and argument count (varints), then the arguments (zigzag
    /// varints).
    private static func varintOperator(_ reader: inout ByteReader, index: Int, end: Int) throws(ModelFormatError) -> OperatorEntry {
        let truncated = ModelFormatError.truncated("operator \(index) runs past the operator list")
        guard let rawCode = reader.varint(before: end), let count = reader.varint(before: end) else { throw truncated }
        guard rawCode <= UInt16.max, let code = OperatorCode(rawValue: UInt16(rawCode)) else {
            throw .invalidOperator(index, "unknown operator code \(rawCode)")
        }
        // Each argument takes at least one byte: a count beyond the bytes left cannot be right.
        guard Int(count) <= end - reader.position else { throw .truncated("operator \(index)'s \(count) arguments run past the operator list") }
        var arguments: [Int32] = []
        for _ in 0..<Int(count) {
            guard let argument = reader.zigzag(before: end) else { throw truncated }
            arguments.append(argument)
        }
        return OperatorEntry(code: code, arguments: arguments)
    }

    private static func checkedTensor(_ fields: TensorFields, index: Int, dataSize: Int, arenaSize: Int,
                                      constantAlignment: Int) throws(ModelFormatError) -> TensorInfo {
        let (rawType, rank, rawStorage, scale, zeroPoint, offset) = (fields.type, fields.rank, fields.storage, fields.scale, fields.zeroPoint, fields.offset)
        guard let type = TensorType(rawValue: rawType) else { throw .invalidTensor(index, "unknown type \(rawType)") }
        guard let storage = TensorStorage(rawValue: rawStorage) else { throw .invalidTensor(index, "unknown storage \(rawStorage)") }
        guard (1...ModelFormat.maximumRank).contains(rank) else { throw .invalidTensor(index, "rank \(rank)") }
        let shape = Array(fields.dimensions.prefix(rank))
        var elements = 1
        for dimension in shape {
            guard dimension > 0 else { throw .invalidTensor(index, "dimension \(dimension) in shape \(shape)") }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= ModelFormat.maximumElements else { throw .invalidTensor(index, "shape \(shape) has too many elements") }
            elements = product
        }
        let length = fields.length ?? type.byteCount(elements)
        guard length == type.byteCount(elements) else {
            throw .invalidTensor(index, "\(length) bytes for \(elements) \(type) elements (needs \(type.byteCount(elements)))")
        }
        guard scale.isFinite, scale > 0 else { throw .invalidTensor(index, "scale \(scale)") }
        guard type == .int32 || (-128...127).contains(zeroPoint) else { throw .invalidTensor(index, "zero point \(zeroPoint) outside int8") }
        let limit = storage == .constant ? dataSize : arenaSize, alignment = storage == .constant ? constantAlignment : ModelFormat.alignment
        guard offset % alignment == 0, offset <= limit, length <= limit - offset else {
            throw .invalidTensor(index, "bytes \(offset)..<\(offset + length) outside the \(storage == .constant ? "data section" : "arena") (\(limit) bytes) or misaligned")
        }
        guard storage == .constant || type == .int8 else { throw .invalidTensor(index, "activations are int8") }
        return TensorInfo(type: type, storage: storage, shape: shape, parameters: QuantizationParameters(scale: scale, zeroPoint: zeroPoint),
                          offset: offset, byteLength: length)
    }

    /// No two activations live at the same time share arena bytes (so no operator overwrites a
    /// value that is still to be read, or its own input).
    private func checkArena() throws(ModelFormatError) {
        let lives = ArenaPlanner.lifetimes(tensors: tensors, operators: operators, input: input, output: output)
        let entries = lives.sorted { $0.key < $1.key }
        for (i, a) in entries.enumerated() {
            for b in entries[(i + 1)...] where a.value.first <= b.value.last && b.value.first <= a.value.last {
                let (x, y) = (tensors[a.key], tensors[b.key])
                if x.offset < y.offset + y.byteLength && y.offset < x.offset + x.byteLength {
                    throw .invalidTensor(b.key, "its arena bytes overlap tensor \(a.key)'s while both are live")
                }
            }
        }
    }

    /// A constant tensor's bytes.
    func constant(_ index: Int) -> UnsafeRawBufferPointer {
        let t = tensors[index]
        return UnsafeRawBufferPointer(rebasing: data[t.offset..<(t.offset + t.byteLength)])
    }
}

/// Little-endian reading; callers check bounds first.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0
    mutating func u8() -> UInt8 { defer { position += 1 }; return bytes[position] }
    mutating func u16() -> UInt16 { UInt16(u8()) | UInt16(u8()) << 8 }
    mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }
    mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }
    mutating func i32() -> Int32 { Int32(bitPattern: u32()) }

    /// An unsigned LEB128 varint of at most 5 bytes and 32 bits ending before `end`; nil when it
    /// runs past `end` or does not fit 32 bits.
    mutating func varint(before end: Int) -> UInt32? {
        var value: UInt64 = 0
        for group in 0..<5 {
            guard position < end else { return nil }
            let byte = u8()
            value |= UInt64(byte & 0x7F) << (7 * UInt64(group))
            if byte & 0x80 == 0 { return value <= UInt64(UInt32.max) ? UInt32(value) : nil }
        }
        return nil
    }

    /// A zigzag-encoded signed varint (`(n << 1) ^ (n >> 31)`).
    mutating func zigzag(before end: Int) -> Int32? {
        varint(before: end).map { Int32(bitPattern: ($0 >> 1) ^ (0 &- ($0 & 1))) }
    }
}
