import Foundation
import XCTest

/// What a test needs from the machine (a tool, a data set, a Python module), and what happens when
/// it is missing: a skip on a developer's machine, a failure under CI. `.ci/run` sets
/// `MINNOW_NO_SKIPS=1`, so a test that would skip there fails with the same message instead.
/// Tests skip only through `Requirements.require`.
public enum Requirements {
    /// The environment variable that turns skips into failures.
    public static let noSkipsVariable = "MINNOW_NO_SKIPS"

    /// Whether a missing requirement fails the test instead of skipping it.
    public static var skipsAreFailures: Bool {
        let value = ProcessInfo.processInfo.environment[noSkipsVariable] ?? ""
        return !value.isEmpty && value != "0"
    }

    /// Continues when `condition` holds; otherwise skips the test with `reason` (throws `XCTSkip`),
    /// or, when skips are failures, throws `MissingRequirement`, which fails it.
    public static func require(_ condition: Bool, _ reason: @autoclosure () -> String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        guard !condition else { return }
        if skipsAreFailures { throw MissingRequirement(reason: reason()) }
        throw XCTSkip(reason(), file: file, line: line)
    }

    /// `value` when it is there; otherwise skips or fails as `require(_:_:)` does.
    public static func require<Value>(_ value: Value?, _ reason: @autoclosure () -> String,
                                      file: StaticString = #filePath, line: UInt = #line) throws -> Value {
        try require(value != nil, reason(), file: file, line: line)
        return value!
    }

    /// A python3 that imports h5py and numpy (scripts/setup.sh installs them).
    public static func pythonWithH5py(file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        let python = try Subprocess.which("python3").flatMap { try Subprocess.run($0, ["-c", "import h5py, numpy"]).succeeded ? $0 : nil }
        return try require(python, "python3 with h5py and numpy is not available (scripts/setup.sh python)", file: file, line: line)
    }
}

/// A test's requirement is missing where skips are failures (`MINNOW_NO_SKIPS`).
public struct MissingRequirement: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { "\(reason) (\(Requirements.noSkipsVariable) is set: a missing requirement is a failure, not a skip)" }
}
