import Foundation

/// JSON files that people read: pretty-printed, keys sorted, written atomically (a reader never
/// sees half a file, and a failed write leaves the old one).
public enum JSONFile {
    /// Encodes `value` and replaces `url` with it.
    public static func write<Value: Encodable>(_ value: Value, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(value).write(to: url, options: .atomic)
    }
}
