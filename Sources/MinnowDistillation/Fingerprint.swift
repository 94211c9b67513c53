import MinnowData
import MinnowNN
import MinnowTensor

/// A 128-bit content hash for cache keys (two xxHash64-style lanes with different seeds, a
/// splitmix64 finish). Not cryptographic: it tells apart inputs that differ by accident
/// (another teacher, another data subset), not inputs crafted to collide. Every value is
/// length-prefixed, so a sequence of values hashes differently from their concatenation.
public struct Fingerprint: Sendable, Equatable {
    private var lane0: UInt64 = 0x9E37_79B1_85EB_CA87
    private var lane1: UInt64 = 0xC2B2_AE3D_27D4_EB4F

    public init() {}

    /// Adds raw bytes.
    public mutating func combine(bytes: UnsafeRawBufferPointer) {
        mix(UInt64(bytes.count))
        var offset = 0
        while offset + 8 <= bytes.count {
            mix(bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        var tail: UInt64 = 0
        for (shift, index) in (offset..<bytes.count).enumerated() { tail |= UInt64(bytes[index]) << (8 * shift) }
        mix(tail)
    }

    /// Adds the bytes of an array of plain values (bytes, integers, floats).
    public mutating func combine<T: BitwiseCopyable>(_ values: [T]) {
        values.withUnsafeBytes { combine(bytes: $0) }
    }

    /// Adds a string's UTF-8 bytes.
    public mutating func combine(_ string: String) { combine(Array(string.utf8)) }

    /// The hash as 32 hexadecimal digits.
    public var hex: String {
        [finish(lane0 ^ lane1.rotated(17)), finish(lane1 ^ lane0.rotated(41))]
            .map { value in let digits = String(value, radix: 16); return String(repeating: "0", count: 16 - digits.count) + digits }
            .joined()
    }

    private mutating func mix(_ word: UInt64) {
        lane0 = (lane0 &+ word &* 0xC2B2_AE3D_27D4_EB4F).rotated(31) &* 0x9E37_79B1_85EB_CA87
        lane1 = (lane1 ^ (word &* 0x1656_67B1_9E37_79F9)).rotated(27) &* 0x85EB_CA77_C2B2_AE63 &+ 0x27D4_EB2F_1656_67C5
    }

    private func finish(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The fingerprint of a model's weights: its config JSON, then every parameter and buffer with
    /// its path and shape. Two checkpoints with the same weights and architecture (whatever their
    /// optimizer state, metrics or timestamps) give the same fingerprint.
    public static func of(model: Module, configJSON: String) -> Fingerprint {
        var fingerprint = Fingerprint()
        fingerprint.combine(configJSON)
        let tensors = model.namedParameters().map { ($0.path, $0.parameter.value) } + model.namedBuffers().map { ($0.path, $0.buffer.value) }
        for (path, tensor) in tensors {
            fingerprint.combine(path)
            fingerprint.combine(tensor.shape)
            tensor.withUnsafePointer { fingerprint.combine(bytes: UnsafeRawBufferPointer(start: $0, count: tensor.count * 4)) }
        }
        return fingerprint
    }

    /// The fingerprint of a data set as the teacher sees it: name, shape, classes, labels, pixels,
    /// and the normalization applied to them.
    public static func of(dataset: Dataset, normalization: Normalization) -> Fingerprint {
        var fingerprint = Fingerprint()
        fingerprint.combine(dataset.name)
        fingerprint.combine(dataset.imageShape + [dataset.count, dataset.classCount])
        fingerprint.combine(dataset.labels)
        fingerprint.combine(dataset.pixels)
        fingerprint.combine(normalization.mean + normalization.std)
        return fingerprint
    }
}

extension UInt64 {
    fileprivate func rotated(_ bits: UInt64) -> UInt64 { (self << bits) | (self >> (64 - bits)) }
}
