import Foundation
import MinnowBench
import MinnowTraining

/// Runs `minnow` commands for the runner: the CLI runs itself, so a stage does exactly what its
/// command line does when typed.
public protocol StageExecutor {
    /// Runs `minnow` with `arguments`, appending its output to `log`; returns its exit status and
    /// its standard output.
    func run(_ arguments: [String], log: URL) throws -> (status: Int32, output: String)
}

/// What a stage run's folder records about it (`stage.json`): written `running` before its
/// commands start and `done` or `failed` after, atomically.
public struct StageRecord: Codable, Sendable {
    public enum Status: String, Codable, Sendable { case running, done, failed }
    public var stage: String
    public var kind: StageKind
    public var key: String
    public var variant: [String]
    public var seed: UInt64?
    public var commands: [[String]]
    public var status: Status
    public var minnowVersion: String
    public var seconds: Double?
    public var results: StageResults?
    public var failure: String?
}

/// Where a stage run stands (`minnow experiment status`).
public enum StageState: String, Sendable {
    /// Its result for the current key is in its folder.
    case done
    /// It started and did not finish (killed): the next run resumes it.
    case interrupted
    case failed
    /// Not run for the current key, but its folder holds results of other options.
    case stale
    case pending
}

/// Runs an experiment's plan: each stage run in dependency order, skipping those whose result for
/// the current key exists, resuming a training run that was killed, recording results.
public struct ExperimentRunner {
    public let plan: ExperimentPlan
    public let executor: any StageExecutor

    public init(plan: ExperimentPlan, executor: any StageExecutor) {
        (self.plan, self.executor) = (plan, executor)
    }

    static let recordName = "stage.json"

    /// The record in `run`'s folder, if any.
    public func record(of run: StageRun) -> StageRecord? {
        let url = run.folder.appendingPathComponent(Self.recordName)
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(StageRecord.self, from: data)
    }

    public func state(of run: StageRun) -> StageState {
        if let record = record(of: run), record.key == run.key {
            switch record.status {
            case .done: return .done
            case .running: return .interrupted
            case .failed: return .failed
            }
        }
        let others = (try? FileManager.default.contentsOfDirectory(atPath: run.folder.deletingLastPathComponent().path)) ?? []
        let label = run.folder.lastPathComponent.dropLast(10)
        return others.contains { $0 != run.folder.lastPathComponent && $0.hasPrefix(label) && $0.count == run.folder.lastPathComponent.count }
            ? .stale : .pending
    }

    /// The runs `only` (a stage name) needs: its own and those of its inputs not done yet; all runs
    /// when nil.
    public func selection(only: String?) throws(ExperimentError) -> [Int] {
        guard let only else { return Array(plan.runs.indices) }
        guard plan.spec.stages.contains(where: { $0.name == only }) else {
            throw ExperimentError("--only: no stage is named '\(only)' (stages: \(plan.spec.stages.map(\.name).joined(separator: ", ")))")
        }
        var needed = Set<Int>()
        func add(_ index: Int) {
            guard needed.insert(index).inserted else { return }
            for dependency in plan.runs[index].dependencies where state(of: plan.runs[dependency]) != .done { add(dependency) }
        }
        for (index, run) in plan.runs.enumerated() where run.stage == only { add(index) }
        return needed.sorted()
    }

    /// Runs the selected runs in order; `progress` gets one line per run. Stops at the first failure,
    /// with an error naming the stage and its log.
    public func run(only: String? = nil, progress: (String) -> Void) throws -> ExperimentResults {
        try FileManager.default.createDirectory(at: plan.root, withIntermediateDirectories: true)
        let selected = try selection(only: only)
        let clock = ContinuousClock(), started = clock.now, startedUTC = ISO8601DateFormatter().string(from: Date())
        for (position, index) in selected.enumerated() {
            let run = plan.runs[index], prefix = "[\(position + 1)/\(selected.count)] \(run.title)"
            let state = state(of: run)
            if state == .done { progress("\(prefix): done (cached)"); continue }
            let left = estimate(selected[position...].map { plan.runs[$0] })
            progress("\(prefix): \(state == .interrupted ? "resuming" : "running")" + (left.map { ", about \(Self.duration($0)) left" } ?? ""))
            let seconds = try execute(run, resuming: state == .interrupted)
            progress("\(prefix): done in \(Self.duration(seconds))")
        }
        let results = ExperimentResults(plan: plan, records: plan.runs.map { run in
            record(of: run).flatMap { $0.key == run.key && $0.status == .done ? $0 : nil }
        })
        try results.write(to: plan.root)
        try experimentRecord(started: startedUTC, seconds: Self.seconds(clock.now - started)).write(to: plan.root)
        return results
    }

    /// The time `pending` runs will take, from what the plan's runs have shown so far: a training
    /// run as its epochs left times the seconds per epoch (from `metrics.jsonl`, so that resumed
    /// runs count whole) of its own stage's runs, else of its kind's, else of every training run; a
    /// run that does not train as the mean of its kind's (nothing until one has run: they take
    /// seconds to minutes). Nil before any training epoch has finished.
    func estimate(_ pending: [StageRun]) -> Double? {
        let timings = plan.runs.compactMap(timing(of:))
        return Self.estimate(pending.map { ($0, epochsDone(of: $0)) }, from: timings)
    }

    /// What one run has shown about time: seconds per epoch of a training run, seconds of one that
    /// does not train.
    struct RunTiming {
        var stage: String
        var kind: StageKind
        var seconds: Double
    }

    static func estimate(_ pending: [(run: StageRun, epochsDone: Int)], from timings: [RunTiming]) -> Double? {
        guard timings.contains(where: \.kind.trains) else { return nil }
        func mean(_ selected: [RunTiming]) -> Double? {
            selected.isEmpty ? nil : selected.reduce(0) { $0 + $1.seconds } / Double(selected.count)
        }
        return pending.reduce(0) { total, item in
            let run = item.run
            guard run.kind.trains else { return total + (mean(timings.filter { $0.kind == run.kind }) ?? 0) }
            let perEpoch = mean(timings.filter { $0.stage == run.stage }) ?? mean(timings.filter { $0.kind == run.kind })
                ?? mean(timings.filter(\.kind.trains))!
            return total + perEpoch * Double(max(run.epochs - item.epochsDone, 0))
        }
    }

    /// `run`'s timing: mean seconds per epoch (training and evaluation) of its `metrics.jsonl`, or
    /// the seconds its record took when it does not train.
    func timing(of run: StageRun) -> RunTiming? {
        if run.kind.trains {
            let epochs = epochRecords(of: run)
            guard !epochs.isEmpty else { return nil }
            return RunTiming(stage: run.stage, kind: run.kind,
                             seconds: epochs.reduce(0) { $0 + $1.trainSeconds + $1.evalSeconds } / Double(epochs.count))
        }
        guard state(of: run) == .done, let seconds = record(of: run)?.seconds else { return nil }
        return RunTiming(stage: run.stage, kind: run.kind, seconds: seconds)
    }

    func epochsDone(of run: StageRun) -> Int { run.kind.trains && state(of: run) == .interrupted ? epochRecords(of: run).count : 0 }

    /// The epoch lines of `run`'s `metrics.jsonl` (none when it has not started).
    func epochRecords(of run: StageRun) -> [EpochRecord] {
        guard let text = try? String(contentsOf: run.folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(EpochRecord.self, from: Data($0.utf8)) }
    }

    /// What `experiment.json` holds after a run that started at `started` and took `seconds`.
    func experimentRecord(started: String, seconds: Double) -> ExperimentRecord {
        let spec = plan.spec
        return ExperimentRecord(name: spec.name, description: spec.description, file: spec.file.relativePath, runsFolder: plan.root.relativePath,
                                fileText: spec.text,
                                minnowVersion: MinnowVersion.current, machine: .current, startedUTC: started, seconds: seconds,
                                runs: plan.runs.map { run in
                                    ExperimentRecord.Run(title: run.title, stage: run.stage, kind: run.kind, folder: run.folder.path,
                                                         state: state(of: run).rawValue, seconds: record(of: run)?.seconds, commands: run.commands)
                                })
    }

    /// Runs one stage run's commands in its folder; a training run that was killed continues with
    /// `--resume` from its last checkpoint.
    func execute(_ run: StageRun, resuming: Bool) throws -> Double {
        let fileManager = FileManager.default
        let canResume = resuming && run.kind.trains && fileManager.fileExists(atPath: run.folder.appendingPathComponent("config.json").path)
        if !canResume { try? fileManager.removeItem(at: run.folder) }
        try fileManager.createDirectory(at: run.folder, withIntermediateDirectories: true)
        var record = StageRecord(stage: run.stage, kind: run.kind, key: run.key, variant: run.variant, seed: run.seed, commands: run.commands,
                                 status: .running, minnowVersion: MinnowVersion.current)
        try write(record, of: run)
        let log = run.folder.appendingPathComponent("log.txt")
        let clock = ContinuousClock(), start = clock.now
        var outputs: [String] = []
        for command in run.commands {
            let arguments = canResume ? Self.resumeArguments(command, folder: run.folder) : command
            let (status, output) = try executor.run(arguments, log: log)
            guard status == 0 else {
                record.status = .failed
                record.failure = "minnow \(arguments[0] == "bench" ? arguments.prefix(2).joined(separator: " ") : arguments[0]) exited with status \(status)"
                try write(record, of: run)
                let tail = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(3).joined(separator: "\n  ")
                throw ExperimentError("stage \(run.title) failed: \(record.failure!); the end of its log (\(log.path)):\n  \(tail)")
            }
            outputs.append(output)
        }
        record.seconds = Self.seconds(clock.now - start)
        record.results = StageResults.collect(run, outputs: outputs, validation: plan.spec.data.validation)
        record.status = .done
        try write(record, of: run)
        return record.seconds!
    }

    /// `minnow KIND --resume FOLDER` with the data folder and progress options of `command`.
    static func resumeArguments(_ command: [String], folder: URL) -> [String] {
        var arguments = [command[0], "--resume", folder.relativePath, "--progress", "none"]
        if let index = command.firstIndex(of: "--data-dir"), index + 1 < command.count { arguments += ["--data-dir", command[index + 1]] }
        return arguments
    }

    func write(_ record: StageRecord, of run: StageRun) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(record).write(to: run.folder.appendingPathComponent(Self.recordName), options: .atomic)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    /// `42 s`, `3 min 5 s`, `1 h 12 min`.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }
}
