import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowNN
import MinnowPruning
import MinnowTraining

/// A pruning run as a library call: fine-tuning (`FineTuning`, with or without a teacher) with the
/// pruning schedule installed on its trainer, the run's record (`pruning.json`), which its resume
/// reads back, and its report (`minnow prune` runs this).
public enum PruningWorkflow {
    /// Writes `record` as the run folder's `pruning.json` (atomically).
    public static func writeRecord(_ record: PruningRecord, in folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(record).write(to: folder.appendingPathComponent(PruningRecord.file), options: .atomic)
    }

    /// The record of the pruning run in `folder`; an error naming the file when it is missing or damaged.
    public static func record(in folder: URL) throws -> PruningRecord {
        let url = folder.appendingPathComponent(PruningRecord.file)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TrainingError.invalidConfig("\(url.path): no such file: \(folder.path) is not a pruning run")
        }
        do {
            return try JSONDecoder().decode(PruningRecord.self, from: data)
        } catch {
            throw TrainingError.invalidConfig("\(url.path): not a pruning record: \(error)")
        }
    }

    /// Resumes the pruning run of `location` (a run folder or one of its checkpoints) where its
    /// checkpoint left off: its fine-tuning (distilled or plain) and its record.
    public static func resume(from location: URL, dataDirectory: URL?) throws -> (fineTuning: FineTuning, record: PruningRecord) {
        let point = try TrainingRun.resumePoint(from: location)
        guard point.checkpoint != nil else {
            throw TrainingError.invalidConfig("\(point.folder.url.path) wrote no checkpoint yet: start the pruning run again")
        }
        let record = try record(in: point.folder.url)
        return (try FineTuning.resume(from: location, dataDirectory: dataDirectory, handling: [PruningRecord.declaration]), record)
    }

    /// Installs `settings`' schedule on the run's trainer (importance batches drawn from its own
    /// training data, seeded), trains to the end of the recipe, and writes and returns the report.
    @discardableResult
    public static func train(_ fineTuning: FineTuning, settings: PruningSettings, observer: TrainingObserver?) throws -> PruningReport {
        let run = fineTuning.run
        let importance = DataLoader(dataset: run.trainLoader.dataset, batchSize: run.manifest.training.batchSize,
                                    normalization: run.manifest.dataset.normalization, shuffle: true, seed: 0x7a7, prefetchDepth: 0)
        let driver = PruningDriver(settings: settings, inputShape: run.manifest.training.model.inputShape, registry: .checkpoints) { step in
            Array(importance.epoch(step).prefix(settings.importanceBatches))
        }
        driver.install(on: run.trainer)
        try fineTuning.train(observer: observer)
        let report = try PruningReport(record: try record(in: run.directory), model: run.trainer.model,
                                       inputShape: run.manifest.training.model.inputShape, history: run.trainer.history, events: driver.events)
        try report.write(to: run.directory)
        return report
    }
}
