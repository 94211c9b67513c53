// An exported model with fields of its tables rewritten to extreme values: the field fuzzer's
// mutation (scripts/fuzz.sh fields compiles this file into the runtime's module) and the
// regression test's, which replays every committed finding on the same corpus model.
#if !MINNOW_FUZZ_BUILD
import MinnowRuntime
#endif

enum FieldMutation {
    /// Values a field is set to: the edges of small and large ranges, and the int32 extremes.
    static let extremes: [Int32] = [0, 1, -1, 2, 3, 7, 8, 63, 64, 65, 127, 128, 255, 256, 4096, 1 << 15, 1 << 16, 1 << 20, 1 << 28,
                                    (1 << 28) + 1, 1 << 30, .max, .min]

    /// `model` (a version 3 file) with up to four fields rewritten as `choices` say: each a tensor
    /// dimension, an operator code or an operator argument (a tensor index or a parameter; the
    /// counts stay, so that the tables keep their layout), set to one of `extremes` or
    /// moved by a small step; the tables re-laid and the header and checksum updated (`TableLayout`),
    /// so that every mutation reaches the loader's checks behind the checksum.
    static func mutate(_ model: [UInt8], choices: [UInt8]) -> [UInt8] {
        var file = model, position = 0
        func byte() -> Int {
            defer { position += 1 }
            return position < choices.count ? Int(choices[position]) : 0
        }
        for _ in 0..<(1 + byte() % 4) {
            let layout = TableLayout(file)
            let signed = layout.operatorArguments.flatMap { $0 }
            let unsigned = layout.tensorDimensions.flatMap { $0 } + layout.operatorCodes
            let pick = byte() << 8 | byte()
            let isSigned = byte() % 2 == 0 && !signed.isEmpty
            let fields = isSigned ? signed : unsigned
            guard !fields.isEmpty else { return file }
            let range = fields[pick % fields.count]
            let old = Int64(layout.value(range))
            let value: Int64 = byte() % 3 == 0 ? old + Int64(byte() % 5) - 2 : Int64(extremes[byte() % extremes.count])
            file = isSigned ? layout.replacing(range, withSigned: Int32(truncatingIfNeeded: value))
                : layout.replacing(range, with: UInt32(truncatingIfNeeded: value))
        }
        return file
    }
}
