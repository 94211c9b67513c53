/// What a model file says about its input and output beyond the arithmetic (format version 4):
/// the input normalization it was trained with, so that an app quantizes raw pixels without
/// hard-coding statistics, and the names of its classes. Versions 1 to 3 store neither.
public struct ModelMetadata: Sendable, Equatable {
    /// Per-channel mean and standard deviation of pixels scaled to [0, 1]: the model's input
    /// is `(pixel / 255 - mean[c]) / std[c]` (torchvision's `ToTensor` then `Normalize`), channel
    /// `c` of an HWC image. One entry applies to every channel; empty: not stored.
    public var mean: [Float], std: [Float]
    /// One name per output element (UTF-8, 1 to `ModelFormat.maximumClassNameBytes` bytes, no
    /// NUL), or empty: not stored.
    public var classNames: [String]

    public init(mean: [Float] = [], std: [Float] = [], classNames: [String] = []) {
        (self.mean, self.std, self.classNames) = (mean, std, classNames)
    }

    /// Whether the file stores an input normalization.
    public var hasNormalization: Bool { !mean.isEmpty }

    /// The normalized value of an 8-bit pixel of channel `channel` (QuantMath then quantizes it
    /// with the input's parameters, as for any float input).
    public func normalized(pixel: UInt8, channel: Int) -> Float {
        let c = mean.count == 1 ? 0 : channel
        return (Float(pixel) / 255 - mean[c]) / std[c]
    }
}

/// The metadata block of a version 4 file (docs/runtime-format.md), read after the operator list.
extension ModelMetadata {
    /// Reads and checks the block from `reader` up to `end`: the normalization's channel count
    /// must be 1 or the input's channels and every value finite (deviations positive); the class
    /// count the output's element count; each name 1 to `maximumClassNameBytes` bytes without a
    /// NUL, followed by one. `names` receives each name's bytes in the file (NUL-terminated there).
    static func read(_ reader: inout ByteReader, end: Int, inputChannels: Int, outputElements: Int,
                     names: inout [UnsafeRawBufferPointer]) throws(ModelFormatError) -> ModelMetadata {
        func fail(_ detail: String) -> ModelFormatError { .invalidMetadata(detail) }
        guard let channels = reader.varint(before: end).map(Int.init) else { throw fail("the normalization's channel count is cut off") }
        guard channels == 0 || channels == 1 || channels == inputChannels else {
            throw fail("\(channels) normalization channels for an input of \(inputChannels)")
        }
        guard end - reader.position >= 8 * channels else { throw fail("the normalization's \(channels) means and deviations are cut off") }
        var metadata = ModelMetadata()
        for _ in 0..<channels { metadata.mean.append(Float(bitPattern: reader.u32())) }
        for _ in 0..<channels { metadata.std.append(Float(bitPattern: reader.u32())) }
        guard metadata.mean.allSatisfy({ $0.isFinite }), metadata.std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw fail("normalization means must be finite and deviations finite and positive")
        }
        guard let count = reader.varint(before: end).map(Int.init) else { throw fail("the class count is cut off") }
        guard count == 0 || count == outputElements else { throw fail("\(count) class names for \(outputElements) outputs") }
        for index in 0..<count {
            guard let length = reader.varint(before: end).map(Int.init), (1...ModelFormat.maximumClassNameBytes).contains(length),
                  end - reader.position >= length + 1 else {
                throw fail("class name \(index): a length of 1 to \(ModelFormat.maximumClassNameBytes) bytes and its NUL must fit before the data section")
            }
            let name = UnsafeRawBufferPointer(rebasing: reader.bytes[reader.position..<(reader.position + length)])
            guard !name.contains(0), reader.bytes[reader.position + length] == 0 else { throw fail("class name \(index) holds a NUL or lacks its final one") }
            names.append(name)
            metadata.classNames.append(String(decoding: name, as: UTF8.self))
            reader.position += length + 1
        }
        return metadata
    }

    /// The block's bytes (what `read` reads).
    func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.varint(UInt32(mean.count))
        for value in mean { writer.u32(value.bitPattern) }
        for value in std { writer.u32(value.bitPattern) }
        writer.varint(UInt32(classNames.count))
        for name in classNames {
            writer.varint(UInt32(name.utf8.count))
            writer.bytes += Array(name.utf8) + [0]
        }
        return writer.bytes
    }
}
