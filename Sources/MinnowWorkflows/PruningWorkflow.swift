import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowNN
import MinnowPruning
import MinnowQuantization
import MinnowTraining

/// A pruning run as a library call: fine-tuning (`FineTuning`, with or without a teacher) with the
/// pruning schedule installed on its trainer, the run's record (`pruning.json`), which its resume
/// reads back, and its report (`minnow prune` runs this).
public enum PruningWorkflow {
    /// How far and when to prune, as a user states it: epochs, not steps.
    public struct Request {
        public var criterion: PruningCriterion
        public var target: PruningTarget
        public var scope: PruningScope
        public var roundTo: Int
        /// Layers (or layer paths) whose output channels stay, besides the default exclusions.
        public var excluded: [String]
        /// The first convolution and the classifier keep their channels (`ChannelAnalysis.defaultExclusions`).
        public var defaultExclusions: Bool
        public var schedule: PruningSchedule.Kind
        /// Epochs of training before the first pruning.
        public var startEpoch: Double
        /// Pruning events after the first; nil: 3 (iterative) or 8 (agp).
        public var steps: Int?
        /// Epochs between events; nil: 1 (iterative) or 0.25 (agp).
        public var everyEpochs: Double?
        public var initialRatio: Double
        public var importanceBatches: Int
        public var sparsity: Float

        public init(criterion: PruningCriterion = .l1, target: PruningTarget, scope: PruningScope = .global, roundTo: Int = 8, excluded: [String] = [],
                    defaultExclusions: Bool = true, schedule: PruningSchedule.Kind = .oneshot, startEpoch: Double = 0, steps: Int? = nil,
                    everyEpochs: Double? = nil, initialRatio: Double = 0, importanceBatches: Int = 16, sparsity: Float = 0) {
            (self.criterion, self.target, self.scope, self.roundTo, self.excluded) = (criterion, target, scope, roundTo, excluded)
            (self.defaultExclusions, self.schedule, self.startEpoch, self.steps, self.everyEpochs) = (defaultExclusions, schedule, startEpoch, steps, everyEpochs)
            (self.initialRatio, self.importanceBatches, self.sparsity) = (initialRatio, importanceBatches, sparsity)
        }
    }

    /// The layers of `model` that keep their output channels: the defaults (unless switched off) and `extra`.
    public static func excludedLayers(_ model: any Layer, inputShape: [Int], defaults: Bool, extra: [String]) throws -> [String] {
        let float: any Layer = (model as? QuantizedModel)?.model ?? model
        return (defaults ? ChannelAnalysis.defaultExclusions(try ModelGraph.trace(float, inputShape: inputShape)) : []) + extra
    }

    /// The schedule of `request` in training steps of `setup`'s run; an error naming the option
    /// when the last pruning would come after the run's last step.
    public static func schedule(_ request: Request, setup: FineTuningSetup, trainImages: Int) throws -> PruningSchedule {
        let total = setup.totalSteps(trainImages: trainImages)
        let steps = request.steps ?? (request.schedule == .agp ? 8 : 3)
        guard steps <= max(total, 1) else { throw WorkflowError("--prune-steps must be at most the run's \(total) training steps, got \(steps)") }
        let every = max(1, try setup.step(atEpoch: request.everyEpochs ?? (request.schedule == .agp ? 0.25 : 1), trainImages: trainImages, option: "--prune-every"))
        let plan = try PruningSchedule(kind: request.schedule, start: try setup.step(atEpoch: request.startEpoch, trainImages: trainImages, option: "--prune-start"),
                                       steps: steps, every: every, initialRemoved: request.initialRatio)
        let last = plan.start.addingReportingOverflow(steps.multipliedReportingOverflow(by: every).partialValue)
        guard !last.overflow, plan.lastStep(finalKept: request.target.fraction) < total else {
            throw WorkflowError("the \(request.schedule.rawValue) schedule's last pruning comes after the run's \(total) steps: give more --epochs, an earlier --prune-start or fewer/closer --prune-steps")
        }
        return plan
    }

    /// Starts a pruning run of the checkpoint's model: checks that the target is reachable,
    /// evaluates the model before pruning, writes the run's record and returns the fine-tuning to
    /// `train`, with its settings and the test top-1 before pruning.
    public static func start(_ start: CheckpointStart, request: Request, setup: FineTuningSetup, checkpoint: String) throws
        -> (fineTuning: FineTuning, settings: PruningSettings, top1Before: Double) {
        let plan = try schedule(request, setup: setup, trainImages: start.train.count)
        let excluded = try excludedLayers(start.model, inputShape: start.config.inputShape, defaults: request.defaultExclusions, extra: request.excluded)
        let settings = try PruningSettings(criterion: request.criterion, target: request.target, scope: request.scope, roundTo: request.roundTo,
                                           excluded: excluded, schedule: plan, importanceBatches: request.importanceBatches,
                                           sparsity: request.sparsity, model: start.model, inputShape: start.config.inputShape)
        try PruningReport.checkReachable(settings, model: start.model, inputShape: start.config.inputShape)
        let before = evaluate(start.model, batches: start.testBatches(), classes: start.config.classes)
        let fineTuning = try FineTuning.start(model: start.model, setup: setup)
        try writeRecord(PruningRecord(settings: settings, top1Before: before.top1, checkpoint: checkpoint), in: fineTuning.run.directory)
        return (fineTuning, settings, before.top1)
    }

    /// Li et al.'s sensitivity analysis of the checkpoint's model: every prunable group alone pruned
    /// by each of `ratios`, evaluated on the first `images` images of `split` (validation: the
    /// images the checkpoint's run held out, so that ratios chosen from it leave the test set unseen).
    public static func sensitivity(_ start: CheckpointStart, criterion: PruningCriterion, excluded: [String], ratios: [Double], importanceBatches: Int,
                                   split: EvaluationSplit, images: Int) throws -> SensitivityAnalysis {
        let batches: [Batch]
        switch split {
        case .test: batches = start.testBatches(limit: images)
        case .validation:
            guard let held = try start.validationBatches(limit: images) else {
                throw WorkflowError("the checkpoint's run held out no validation images (it trained on every training image): use --split test")
            }
            batches = held
        }
        return try SensitivityAnalysis(model: start.model, inputShape: start.config.inputShape, criterion: criterion, excluded: excluded,
                                       ratios: ratios, importanceBatches: criterion == .taylor ? start.importanceBatches(importanceBatches) : [],
                                       batches: batches, split: split, classes: start.config.classes, registry: .checkpoints)
    }

    /// Writes the analysis as sensitivity.txt, sensitivity.json and sensitivity.svg (a line per group) into `folder`.
    public static func write(_ analysis: SensitivityAnalysis, to folder: URL, title: String) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data((analysis.text + "\n").utf8).write(to: folder.appendingPathComponent("sensitivity.txt"), options: .atomic)
        try JSONFile.write(analysis, to: folder.appendingPathComponent("sensitivity.json"))
        let chart = LineChart(title: title, xLabel: "fraction of the group's channels removed", yLabel: "test top-1 (%)", x: [0] + analysis.ratios,
                              series: analysis.rows.map { ($0.group, ([analysis.top1Unpruned] + $0.top1).map { 100 * $0 }) })
        try Data(chart.svg.utf8).write(to: folder.appendingPathComponent("sensitivity.svg"), options: .atomic)
    }

    /// Writes `record` as the run folder's `pruning.json` (atomically).
    public static func writeRecord(_ record: PruningRecord, in folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try JSONFile.write(record, to: folder.appendingPathComponent(PruningRecord.file))
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
                                    normalization: run.normalization, shuffle: true, seed: 0x7a7, prefetchDepth: 0)
        let driver = PruningDriver(settings: settings, inputShape: run.manifest.training.model.inputShape, registry: .checkpoints) { step in
            Array(importance.epoch(step).prefix(settings.importanceBatches))
        }
        driver.install(on: run.trainer)
        try fineTuning.train(observer: observer)
        let report = try PruningReport(record: try record(in: run.directory), model: run.trainer.model,
                                       inputShape: run.manifest.training.model.inputShape, history: run.trainer.history, events: driver.events,
                                       bestMetric: run.manifest.checkpoints.bestMetric)
        try report.write(to: run.directory)
        return report
    }
}
