import Foundation

/// A place in an experiment file: the file's path, and a 1-based line and column.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        (self.file, self.line, self.column) = (file, line, column)
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// Why an experiment file cannot run, or why a run stopped: one line naming the file, line and
/// key where there is one (`quick.yaml:14:7: stages.qat.epochs: must be in 1...10000, got 0`).
public struct ExperimentError: Error, CustomStringConvertible, Sendable {
    public var location: SourceLocation?
    /// The dotted path of the key (`stages.qat.epochs`), when the problem is at a key.
    public var key: String?
    public var message: String

    public init(_ message: String, at location: SourceLocation? = nil, key: String? = nil) {
        (self.message, self.location, self.key) = (message, location, key)
    }

    public var description: String {
        [location?.description, key].compactMap { $0 }.map { $0 + ": " }.joined() + message
    }
}
