import CAllocationCounter
import Foundation
import MinnowRuntime
import QuantMath
import XCTest

/// The loader treats every file as hostile: each kind of damage gives a typed error naming what
/// was wrong, never a trap; a valid file runs without allocating.
final class ModelLoaderTests: XCTestCase {
    /// A small valid model: a 3x3 convolution (ReLU fused), global average pooling, a linear layer.
    func validModel(channels c: Int = 8) throws -> [UInt8] {
        var writer = ModelWriter()
        let p = QuantizationParameters(scale: 0.05, zeroPoint: -3)
        let input = writer.addActivation(shape: [4, 4, 2], parameters: p)
        let filter = writer.addConstant(type: .int8, shape: [3, 3, 2, c], parameters: QuantizationParameters(scale: 1, zeroPoint: 0),
                                        bytes: (0..<(18 * c)).map { UInt8(bitPattern: Int8(truncatingIfNeeded: $0 * 7 % 41 - 20)) })
        let bias = writer.addConstant((0..<c).map { Int32($0 * 5 - 20) })
        let m = FixedPointMultiplier(0.013)
        let multipliers = writer.addConstant(Array(repeating: m.multiplier, count: c)), shifts = writer.addConstant(Array(repeating: m.shift, count: c))
        let conv = writer.addActivation(shape: [4, 4, c], parameters: QuantizationParameters(scale: 0.1, zeroPoint: -128))
        writer.addOperator(.convolution(Convolution(input: input, filter: filter, bias: bias, multipliers: multipliers, shifts: shifts, output: conv,
                                                    stride: Extent(1, 1), padding: Extent(1, 1), dilation: Extent(1, 1), groups: 1,
                                                    clamp: CodeRange(minimum: -128, maximum: 127))))
        let pooled = writer.addActivation(shape: [c], parameters: QuantizationParameters(scale: 0.08, zeroPoint: -100))
        let g = FixedPointMultiplier(0.1 / (16 * 0.08))
        writer.addOperator(.globalAveragePool(GlobalAveragePool(input: conv, output: pooled, multiplier: g)))
        let weight = writer.addConstant(type: .int8, shape: [c, 3], parameters: QuantizationParameters(scale: 1, zeroPoint: 0),
                                        bytes: (0..<(3 * c)).map { UInt8(bitPattern: Int8($0 % 9 - 4)) })
        let fcBias = writer.addConstant([1, -2, 3])
        let fm = FixedPointMultiplier(0.02)
        let fcMultipliers = writer.addConstant(Array(repeating: fm.multiplier, count: 3)), fcShifts = writer.addConstant(Array(repeating: fm.shift, count: 3))
        let logits = writer.addActivation(shape: [3], parameters: QuantizationParameters(scale: 0.2, zeroPoint: 0))
        writer.addOperator(.fullyConnected(FullyConnected(input: pooled, weight: weight, bias: fcBias, multipliers: fcMultipliers, shifts: fcShifts,
                                                          output: logits, clamp: CodeRange(minimum: -128, maximum: 127))))
        return try writer.serialize(input: input, output: logits, multiplyAccumulates: 4 * 4 * 9 * 2 * c + 3 * c).bytes
    }

    func load(_ bytes: [UInt8]) throws -> RuntimeModel {
        try bytes.withUnsafeBytes { try RuntimeModel(bytes: $0) }
    }

    /// `bytes` with the checksum recomputed (so that a test reaches the check after it).
    func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        let checksum = bytes.withUnsafeBytes { crc32(UnsafeRawBufferPointer(rebasing: $0[ModelFormat.headerSize...])) }
        for i in 0..<4 { bytes[16 + i] = UInt8(truncatingIfNeeded: checksum >> (8 * UInt32(i))) }
        return bytes
    }

    func write32(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }

    func expect(_ bytes: [UInt8], _ check: (ModelFormatError) -> Bool, _ what: String, line: UInt = #line) {
        XCTAssertThrowsError(try load(bytes), what, line: line) { error in
            guard let error = error as? ModelFormatError else { return XCTFail("\(what): \(error) is not a ModelFormatError", line: line) }
            XCTAssertTrue(check(error), "\(what): \(error)", line: line)
            XCTAssertFalse(error.description.isEmpty)
        }
    }

    func testValidModelLoadsAndRuns() throws {
        let bytes = try validModel()
        try bytes.withUnsafeBytes { raw in
            let model = try RuntimeModel(bytes: raw)
            let interpreter = try Interpreter(model: model)
            for i in 0..<interpreter.input.count { interpreter.input[i] = Int8(truncatingIfNeeded: i * 13) }
            interpreter.invoke()
            XCTAssertEqual(interpreter.output.count, 3)
            let arena = UnsafeMutableRawBufferPointer.allocate(byteCount: model.arenaSize - 16, alignment: 16)
            defer { arena.deallocate() }
            XCTAssertThrowsError(try Interpreter(model: model, arena: arena)) { error in
                XCTAssertEqual(error as? ModelFormatError, .arenaTooSmall(needed: model.arenaSize, given: model.arenaSize - 16))
            }
        }
    }

    /// `invoke` allocates nothing: the heap allocations of 100 inferences, counted by
    /// CAllocationCounter (which replaces malloc & co. in the test executable), are 0 (with a
    /// convolution wide enough that its accumulators would not fit a stack temporary).
    func testInferenceAllocatesNothing() throws {
        XCTAssertEqual(minnow_allocation_counting(), 1, "allocation counting works on Linux/glibc")
        let bytes = try validModel(channels: 600)
        try bytes.withUnsafeBytes { raw in
            let interpreter = try Interpreter(model: try RuntimeModel(bytes: raw))
            interpreter.invoke()
            let before = minnow_allocation_count()
            for _ in 0..<100 { interpreter.invoke() }
            let after = minnow_allocation_count()
            XCTAssertEqual(after - before, 0, "allocations during 100 inferences")
            _ = [Int](repeating: 0, count: 1000)
            XCTAssertGreaterThan(minnow_allocation_count(), after, "the counter sees an allocation")
        }
    }

    func testMalformedFilesGiveTypedErrors() throws {
        let good = try validModel()
        let layout = TableLayout(good)
        // Truncated anywhere: the header, the tables, the data.
        for length in [0, 10, 63, 64, 100, good.count - 1] {
            expect(Array(good.prefix(length)), { if case .truncated = $0 { true } else { false } }, "truncated to \(length) bytes")
        }
        var bytes = good
        bytes[0] = 0x4E
        expect(bytes, { $0 == .badMagic }, "wrong magic")
        bytes = good
        bytes[4] = 9
        expect(bytes, { $0 == .unsupportedVersion(9) }, "future version")
        bytes = good
        bytes[bytes.count - 1] ^= 0x40
        expect(bytes, { if case .checksumMismatch = $0 { true } else { false } }, "a flipped weight bit")
        // A constant's offset past the end of the data section, and one not a multiple of 4.
        expect(layout.replacing(layout.tensorOffsets[1], with: 1 << 30), { if case .invalidTensor(1, let d) = $0 { d.contains("outside the data section") } else { false } },
               "offset past the end")
        expect(layout.replacing(layout.tensorOffsets[1], with: 2), { if case .invalidTensor(1, let d) = $0 { d.contains("misaligned") } else { false } },
               "misaligned constant")
        // Dimensions whose product overflows (each within the limit, their product not).
        bytes = good
        var stretched = layout
        for axis in 0..<3 {
            bytes = stretched.replacing(stretched.tensorDimensions[1][axis], with: UInt32(ModelFormat.maximumElements))
            stretched = TableLayout(bytes)
        }
        expect(bytes, { if case .invalidTensor(1, let d) = $0 { d.contains("too many elements") } else { false } }, "overflowing shape")
        // A varint that does not end inside the tensor table, or is longer than 5 bytes.
        expect(layout.replacing(layout.tensorOffsets[1], withBytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
               { if case .invalidHeader = $0 { true } else if case .truncated = $0 { true } else { false } }, "six-byte varint")
        // An operator naming a tensor that does not exist.
        expect(layout.replacing(layout.operatorArguments[0][0], withSigned: 999),
               { if case .invalidOperator(0, let d) = $0 { d.contains("names tensor 999") } else { false } }, "missing tensor")
        // An unknown operator code, and a stride of 0.
        expect(layout.replacing(layout.operatorCodes[0], with: 77), { if case .invalidOperator(0, let d) = $0 { d.contains("unknown operator code 77") } else { false } },
               "unknown op")
        expect(layout.replacing(layout.operatorArguments[0][4], withSigned: 0),
               { if case .invalidOperator(0, let d) = $0 { d.contains("stride") } else { false } }, "stride 0")
        // The convolution's channel parameters replaced by its filter (an int8 tensor), or the
        // operator given version 1's argument count (the list then misparses).
        expect(layout.replacing(layout.operatorArguments[0][2], withBytes: Array(good[layout.operatorArguments[0][1]])),
               { if case .invalidOperator(0, let d) = $0 { d.contains("channel parameters") } else { false } }, "not channel parameters")
        expect(layout.replacing(layout.operatorCounts[0], with: 15), { if case .invalidOperator = $0 { true } else if case .truncated = $0 { true } else { false } },
               "version 1 argument count")
        // A header that claims more tensors than the file holds.
        bytes = good
        write32(100_000, at: 20, in: &bytes)
        expect(resealed(bytes), { if case .invalidHeader = $0 { true } else { false } }, "tensor count")
    }

    /// Every model file that ever crashed a fuzzer (scripts/fuzz.sh loader writes them to
    /// Tests/Fuzz/crashes/; the structure fuzzer's findings are committed there as built files
    /// too) is now refused with a typed error, or loads and runs on every kernel level with the
    /// reference kernels' output.
    func testEveryFuzzerFindingIsHandled() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/crashes")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertFalse(names.isEmpty, "no committed findings in \(folder.path)")
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
            try bytes.withUnsafeBytes { raw in
                let model: RuntimeModel
                do {
                    model = try RuntimeModel(bytes: raw)
                } catch {
                    return XCTAssertTrue(error is ModelFormatError, "\(name): \(error) is not a ModelFormatError")
                }
                var expected: [Int8]?
                for kernels in [KernelChoice.reference, .fastest, .avxVNNI, .avx2] {
                    let interpreter = try Interpreter(model: model, kernels: kernels)
                    for i in interpreter.input.indices { interpreter.input[i] = Int8(truncatingIfNeeded: i &* 31) }
                    interpreter.invoke()
                    if let expected { XCTAssertEqual(Array(interpreter.output), expected, "\(name), \(kernels)") }
                    expected = Array(interpreter.output)
                }
            }
        }
    }

    /// Files of versions 1 (per-channel shifts as int32) and 2 (fixed-size tables) still load
    /// and compute what the version 3 export of the same model computes (all three seed the
    /// fuzzer's corpus).
    func testOlderVersionsStillLoad() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")
        let files = try ["student-pruned50.mnw", "student-pruned50-v2.mnw", "student-pruned50-v3.mnw"].map {
            [UInt8](try Data(contentsOf: folder.appendingPathComponent($0)))
        }
        XCTAssertEqual(files.map { $0[4] }, [1, 2, 3], "the file versions")
        XCTAssertLessThan(files[1].count, files[0].count, "int8 shifts make the file smaller")
        XCTAssertLessThan(files[2].count, files[1].count, "varint tables make it smaller still")
        func outputs(_ bytes: [UInt8], kernels: KernelChoice) throws -> [Int8] {
            try bytes.withUnsafeBytes { raw in
                let interpreter = try Interpreter(model: try RuntimeModel(bytes: raw), kernels: kernels)
                for i in 0..<interpreter.input.count { interpreter.input[i] = Int8(truncatingIfNeeded: i &* 37 &+ 11) }
                interpreter.invoke()
                return Array(interpreter.output)
            }
        }
        for kernels in [KernelChoice.reference, .fastest] {
            let expected = try outputs(files[2], kernels: kernels)
            for file in files.dropLast() { XCTAssertEqual(try outputs(file, kernels: kernels), expected) }
        }
    }

    /// Every single-byte change of a valid file is either refused with a typed error or loads; it
    /// never traps (a quick, deterministic cousin of the fuzzer, over every byte of the tables).
    /// Changes to fields whose every other value is invalid must be refused: the magic, the header
    /// size, the file size, the checksum (left stale), a version byte out of 1...4, a tensor's
    /// type, rank or storage byte out of range, an operator code out of 1...7.
    func testEveryByteOfTheTablesCorruptedIsHandled() throws {
        let good = try validModel(), layout = TableLayout(good)
        _ = try load(good)
        var refused = 0, mustRefuse = 0
        for offset in 0..<layout.tablesEnd {
            for value: UInt8 in [0, 1, 0x7F, 0x80, 0xFF] where good[offset] != value {
                var bytes = good
                bytes[offset] = value
                let sealed = offset < 16 || offset >= 20 ? resealed(bytes) : bytes
                var loaded = false
                sealed.withUnsafeBytes { raw in
                    if let model = try? RuntimeModel(bytes: raw) {
                        loaded = true
                        if let interpreter = try? Interpreter(model: model) { interpreter.invoke() }
                    }
                }
                if !loaded { refused += 1 }
                if layout.onlyValidValue(at: offset, is: good[offset], not: value) {
                    mustRefuse += 1
                    XCTAssertFalse(loaded, "byte \(offset) set to \(value) must be refused")
                }
            }
        }
        XCTAssertGreaterThan(mustRefuse, 40, "the checked fields were reached")
        XCTAssertGreaterThan(refused, mustRefuse, "other corruptions are refused too")
    }
}
