import Foundation

/// Runs programs for tests that check Minnow from the outside: the built `minnow` command, and
/// Python scripts that read its files.
public enum Subprocess {
    /// What a finished program did.
    public struct Result: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
        /// Whether the process ended with status 0 (not by a signal).
        public var succeeded: Bool { status == 0 }
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
        return Result(status: process.terminationStatus,
                      standardOutput: (try? String(contentsOf: output, encoding: .utf8)) ?? "",
                      standardError: (try? String(contentsOfFile: output.path + ".err", encoding: .utf8)) ?? "")
    }

    /// The first executable called `name` on the `PATH`, if any.
    public static func which(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
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
