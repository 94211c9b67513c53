import MinnowRuntime
import QuantMath
import XCTest

/// Format version 4's metadata block: the input normalization and class names round-trip, raw
/// pixels quantize exactly as normalized floats do, and a file whose block is wrong in any field
/// is refused with `invalidMetadata` naming it (never a trap).
final class ModelMetadataTests: XCTestCase {
    static let names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// A model of one fully connected layer from a [4, 4, channels] input to 10 outputs.
    func model(channels: Int = 1, metadata: ModelMetadata) throws -> [UInt8] {
        var writer = ModelWriter()
        let unit = QuantizationParameters(scale: 1, zeroPoint: 0)
        let input = writer.addActivation(shape: [4, 4, channels], parameters: QuantizationParameters(scale: 0.02, zeroPoint: -7))
        let inputs = 16 * channels
        let weight = writer.addConstant(type: .int8, shape: [inputs, 10], parameters: unit,
                                        bytes: (0..<(inputs * 10)).map { UInt8(truncatingIfNeeded: $0 * 29 % 253) })
        let m = FixedPointMultiplier(0.003)
        let bias = writer.addConstant([Int32](repeating: 5, count: 10))
        let multipliers = writer.addConstant([Int32](repeating: m.multiplier, count: 10)), shifts = writer.addConstant([Int32](repeating: m.shift, count: 10))
        let output = writer.addActivation(shape: [10], parameters: QuantizationParameters(scale: 0.1, zeroPoint: 3))
        writer.addOperator(.fullyConnected(FullyConnected(input: input, weight: weight, bias: bias, multipliers: multipliers, shifts: shifts,
                                                          output: output, clamp: CodeRange(minimum: -128, maximum: 127))))
        return try writer.serialize(input: input, output: output, multiplyAccumulates: inputs * 10, metadata: metadata).bytes
    }

    func testNormalizationAndNamesRoundTrip() throws {
        let metadata = ModelMetadata(mean: [0.2860], std: [0.3530], classNames: Self.names)
        let bytes = try model(metadata: metadata)
        XCTAssertEqual(bytes[4], 4, "format version 4")
        try bytes.withUnsafeBytes { raw in
            let loaded = try RuntimeModel(bytes: raw)
            XCTAssertEqual(loaded.metadata, metadata)
            XCTAssertEqual(loaded.classNameBytes.count, 10)
            for (name, stored) in zip(Self.names, loaded.classNameBytes) {
                XCTAssertEqual(Array(stored), Array(name.utf8))
                XCTAssertEqual(stored.baseAddress!.load(fromByteOffset: stored.count, as: UInt8.self), 0, "each name is NUL-terminated in the file")
            }
        }
        let colour = ModelMetadata(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])
        try model(channels: 3, metadata: colour).withUnsafeBytes { XCTAssertEqual(try RuntimeModel(bytes: $0).metadata, colour) }
        try model(metadata: ModelMetadata()).withUnsafeBytes { XCTAssertEqual(try RuntimeModel(bytes: $0).metadata, ModelMetadata()) }
    }

    /// `setInput(pixels:)` gives the codes `setInput` gives the floats a training pipeline makes,
    /// per channel; a file without a normalization refuses it.
    func testPixelsQuantizeAsNormalizedFloats() throws {
        let colour = ModelMetadata(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])
        let pixels = (0..<48).map { UInt8(truncatingIfNeeded: $0 * 97 + 3) }
        try model(channels: 3, metadata: colour).withUnsafeBytes { raw in
            let interpreter = try Interpreter(model: try RuntimeModel(bytes: raw), kernels: .reference)
            XCTAssertTrue(pixels.withUnsafeBufferPointer { interpreter.setInput(pixels: $0) })
            let fromPixels = Array(interpreter.input)
            interpreter.setInput(pixels.enumerated().map { (Float($0.element) / 255 - colour.mean[$0.offset % 3]) / colour.std[$0.offset % 3] })
            XCTAssertEqual(fromPixels, Array(interpreter.input))
        }
        try model(metadata: ModelMetadata()).withUnsafeBytes { raw in
            let interpreter = try Interpreter(model: try RuntimeModel(bytes: raw), kernels: .reference)
            XCTAssertFalse([UInt8](repeating: 9, count: 16).withUnsafeBufferPointer { interpreter.setInput(pixels: $0) })
        }
    }

    /// The writer refuses what the loader would.
    func testWriterRefusesBadMetadata() {
        let cases: [(ModelMetadata, String)] = [
            (ModelMetadata(mean: [0.5, 0.5], std: [0.2, 0.2]), "two channels for one"),
            (ModelMetadata(mean: [0.5], std: [0]), "a zero deviation"),
            (ModelMetadata(mean: [.nan], std: [1]), "a NaN mean"),
            (ModelMetadata(mean: [0.5], std: [0.2, 0.3]), "counts differ"),
            (ModelMetadata(classNames: ["a", "b"]), "two names for ten outputs"),
            (ModelMetadata(classNames: Self.names.dropLast() + ["bad\0name"]), "a NUL in a name"),
            (ModelMetadata(classNames: Self.names.dropLast() + [""]), "an empty name"),
            (ModelMetadata(classNames: Self.names.dropLast() + [String(repeating: "x", count: 257)]), "a name of 257 bytes"),
        ]
        for (metadata, what) in cases {
            XCTAssertThrowsError(try model(metadata: metadata), what) { error in
                guard case .invalidMetadata = error as? ModelFormatError else { return XCTFail("\(what): \(error)") }
            }
        }
    }

    /// A version 4 file whose block says something the loader must not believe: each refused
    /// with `invalidMetadata`.
    func testLoaderRefusesBadBlocks() throws {
        let good = try model(metadata: ModelMetadata(mean: [0.25], std: [0.5], classNames: Self.names))
        // The block starts with the channel count 1, the mean 0.25 (3E800000), the std 0.5 (3F000000).
        let start = try XCTUnwrap(find([1, 0x00, 0x00, 0x80, 0x3E, 0x00, 0x00, 0x00, 0x3F], in: good))
        let names = start + 9
        XCTAssertEqual(good[names], 10, "the class count follows")
        let edits: [(String, (inout [UInt8]) -> Void)] = [
            ("two normalization channels", { $0[start] = 2 }),
            ("a NaN mean", { $0[start + 1...start + 4] = [0x00, 0x00, 0xC0, 0x7F] }),
            ("a negative deviation", { $0[start + 8] = 0xBF }),
            ("nine names for ten outputs", { $0[names] = 9 }),
            ("a name length of 0", { $0[names + 1] = 0 }),
            ("a name length past the block", { $0[names + 1] = 0x7F }),
            ("a NUL inside a name", { $0[names + 3] = 0 }),
            ("a name without its NUL", { $0[names + 2 + 11] = 0x41 }),
        ]
        for (what, edit) in edits {
            var bytes = good
            edit(&bytes)
            resign(&bytes)
            try bytes.withUnsafeBytes { raw in
                XCTAssertThrowsError(try RuntimeModel(bytes: raw), what) { error in
                    guard case .invalidMetadata = error as? ModelFormatError else { return XCTFail("\(what): \(error)") }
                }
            }
        }
    }

    func find(_ pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        (0...(bytes.count - pattern.count)).first { Array(bytes[$0..<($0 + pattern.count)]) == pattern }
    }

    /// Rewrites the checksum after an edit (so the loader reads the edited block).
    func resign(_ bytes: inout [UInt8]) {
        let checksum = bytes.withUnsafeBytes { crc32(UnsafeRawBufferPointer(rebasing: $0[64...])) }
        for i in 0..<4 { bytes[16 + i] = UInt8(truncatingIfNeeded: checksum >> (8 * UInt32(i))) }
    }
}
