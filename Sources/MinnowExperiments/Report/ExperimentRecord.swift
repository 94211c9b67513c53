import Foundation
import MinnowBench
import MinnowTraining

/// What an experiment's runs folder records about the last `minnow experiment run`
/// (`experiment.json`): the file it ran (and its text), when, on which machine, how long.
public struct ExperimentRecord: Codable, Sendable {
    public var name: String
    public var description: String?
    public var file: String
    public var runsFolder: String
    public var fileText: String
    public var minnowVersion: String
    public var machine: Machine
    public var startedUTC: String
    public var seconds: Double
    /// The stage runs: title, stage, kind, state and commands.
    public var runs: [Run]

    public struct Run: Codable, Sendable {
        public var title: String
        public var stage: String
        public var kind: StageKind
        public var folder: String
        public var state: String
        public var seconds: Double?
        public var commands: [[String]]
    }

    static let fileName = "experiment.json"

    public static func load(from root: URL) throws -> ExperimentRecord {
        let url = root.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ExperimentError("\(url.path): no such file: run `minnow experiment run FILE` first (this folder is not an experiment's runs folder)")
        }
        do { return try JSONDecoder().decode(ExperimentRecord.self, from: data) } catch {
            throw ExperimentError("\(url.path): not an experiment record: \(error)")
        }
    }

    func write(to root: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: root.appendingPathComponent(Self.fileName), options: .atomic)
    }
}
