import Foundation

/// Runs stage commands as child processes of a `minnow` executable (the running one, for the CLI):
/// standard output is captured and appended to the stage's log, standard error appended to it.
public struct ProcessExecutor: StageExecutor {
    public let executable: URL

    public init(executable: URL) {
        self.executable = executable
    }

    /// The executable of the running process.
    public static var current: ProcessExecutor {
        let link = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return ProcessExecutor(executable: FileManager.default.fileExists(atPath: link.path) && link.path != "/proc/self/exe"
                               ? link : (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])))
    }

    public func run(_ arguments: [String], log: URL) throws -> (status: Int32, output: String) {
        if !FileManager.default.fileExists(atPath: log.path) { FileManager.default.createFile(atPath: log.path, contents: nil) }
        let logHandle = try FileHandle(forWritingTo: log)
        defer { try? logHandle.close() }
        try logHandle.seekToEnd()
        logHandle.write(Data(("$ minnow " + arguments.joined(separator: " ") + "\n").utf8))
        let process = Process(), output = Pipe()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = logHandle
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        logHandle.write(data)
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
