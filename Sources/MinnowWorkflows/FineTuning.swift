import Foundation
import MinnowData
import MinnowDistillation
import MinnowNN
import MinnowPruning
import MinnowTraining

/// Every training objective a run folder can hold besides plain cross-entropy (its settings file
/// and the command that resumes it): the one list the resume paths consult.
public enum TrainingObjectives {
    public static let all: [ObjectiveDeclaration] = [DistillationRun.declaration, PruningRecord.declaration]
}

/// Fine-tuning a given model (a quantized one for quantization-aware training, a float one being
/// pruned) on a recipe, with an optional teacher (knowledge distillation), and its exact resume:
/// the run `minnow qat` and `minnow prune` share.
public struct FineTuning {
    /// The training run (data, trainer, run folder).
    public let run: TrainingRun
    /// The distillation around it, when a teacher teaches.
    public let distillation: DistillationRun?

    /// Starts a run in `setup.directory` that trains `model` with `setup.config`; with a teacher,
    /// distilled from it (the teacher's logits cached beside the run folder).
    public static func start(model: any Layer, setup: FineTuningSetup) throws -> FineTuning {
        let s = setup
        guard let teacher = s.teacher else {
            return FineTuning(run: try TrainingRun(config: s.config, data: s.data, dataDirectory: s.dataDirectory, trainSubset: s.trainSubset,
                                                   validation: s.validation, augmentation: s.augmentation, checkpoints: s.checkpoints, directory: s.directory, model: model),
                              distillation: nil)
        }
        let distillation = try DistillationRun(config: s.config, settings: s.distillation, teachers: [teacher], data: s.data,
                                               dataDirectory: s.dataDirectory, trainSubset: s.trainSubset, validation: s.validation,
                                               augmentation: s.augmentation,
                                               checkpoints: s.checkpoints, directory: s.directory,
                                               cacheDirectory: teacherCache(beside: s.directory), student: model)
        return FineTuning(run: distillation.training, distillation: distillation)
    }

    /// Resumes the run of `location` (a run folder or one of its checkpoints): distilled when the
    /// folder holds distillation settings, else plain. `handled` are the objectives the caller
    /// carries on itself (a pruning run's schedule); a run of any other objective is refused with
    /// the command that resumes it.
    public static func resume(from location: URL, dataDirectory: URL?, handling handled: [ObjectiveDeclaration] = []) throws -> FineTuning {
        let point = try TrainingRun.resumePoint(from: location)
        if FileManager.default.fileExists(atPath: point.folder.settings(of: DistillationRun.declaration).path) {
            let distillation = try DistillationRun.resume(from: location, dataDirectory: dataDirectory,
                                                          cacheDirectory: teacherCache(beside: point.folder.url))
            return FineTuning(run: distillation.training, distillation: distillation)
        }
        let refused = TrainingObjectives.all.filter { !handled.contains($0) }
        let run = try TrainingRun.resume(from: location, dataDirectory: dataDirectory, knownObjectives: refused)
        return FineTuning(run: run, distillation: nil)
    }

    /// Reopens a `minnow distill` run (`DistillationRun.resume`) with the teacher-logits cache that
    /// `cacheDirectory` names for its folder; a pruning run, which holds distillation settings too,
    /// is refused with the command that continues it.
    public static func resumeDistillation(from location: URL, teachers: [URL]?, dataDirectory: URL?,
                                          cacheDirectory: (URL) -> URL?) throws -> DistillationRun {
        let folder = try TrainingRun.resumePoint(from: location).folder
        if FileManager.default.fileExists(atPath: folder.settings(of: PruningRecord.declaration).path) {
            throw DistillationError.invalidSetting("\(folder.url.path) is a pruning run: continue it with `\(PruningRecord.declaration.resumeCommand)`")
        }
        return try DistillationRun.resume(from: location, teachers: teachers, dataDirectory: dataDirectory,
                                          cacheDirectory: cacheDirectory(folder.url))
    }

    /// Trains to the end of the recipe (through the distillation when there is one).
    @discardableResult
    public func train(observer: TrainingObserver?) throws -> [EpochRecord] {
        if let distillation { return try distillation.start(observer: observer) }
        return try run.start(observer: observer)
    }

    /// The teacher-logit cache folder for runs in `folder`'s parent (`.teacher-cache`).
    public static func teacherCache(beside folder: URL) -> URL {
        folder.standardizedFileURL.deletingLastPathComponent().appendingPathComponent(".teacher-cache")
    }
}
