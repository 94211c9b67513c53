/// A 128-bit content hash for cache keys and provenance (two xxHash64-style lanes with different
/// seeds, a splitmix64 finish). Not cryptographic: it tells apart inputs that differ by accident
/// (another teacher, another data subset, another copy of the files), not inputs crafted to
/// collide. Every value is length-prefixed, so a sequence of values hashes differently from their
/// concatenation.
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
}

extension Fingerprint {
    /// The fingerprint of a data set's content: name, shape, count, classes, labels and pixels (the
    /// "which copy of the data" of a checkpoint's provenance).
    public static func of(dataset: Dataset) -> Fingerprint {
        var fingerprint = Fingerprint()
        combineContent(of: dataset, into: &fingerprint)
        return fingerprint
    }

    /// The fingerprint of a data set as a model sees it: its content (as `of(dataset:)`), then the
    /// normalization applied to it (the teacher-logits cache key).
    public static func of(dataset: Dataset, normalization: Normalization) -> Fingerprint {
        var fingerprint = Fingerprint()
        combineContent(of: dataset, into: &fingerprint)
        fingerprint.combine(normalization.mean + normalization.std)
        return fingerprint
    }

    private static func combineContent(of dataset: Dataset, into fingerprint: inout Fingerprint) {
        fingerprint.combine(dataset.name)
        fingerprint.combine(dataset.imageShape + [dataset.count, dataset.classCount])
        fingerprint.combine(dataset.labels)
        fingerprint.combine(dataset.pixels)
    }
}

extension UInt64 {
    fileprivate func rotated(_ bits: UInt64) -> UInt64 { (self << bits) | (self >> (64 - bits)) }
}
