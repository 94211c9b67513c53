import Foundation

/// Runs programs for tests that check Minnow from the outside: the built `minnow` command, and
/// Python scripts that read its files.
public enum Subprocess {
    /// What a finished program did.
    public struct Result: Sendable {
        /// The exit status, or the signal's number when `signaled`.
        public var status: Int32
        /// Whether a signal ended the program (a trap is SIGILL or SIGTRAP).
        public var signaled: Bool
        public var standardOutput: String
        public var standardError: String
        /// Whether the process ended with status 0 (not by a signal).
        public var succeeded: Bool { status == 0 && !signaled }
    }

    /// Starts `executable` with `arguments`; its output goes to temporary files so that a chatty
    /// program never blocks on a full pipe. `environment` entries are added to this process's.
    public static func start(_ executable: URL, _ arguments: [String], environment: [String: String] = [:],
                             output: URL) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        FileManager.default.createFile(atPath: output.path, contents: nil)
        FileManager.default.createFile(atPath: output.path + ".err", contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: output.path + ".err"))
        try process.run()
        return process
    }

    /// Runs `executable` to the end and returns its status and output.
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-subprocess-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(atPath: output.path + ".err")
        }
        let process = try start(executable, arguments, environment: environment, output: output)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                      standardOutput: (try? String(contentsOf: output, encoding: .utf8)) ?? "",
                      standardError: (try? String(contentsOfFile: output.path + ".err", encoding: .utf8)) ?? "")
    }

    /// The first executable called `name` on the `PATH`, if any.
    public static func which(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// The built `minnow` command (see `minnowExecutable`), or an error that fails the test: the
    /// CLI test target depends on the executable, so `swift test` always builds it, and a missing
    /// binary is a broken build, never a reason to skip.
    public static func requireMinnowExecutable(packageRoot: URL) throws -> URL {
        guard let url = minnowExecutable(packageRoot: packageRoot) else { throw MissingExecutable(name: "minnow") }
        return url
    }

    /// A program the tests run was not built.
    public struct MissingExecutable: Error, CustomStringConvertible {
        public let name: String
        public var description: String {
            "the \(name) command is not built next to the tests or in .build/release: `swift test` builds it (the CLI test target depends on it)"
        }
    }

    /// The built `minnow` command: next to the running test binary (`swift test` builds both into
    /// one folder), else in the package's `.build/release`; nil if there is none.
    public static func minnowExecutable(packageRoot: URL) -> URL? {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let folders = [testBinary.deletingLastPathComponent(), Bundle.main.bundleURL,
                       packageRoot.appendingPathComponent(".build/release")]
        return folders.map { $0.appendingPathComponent("minnow") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
