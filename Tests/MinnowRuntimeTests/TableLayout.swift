// The fields of a version 3 or 4 model file's tables, read independently of the loader: the byte
// corruption test and the field fuzzer (scripts/fuzz.sh fields compiles this file into the
// runtime's module) rewrite them one at a time.
#if !MINNOW_FUZZ_BUILD
import MinnowRuntime
#endif

/// Where the fields of a version 3 or 4 file's tables lie (this test's own reading of
/// docs/runtime-format.md, not the loader's), and the file with one field rewritten: the tables
/// re-laid, the data section moved to the next multiple of 16, the header's offsets, size and
/// checksum updated, so that a test reaches the check it aims at.
struct TableLayout {
    let bytes: [UInt8]
    var tensorDimensions: [[Range<Int>]] = [], tensorOffsets: [Range<Int>] = []
    /// Where each tensor's entry starts (its type, rank and storage bytes).
    var tensorStarts: [Int] = []
    var operatorCodes: [Range<Int>] = [], operatorCounts: [Range<Int>] = [], operatorArguments: [[Range<Int>]] = []
    /// Where the operator list ends (the data section follows after padding).
    var tablesEnd = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var position = ModelFormat.headerSize
        func varint() -> Range<Int> {
            let start = position
            while bytes[position] & 0x80 != 0 { position += 1 }
            position += 1
            return start..<position
        }
        for _ in 0..<Self.u32(bytes, at: 20) {
            tensorStarts.append(position)
            let rank = Int(bytes[position + 1])
            position += 3
            _ = varint()  // zero point
            tensorDimensions.append((0..<rank).map { _ in varint() })
            position += 4  // scale
            tensorOffsets.append(varint())
        }
        for _ in 0..<Self.u32(bytes, at: 24) {
            operatorCodes.append(varint())
            let count = varint()
            operatorCounts.append(count)
            operatorArguments.append((0..<value(count)).map { _ in varint() })
        }
        tablesEnd = position
    }

    /// Whether the byte at `offset` (holding `old`) belongs to a field for which `new` is invalid
    /// whatever the rest of the file says (the cases `testEveryByteOfTheTablesCorruptedIsHandled`
    /// requires to be refused).
    func onlyValidValue(at offset: Int, is old: UInt8, not new: UInt8) -> Bool {
        switch offset {
        case 0..<4, 6..<20: return true  // magic, header size, file size, checksum (left stale)
        case 4: return !(1...4).contains(new)
        case 5: return true  // the version's high byte
        default: break
        }
        if let start = tensorStarts.first(where: { $0 <= offset && offset < $0 + 3 }) {
            return offset - start == 2 ? new > 1 : !(1...4).contains(new)  // storage; type or rank
        }
        if operatorCodes.contains(where: { $0.count == 1 && $0.lowerBound == offset }) { return !(1...7).contains(new) }
        return false
    }

    static func u32(_ bytes: [UInt8], at offset: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) } }

    /// The unsigned varint at `range`.
    func value(_ range: Range<Int>) -> Int { range.enumerated().reduce(0) { $0 | Int(bytes[$1.element] & 0x7F) << (7 * $1.offset) } }

    /// `range` rewritten as the varint of `value`.
    func replacing(_ range: Range<Int>, with value: UInt32) -> [UInt8] {
        var encoded: [UInt8] = [], rest = value
        while rest >= 0x80 { encoded.append(UInt8(rest & 0x7F) | 0x80); rest >>= 7 }
        return replacing(range, withBytes: encoded + [UInt8(rest)])
    }

    /// `range` rewritten as the zigzag varint of `value`.
    func replacing(_ range: Range<Int>, withSigned value: Int32) -> [UInt8] {
        replacing(range, with: UInt32(bitPattern: (value << 1) ^ (value >> 31)))
    }

    /// `range` rewritten as `encoded`.
    func replacing(_ range: Range<Int>, withBytes encoded: [UInt8]) -> [UInt8] {
        let dataOffset = Self.u32(bytes, at: 48), delta = encoded.count - range.count
        var tables = Array(bytes[ModelFormat.headerSize..<range.lowerBound]) + encoded + Array(bytes[range.upperBound..<tablesEnd])
        while (ModelFormat.headerSize + tables.count) % ModelFormat.alignment != 0 { tables.append(0) }
        var file = Array(bytes[0..<ModelFormat.headerSize]) + tables + Array(bytes[dataOffset...])
        func write(_ value: Int, at offset: Int) { for i in 0..<4 { file[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) } }
        write(file.count, at: 8)
        if range.lowerBound < Self.u32(bytes, at: 44) { write(Self.u32(bytes, at: 44) + delta, at: 44) }
        write(ModelFormat.headerSize + tables.count, at: 48)
        let checksum = file.withUnsafeBytes { crc32(UnsafeRawBufferPointer(rebasing: $0[ModelFormat.headerSize...])) }
        write(Int(checksum), at: 16)
        return file
    }
}
