import QuantMath

/// The `.mnw` model format, version 4 (docs/runtime-format.md): a little-endian file of a header,
/// a tensor table, an operator list and an aligned data section of constant tensors (weights are
/// used in place). Activations live in one arena whose layout the exporter planned.
public enum ModelFormat {
    public static let magic: [UInt8] = [0x4D, 0x4E, 0x57, 0x00]  // "MNW\0"
    /// The version written: 4 adds the metadata block (input normalization, class names: 
    /// `ModelMetadata`); 3 encodes the tensor table and the operator list as LEB128 varints and
    /// aligns constants to 4 bytes; 2 stores each layer's biases, multipliers and shifts as one
    /// channel-parameters tensor (shifts as int8). Versions 1 to 3 are still read.
    public static let version: UInt16 = 4
    public static let readableVersions: ClosedRange<UInt16> = 1...4
    /// The longest class name a file may store, in UTF-8 bytes.
    public static let maximumClassNameBytes = 256
    public static let headerSize = 64
    /// Bytes of a tensor-table entry in versions 1 and 2 (version 3's entries are varints).
    public static let fixedTensorEntrySize = 40
    /// The data section, the arena and every activation start at multiples of this (and
    /// constants in versions 1 and 2).
    public static let alignment = 16
    /// Constants start at multiples of this in version 3 (int32 values stay aligned).
    public static let constantAlignment = 4
    public static let maximumRank = 4
    /// Limits that keep every size computation far from overflow.
    public static let maximumTensors = 1 << 16, maximumOperators = 1 << 16, maximumElements = 1 << 28
    /// The most work one inference may take, summed over the operators: multiply-accumulates, window
    /// positions visited and elements read or written (an estimate: 2^35 / ResNet-50's 4.1 G multiply-accumulates ≈ 8). A file asking for more
    /// is refused, so no file makes an inference run for minutes. 64-bit on every platform (on a
    /// 32-bit Cortex-M, `Int` is 32 bits and `1 << 35` would be 0).
    public static let maximumWork: Int64 = 1 << 35
    /// Stride and dilation of a convolution, per axis.
    public static let maximumStride = 64, maximumDilation = 64
}

/// How a tensor's elements are stored.
public enum TensorType: UInt8, Sendable {
    case int8 = 1
    case int32 = 2
    /// Two signed 4-bit codes per byte, the first in the low nibble (QuantMath's `packInt4`).
    case int4 = 3
    /// A convolution's or fully connected layer's per-output-channel constants (version 2): the
    /// int32 biases, then the int32 multipliers, then the int8 shifts (9 bytes a channel).
    case channelParameters = 4

    /// Bytes for `count` elements.
    public func byteCount(_ count: Int) -> Int {
        switch self {
        case .int8: count
        case .int32: 4 * count
        case .int4: (count + 1) / 2
        case .channelParameters: 9 * count
        }
    }
}

/// Where a tensor lives: in the arena (activations, written at run time) or in the data section
/// (constants: weights, biases, multipliers).
public enum TensorStorage: UInt8, Sendable {
    case arena = 0
    case constant = 1
}

/// The operators' codes; each operator's arguments are laid out by its type in `Operators/`.
public enum OperatorCode: UInt16, Sendable, CaseIterable {
    /// `Convolution`
    case convolution = 1
    /// `FullyConnected`
    case fullyConnected = 2
    /// `Add`
    case add = 3
    /// `Concatenation`
    case concatenate = 4
    /// `MaxPool`
    case maxPool = 5
    /// `GlobalAveragePool`
    case globalAveragePool = 6
    /// `Clamp`
    case clamp = 7
    /// `LookupTable`
    case lookupTable = 8
}

/// A tensor of a model file, as the tensor table describes it.
public struct TensorInfo: Sendable, Equatable {
    public var type: TensorType
    public var storage: TensorStorage
    /// The shape of one inference (no batch axis), 1 to 4 dimensions.
    public var shape: [Int]
    public var parameters: QuantizationParameters
    /// Byte offset into the data section (constants) or the arena (activations).
    public var offset: Int
    public var byteLength: Int

    public init(type: TensorType, storage: TensorStorage, shape: [Int], parameters: QuantizationParameters, offset: Int = 0, byteLength: Int) {
        (self.type, self.storage, self.shape, self.parameters, self.offset, self.byteLength) = (type, storage, shape, parameters, offset, byteLength)
    }

    public var elementCount: Int { shape.reduce(1, *) }
}

/// One operator of a model file.
public struct OperatorEntry: Sendable, Equatable {
    public var code: OperatorCode
    public var arguments: [Int32]

    public init(code: OperatorCode, arguments: [Int32]) {
        (self.code, self.arguments) = (code, arguments)
    }

    /// The tensors this operator reads and the one it writes (indices into the tensor table).
    public var tensors: (reads: [Int], writes: [Int]) {
        let (reads, writes) = Operator.tensorPositions(self)
        return (reads.map { Int(arguments[$0]) }, writes.map { Int(arguments[$0]) })
    }
}

/// Why a model file was refused. Every field is checked before it is used.
public enum ModelFormatError: Error, Equatable, CustomStringConvertible {
    case truncated(String)
    case badMagic
    case unsupportedVersion(Int)
    case checksumMismatch(stored: UInt32, computed: UInt32)
    case invalidHeader(String)
    case invalidTensor(Int, String)
    case invalidOperator(Int, String)
    case misaligned(String)
    case arenaTooSmall(needed: Int, given: Int)
    case invalidMetadata(String)

    public var description: String {
        switch self {
        case .truncated(let what): "model file truncated: \(what)"
        case .badMagic: "not a Minnow model file (wrong magic)"
        case .unsupportedVersion(let version): "unsupported model format version \(version) (this runtime reads version \(ModelFormat.version))"
        case .checksumMismatch(let stored, let computed): "model file damaged: checksum \(hex(computed)) does not match the stored \(hex(stored))"
        case .invalidHeader(let detail): "invalid header: \(detail)"
        case .invalidTensor(let index, let detail): "invalid tensor \(index): \(detail)"
        case .invalidOperator(let index, let detail): "invalid operator \(index): \(detail)"
        case .misaligned(let detail): "misaligned model bytes: \(detail)"
        case .arenaTooSmall(let needed, let given): "the arena has \(given) bytes, the model needs \(needed)"
        case .invalidMetadata(let detail): "invalid metadata block: \(detail)"
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = Array("0123456789abcdef")
    return "0x" + String((0..<8).reversed().map { digits[Int((value >> (UInt32($0) * 4)) & 15)] })
}

/// CRC-32 (IEEE 802.3, reflected, the zlib one) of `bytes`.
public func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
}
