import Foundation

/// Runs one of the peer scripts in `shared/peers` (PyTorch) and reads the JSON it writes, so that
/// Minnow and its peer are timed back to back in one run on the same machine.
public struct PeerRunner: Sendable {
    /// The Python interpreter of the peers' venv (`shared/peers/setup.sh` prints it).
    public let python: String
    /// The folder holding the peer scripts.
    public let scriptsDirectory: String

    public init(python: String, scriptsDirectory: String) {
        self.python = python
        self.scriptsDirectory = scriptsDirectory
    }

    /// Why a peer run failed.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `script` with `arguments`; returns the parsed JSON file `output` it wrote.
    public func run(script: String, arguments: [String], output: String) throws -> Any {
        let scriptPath = URL(fileURLWithPath: scriptsDirectory).appendingPathComponent(script).path
        guard FileManager.default.fileExists(atPath: scriptPath) else {
            throw Failure(description: "peer script not found: \(scriptPath) (pass --peers-dir)")
        }
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Failure(description: "peer python not found or not executable: \(python) (run shared/peers/setup.sh; pass --peer-python)")
        }
        let outDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-peer-\(getpid())")
        try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [scriptPath] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: scriptsDirectory)
        var environment = ProcessInfo.processInfo.environment
        environment["PEERS_OUT"] = outDirectory.path
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "peer \(script) exited with \(process.terminationStatus):\n\(text.suffix(2000))")
        }
        let file = outDirectory.appendingPathComponent(output)
        guard let data = try? Data(contentsOf: file) else {
            throw Failure(description: "peer \(script) wrote no \(file.path)")
        }
        return try JSONSerialization.jsonObject(with: data)
    }
}
