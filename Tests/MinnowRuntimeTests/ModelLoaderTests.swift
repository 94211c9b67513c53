import CAllocationCounter
import Foundation
import MinnowRuntime
import QuantMath
import XCTest

/// The loader treats every file as hostile: each kind of damage gives a typed error naming what
/// was wrong, never a trap; a valid file runs without allocating.
final class ModelLoaderTests: XCTestCase {
    /// A small valid model: a 3x3 convolution (ReLU fused), global average pooling, a linear layer.
    func validModel(channels c: Int = 8) -> [UInt8] {
        var writer = ModelWriter()
        let p = QuantizationParameters(scale: 0.05, zeroPoint: -3)
        let input = writer.addActivation(shape: [4, 4, 2], parameters: p)
        let filter = writer.addConstant(type: .int8, shape: [3, 3, 2, c], parameters: QuantizationParameters(scale: 1, zeroPoint: 0),
                                        bytes: (0..<(18 * c)).map { UInt8(bitPattern: Int8(truncatingIfNeeded: $0 * 7 % 41 - 20)) })
        let bias = writer.addConstant((0..<c).map { Int32($0 * 5 - 20) })
        let m = FixedPointMultiplier(0.013)
        let multipliers = writer.addConstant(Array(repeating: m.multiplier, count: c)), shifts = writer.addConstant(Array(repeating: m.shift, count: c))
        let conv = writer.addActivation(shape: [4, 4, c], parameters: QuantizationParameters(scale: 0.1, zeroPoint: -128))
        writer.addOperator(.convolution, [input, filter, bias, multipliers, shifts, conv, 1, 1, 1, 1, 1, 1, 1, -128, 127])
        let pooled = writer.addActivation(shape: [c], parameters: QuantizationParameters(scale: 0.08, zeroPoint: -100))
        let g = FixedPointMultiplier(0.1 / (16 * 0.08))
        writer.addOperator(.globalAveragePool, [conv, pooled, g.multiplier, g.shift])
        let weight = writer.addConstant(type: .int8, shape: [c, 3], parameters: QuantizationParameters(scale: 1, zeroPoint: 0),
                                        bytes: (0..<(3 * c)).map { UInt8(bitPattern: Int8($0 % 9 - 4)) })
        let fcBias = writer.addConstant([1, -2, 3])
        let fm = FixedPointMultiplier(0.02)
        let fcMultipliers = writer.addConstant(Array(repeating: fm.multiplier, count: 3)), fcShifts = writer.addConstant(Array(repeating: fm.shift, count: 3))
        let logits = writer.addActivation(shape: [3], parameters: QuantizationParameters(scale: 0.2, zeroPoint: 0))
        writer.addOperator(.fullyConnected, [pooled, weight, fcBias, fcMultipliers, fcShifts, logits, -128, 127])
        return writer.serialize(input: input, output: logits, multiplyAccumulates: 4 * 4 * 9 * 2 * c + 3 * c).bytes
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
        let bytes = validModel()
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
        let bytes = validModel(channels: 600)
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
        let good = validModel()
        let tensorTable = ModelFormat.headerSize
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
        // A constant's offset past the end of the data section.
        bytes = good
        write32(1 << 30, at: tensorTable + 40 * 1 + 28, in: &bytes)
        expect(resealed(bytes), { if case .invalidTensor(1, let d) = $0 { d.contains("outside the data section") } else { false } }, "offset past the end")
        // Dimensions whose product overflows.
        bytes = good
        for axis in 0..<3 { write32(0x7FFF_FFFF, at: tensorTable + 40 * 1 + 4 + 4 * axis, in: &bytes) }
        expect(resealed(bytes), { if case .invalidTensor(1, let d) = $0 { d.contains("too many elements") } else { false } }, "overflowing shape")
        // An operator naming a tensor that does not exist.
        let fileTensors = Int(good[20]) | Int(good[21]) << 8
        let operatorTable = tensorTable + 40 * fileTensors
        bytes = good
        write32(999, at: operatorTable + 4, in: &bytes)
        expect(resealed(bytes), { if case .invalidOperator(0, let d) = $0 { d.contains("names tensor 999") } else { false } }, "missing tensor")
        // An unknown operator code, and a stride of 0.
        bytes = good
        bytes[operatorTable] = 77
        expect(resealed(bytes), { if case .invalidOperator(0, let d) = $0 { d.contains("unknown operator code 77") } else { false } }, "unknown op")
        bytes = good
        write32(0, at: operatorTable + 4 + 4 * 4, in: &bytes)
        expect(resealed(bytes), { if case .invalidOperator(0, let d) = $0 { d.contains("stride") } else { false } }, "stride 0")
        // The convolution's channel parameters replaced by its filter (an int8 tensor), or the
        // operator given version 1's argument count in a version 2 file (the list then misparses).
        bytes = good
        write32(UInt32(bytes[operatorTable + 4 + 4]), at: operatorTable + 4 + 4 * 2, in: &bytes)
        expect(resealed(bytes), { if case .invalidOperator(0, let d) = $0 { d.contains("channel parameters") } else { false } }, "not channel parameters")
        bytes = good
        bytes[operatorTable + 2] = 15
        expect(resealed(bytes), { if case .invalidOperator = $0 { true } else { false } }, "version 1 argument count")
        // A header that claims more tensors than the file holds.
        bytes = good
        write32(100_000, at: 20, in: &bytes)
        expect(resealed(bytes), { if case .invalidHeader = $0 { true } else { false } }, "tensor count")
    }

    /// Every input that ever crashed the fuzzer (scripts/fuzz-loader.sh writes them to
    /// Tests/Fuzz/crashes/) is now refused with a typed error or loads and runs.
    func testEveryFuzzerFindingIsHandled() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/crashes")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in files where !name.hasPrefix(".") {
            let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
            bytes.withUnsafeBytes { raw in
                if let model = try? RuntimeModel(bytes: raw), let interpreter = try? Interpreter(model: model) { interpreter.invoke() }
            }
        }
    }

    /// A version 1 file (per-channel shifts as int32) still loads and computes what the version 2
    /// export of the same model (shifts as int8) computes (both seed the fuzzer's corpus).
    func testVersion1FilesStillLoad() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")
        let (old, new) = try ["student-pruned50.mnw", "student-pruned50-v2.mnw"].map { [UInt8](try Data(contentsOf: folder.appendingPathComponent($0))) }
            .pair()
        XCTAssertEqual([old[4], new[4]], [1, 2], "the file versions")
        XCTAssertLessThan(new.count, old.count, "int8 shifts make the file smaller")
        func outputs(_ bytes: [UInt8], kernels: KernelChoice) throws -> [Int8] {
            try bytes.withUnsafeBytes { raw in
                let interpreter = try Interpreter(model: try RuntimeModel(bytes: raw), kernels: kernels)
                for i in 0..<interpreter.input.count { interpreter.input[i] = Int8(truncatingIfNeeded: i &* 37 &+ 11) }
                interpreter.invoke()
                return Array(interpreter.output)
            }
        }
        for kernels in [KernelChoice.reference, .fastest] {
            XCTAssertEqual(try outputs(old, kernels: kernels), try outputs(new, kernels: kernels))
        }
    }

    /// Every single-byte change of a valid file is either refused with a typed error or loads; it
    /// never traps (a quick, deterministic cousin of the fuzzer, over every byte of the tables).
    func testEveryByteOfTheTablesCorruptedIsHandled() throws {
        let good = validModel()
        let model = try load(good)
        let tablesEnd = ModelFormat.headerSize + 40 * model.tensors.count + model.operators.reduce(0) { $0 + 4 + 4 * $1.arguments.count }
        for offset in 0..<tablesEnd {
            for value: UInt8 in [0, 1, 0x7F, 0x80, 0xFF] where good[offset] != value {
                var bytes = good
                bytes[offset] = value
                let sealed = offset < 16 || offset >= 20 ? resealed(bytes) : bytes
                sealed.withUnsafeBytes { raw in
                    if let model = try? RuntimeModel(bytes: raw), let interpreter = try? Interpreter(model: model) { interpreter.invoke() }
                }
            }
        }
    }
}

private extension Array {
    /// The two elements of a two-element array.
    func pair() -> (Element, Element) { (self[0], self[1]) }
}
