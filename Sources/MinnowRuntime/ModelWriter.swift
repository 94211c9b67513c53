import QuantMath

/// Builds a `.mnw` file: constants and activations are added as tensors, operators in execution
/// order; `serialize` plans the arena (`ArenaPlanner`), lays out the data section and writes the
/// header with its checksum. Used by the exporter; the runtime itself only reads.
public struct ModelWriter {
    public private(set) var tensors: [TensorInfo] = []
    public private(set) var operators: [OperatorEntry] = []
    private var constants: [[UInt8]] = []
    private var constantIndex: [Int: Int] = [:]

    public init() {}

    /// A constant tensor (`bytes` in the type's layout, little-endian); returns its index.
    public mutating func addConstant(type: TensorType, shape: [Int], parameters: QuantizationParameters, bytes: [UInt8]) -> Int {
        constantIndex[tensors.count] = constants.count
        constants.append(bytes)
        tensors.append(TensorInfo(type: type, storage: .constant, shape: shape, parameters: parameters, byteLength: bytes.count))
        return tensors.count - 1
    }

    /// An int32 constant.
    public mutating func addConstant(_ values: [Int32]) -> Int {
        addConstant(type: .int32, shape: [values.count], parameters: QuantizationParameters(scale: 1, zeroPoint: 0),
                    bytes: values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: UInt32(bitPattern: value) >> (8 * $0)) } })
    }

    /// An int8 activation in the arena; returns its index.
    public mutating func addActivation(shape: [Int], parameters: QuantizationParameters) -> Int {
        tensors.append(TensorInfo(type: .int8, storage: .arena, shape: shape, parameters: parameters, byteLength: shape.reduce(1, *)))
        return tensors.count - 1
    }

    /// An operator, after those added before it (execution order).
    public mutating func addOperator(_ op: Operator) {
        operators.append(op.entry)
    }

    /// The file's form (versions 2 and 3): each convolution's and fully connected layer's bias,
    /// multipliers and shifts (int8 or int32 constants) as one channel-parameters tensor (shifts as
    /// int8), its arguments without the other two; tensors no operator uses any more dropped, the
    /// rest renumbered in order.
    func fileForm(input: Int32, output: Int32) -> (tensors: [TensorInfo], constants: [Int: [UInt8]], operators: [OperatorEntry], input: Int32, output: Int32) {
        var tensors = self.tensors
        var constants = constantIndex.mapValues { self.constants[$0] }
        var operators: [OperatorEntry] = []
        for entry in self.operators {
            let a = entry.arguments
            let full = entry.code == .convolution ? Convolution.argumentCount : entry.code == .fullyConnected ? FullyConnected.argumentCount : nil
            guard a.count == full else {
                operators.append(entry)
                continue
            }
            let (bias, multipliers, shifts) = (Int(a[2]), Int(a[3]), Int(a[4]))
            let shiftBytes = tensors[shifts].type == .int8 ? constants[shifts]!
                : stride(from: 0, to: constants[shifts]!.count, by: 4).map { constants[shifts]![$0] }  // int32 in -31...30: its low byte
            tensors.append(TensorInfo(type: .channelParameters, storage: .constant, shape: tensors[bias].shape,
                                      parameters: QuantizationParameters(scale: 1, zeroPoint: 0), byteLength: 9 * tensors[bias].elementCount))
            constants[tensors.count - 1] = constants[bias]! + constants[multipliers]! + shiftBytes
            operators.append(OperatorEntry(code: entry.code, arguments: [a[0], a[1], Int32(tensors.count - 1)] + a[5...]))
        }
        var used = Set([Int(input), Int(output)])
        for entry in operators {
            let (reads, writes) = entry.tensors
            used.formUnion(reads + writes)
        }
        let kept = tensors.indices.filter(used.contains)
        let renumbered = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, Int32($0)) })
        operators = operators.map { entry in
            var entry = entry
            let (reads, writes) = Operator.tensorPositions(entry)
            for position in reads + writes { entry.arguments[position] = renumbered[Int(entry.arguments[position])]! }
            return entry
        }
        let keptConstants = Dictionary(uniqueKeysWithValues: kept.enumerated().compactMap { new, old in constants[old].map { (new, $0) } })
        return (kept.map { tensors[$0] }, keptConstants, operators, renumbered[Int(input)]!, renumbered[Int(output)]!)
    }

    /// Checks the counts, ranks and element counts against the format's limits.
    /// What the loader would refuse in `metadata`, refused before anything is written.
    private func check(_ metadata: ModelMetadata, input: Int, output: Int) throws(ModelFormatError) {
        let channels = tensors[input].shape.last ?? 1, outputs = tensors[output].elementCount
        guard metadata.mean.count == metadata.std.count, [0, 1, channels].contains(metadata.mean.count),
              metadata.mean.allSatisfy({ $0.isFinite }), metadata.std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw .invalidMetadata("a normalization needs 1 or \(channels) finite means and positive deviations, got \(metadata.mean) and \(metadata.std)")
        }
        guard metadata.classNames.isEmpty || metadata.classNames.count == outputs else {
            throw .invalidMetadata("\(metadata.classNames.count) class names for \(outputs) outputs")
        }
        for name in metadata.classNames where !(1...ModelFormat.maximumClassNameBytes).contains(name.utf8.count) || name.utf8.contains(0) {
            throw .invalidMetadata("class name \"\(name)\" must have 1 to \(ModelFormat.maximumClassNameBytes) UTF-8 bytes and no NUL")
        }
    }

    private func checkLimits(input: Int, output: Int) throws(ModelFormatError) {
        guard (1...ModelFormat.maximumTensors).contains(tensors.count), (1...ModelFormat.maximumOperators).contains(operators.count) else {
            throw .invalidHeader("\(tensors.count) tensors and \(operators.count) operators; the format holds 1...\(ModelFormat.maximumTensors) of each")
        }
        guard tensors.indices.contains(input), tensors.indices.contains(output) else { throw .invalidHeader("input \(input) or output \(output) is no tensor") }
        for (index, tensor) in tensors.enumerated() {
            var elements = 1
            for dimension in tensor.shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard dimension >= 1, !overflow, product <= ModelFormat.maximumElements else {
                    throw .invalidTensor(index, "shape \(tensor.shape): dimensions must be positive, at most \(ModelFormat.maximumElements) elements")
                }
                elements = product
            }
            guard tensor.shape.count <= ModelFormat.maximumRank else { throw .invalidTensor(index, "rank \(tensor.shape.count) over \(ModelFormat.maximumRank)") }
        }
    }

    /// The file's bytes (`fileForm`), with the arena planned for `input` → `output`; an error
    /// naming the tensor or the table when the model does not fit the format (counts, ranks and
    /// element counts past its limits, an arena or data section past 32 bits), never a trap.
    public func serialize(input: Int, output: Int, multiplyAccumulates: Int,
                          metadata: ModelMetadata = ModelMetadata()) throws(ModelFormatError) -> (bytes: [UInt8], plan: ArenaPlan) {
        try checkLimits(input: input, output: output)
        try check(metadata, input: input, output: output)
        let form = fileForm(input: Int32(input), output: Int32(output))
        var tensors = form.tensors
        let (constants, operators, input, output) = (form.constants, form.operators, form.input, form.output)
        let plan = ArenaPlanner.plan(tensors: tensors, operators: operators, input: Int(input), output: Int(output))
        for (index, offset) in plan.offsets { tensors[index].offset = offset }
        var data: [UInt8] = []
        for index in tensors.indices where tensors[index].storage == .constant {
            let bytes = constants[index]!
            tensors[index].offset = data.count
            data += bytes
            data += [UInt8](repeating: 0, count: (ModelFormat.constantAlignment - data.count % ModelFormat.constantAlignment) % ModelFormat.constantAlignment)
        }
        guard plan.size <= Int(Int32.max), data.count <= Int(Int32.max) else {
            throw .invalidHeader("an arena of \(plan.size) bytes and \(data.count) bytes of constants do not fit the format's 32-bit offsets")
        }
        var body = ByteWriter()
        for tensor in tensors {
            body.u8(tensor.type.rawValue)
            body.u8(UInt8(tensor.shape.count))
            body.u8(tensor.storage.rawValue)
            body.zigzag(tensor.parameters.zeroPoint)
            for dimension in tensor.shape { body.varint(UInt32(dimension)) }
            body.u32(tensor.parameters.scale.bitPattern)
            body.varint(UInt32(tensor.offset))
        }
        let operatorOffset = ModelFormat.headerSize + body.bytes.count
        for entry in operators {
            body.varint(UInt32(entry.code.rawValue))
            body.varint(UInt32(entry.arguments.count))
            for argument in entry.arguments { body.zigzag(argument) }
        }
        body.bytes += metadata.encoded()
        body.pad(to: ModelFormat.alignment, after: ModelFormat.headerSize)
        let dataOffset = ModelFormat.headerSize + body.bytes.count
        let fileSize = dataOffset + data.count
        var header = ByteWriter()
        header.bytes += ModelFormat.magic
        header.u16(ModelFormat.version)
        header.u16(UInt16(ModelFormat.headerSize))
        header.u64(UInt64(fileSize))
        header.u32(0)  // checksum, filled below
        header.u32(UInt32(tensors.count))
        header.u32(UInt32(operators.count))
        header.u32(UInt32(bitPattern: input))
        header.u32(UInt32(bitPattern: output))
        header.u32(UInt32(plan.size))
        header.u32(UInt32(ModelFormat.headerSize))
        header.u32(UInt32(operatorOffset))
        header.u32(UInt32(dataOffset))
        header.u32(UInt32(data.count))
        header.u64(UInt64(multiplyAccumulates))
        var file = header.bytes + body.bytes + data
        let checksum = file.withUnsafeBytes { crc32(UnsafeRawBufferPointer(rebasing: $0[ModelFormat.headerSize...])) }
        for i in 0..<4 { file[16 + i] = UInt8(truncatingIfNeeded: checksum >> (8 * UInt32(i))) }
        return (file, plan)
    }
}

/// Little-endian encoding.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { for i in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt16(i)))) } }
    mutating func u32(_ value: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) } }
    mutating func u64(_ value: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) } }
    mutating func i32(_ value: Int32) { u32(UInt32(bitPattern: value)) }
    /// Unsigned LEB128: seven bits a byte, low first, the high bit set on all but the last.
    mutating func varint(_ value: UInt32) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
    /// Zigzag (0, -1, 1, -2 ... as 0, 1, 2, 3 ...), then LEB128.
    mutating func zigzag(_ value: Int32) { varint(UInt32(bitPattern: (value << 1) ^ (value >> 31))) }
    mutating func pad(to alignment: Int, after base: Int) {
        while (base + bytes.count) % alignment != 0 { bytes.append(0) }
    }
}

/// Where each activation lives in the arena.
public struct ArenaPlan: Sendable, Equatable {
    /// Arena offset of each activation tensor, by tensor index.
    public var offsets: [Int: Int]
    /// Bytes the arena needs.
    public var size: Int
    /// The largest total of simultaneously live activations: no plan can be smaller.
    public var lowerBound: Int
}

/// Places activations in one arena by liveness: a tensor is live from the operator that writes it
/// (the input: from the start) to the last one that reads it (the output: to the end); two live
/// at once never overlap. Greedy by size, largest first, each at the lowest aligned offset that
/// fits beside those already placed (TFLite Micro's greedy planner).
public enum ArenaPlanner {
    /// The live interval `[first, last]` (operator indices; the input starts at -1) of each activation.
    public static func lifetimes(tensors: [TensorInfo], operators: [OperatorEntry], input: Int, output: Int) -> [Int: (first: Int, last: Int)] {
        var result: [Int: (first: Int, last: Int)] = [input: (-1, -1)]
        for (index, entry) in operators.enumerated() {
            let (reads, writes) = entry.tensors
            for tensor in reads where tensors.indices.contains(tensor) && tensors[tensor].storage == .arena {
                if let life = result[tensor] { result[tensor] = (life.first, max(life.last, index)) }
            }
            for tensor in writes where result[tensor] == nil { result[tensor] = (index, index) }
        }
        if let life = result[output] { result[output] = (life.first, operators.count) }
        return result
    }

    public static func plan(tensors: [TensorInfo], operators: [OperatorEntry], input: Int, output: Int) -> ArenaPlan {
        let lives = lifetimes(tensors: tensors, operators: operators, input: input, output: output)
        func aligned(_ n: Int) -> Int { (n + ModelFormat.alignment - 1) / ModelFormat.alignment * ModelFormat.alignment }
        let order = lives.keys.sorted { (tensors[$0].byteLength, $1) > (tensors[$1].byteLength, $0) }
        var placed: [(tensor: Int, offset: Int)] = []
        var offsets: [Int: Int] = [:]
        var size = 0
        for tensor in order {
            let life = lives[tensor]!, length = aligned(tensors[tensor].byteLength)
            let conflicts = placed.filter { other in
                let o = lives[other.tensor]!
                return o.first <= life.last && life.first <= o.last
            }.map { ($0.offset, $0.offset + aligned(tensors[$0.tensor].byteLength)) }.sorted { $0.0 < $1.0 }
            var offset = 0
            for (start, end) in conflicts where offset + length > start { offset = max(offset, end) }
            placed.append((tensor, offset))
            offsets[tensor] = offset
            size = max(size, offset + length)
        }
        var lowerBound = 0
        for step in -1...operators.count {
            lowerBound = max(lowerBound, lives.filter { $0.value.first <= step && step <= $0.value.last }
                .reduce(0) { $0 + aligned(tensors[$1.key].byteLength) })
        }
        return ArenaPlan(offsets: offsets, size: size, lowerBound: lowerBound)
    }
}
