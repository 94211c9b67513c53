import Foundation
import MinnowData
import MinnowTraining

/// A distillation run: a `TrainingRun` of the student (same data, recipe, run folder, metrics and
/// checkpoints as `minnow train`) whose objective is a `Distiller`'s, plus `distillation.json`.
///
/// Everything that can be wrong is checked in `init`, before any training step: the settings,
/// the teacher checkpoints, that the teachers fit the data set, and the layer pairs. The teacher
/// logits come from a `TeacherCache` when that is valid (a cache directory is given, the loss uses
/// logits, no feature loss, no augmentation); otherwise the teachers run online, and
/// `manifest.teacherLogits` says why.
public final class DistillationRun {
    /// What is saved as `distillation.json`.
    public struct Manifest: Codable, Sendable {
        public var settings: DistillationSettings
        /// The teacher checkpoints and the fingerprints of their weights.
        public var teachers: [String]
        public var teacherFingerprints: [String]
        /// `cache: <file> (<status>)` or `online: <reason>`.
        public var teacherLogits: String
    }

    /// The student's training run: data, trainer (with the distillation objective), run folder.
    public let training: TrainingRun
    public let distiller: Distiller
    public let manifest: Manifest

    /// Loads the teachers and the data, builds the student and the objective. `cacheDirectory`
    /// nil disables the teacher-output cache.
    public init(config: TrainingConfig, settings: DistillationSettings, teachers teacherURLs: [URL], data: DatasetChoice,
                dataDirectory: URL? = nil, trainSubset: Int? = nil,
                augmentation: TrainingRun.AugmentationSettings = .init(), directory: URL, cacheDirectory: URL?,
                commandLine: [String] = CommandLine.arguments) throws {
        try settings.validate()  // before loading anything
        let teachers = try TeacherEnsemble(checkpoints: teacherURLs)
        training = try TrainingRun(config: config, data: data, dataDirectory: dataDirectory, trainSubset: trainSubset,
                                   augmentation: augmentation, directory: directory, commandLine: commandLine)
        let train = training.trainLoader.dataset
        try teachers.checkFits(imageShape: train.imageShape, classes: train.classCount, dataset: data.rawValue)
        let student = training.trainer.model
        let inputShape = training.manifest.training.model.inputShape
        // The layer pairs are checked here, before a possibly long teacher pass over the training set.
        distiller = try Distiller(settings: settings, student: student, inputShape: inputShape, teachers: teachers,
                                  seed: config.seed)
        let source: String
        switch Self.teacherLogitsSource(settings: settings, augmentation: augmentation, cacheDirectory: cacheDirectory) {
        case .online(let reason):
            source = "online: \(reason)"
        case .cache(let directory):
            let cache = try TeacherCache.open(teachers: teachers, dataset: train, normalization: data.normalization,
                                              directory: directory)
            try distiller.useCache(cache)
            source = "cache: \(cache.url.path) (\(cache.status))"
        }
        distiller.install(on: training.trainer, stepsPerEpoch: training.trainLoader.batchesPerEpoch)
        manifest = Manifest(settings: settings, teachers: teacherURLs.map(\.path),
                            teacherFingerprints: teachers.members.map(\.fingerprint.hex), teacherLogits: source)
    }

    /// Where the teacher logits of each step come from.
    public enum TeacherLogitsSource: Equatable, Sendable {
        case cache(directory: URL)
        case online(reason: String)
    }

    /// The cache when it is valid for these settings, else online with the reason.
    public static func teacherLogitsSource(settings: DistillationSettings, augmentation: TrainingRun.AugmentationSettings,
                                           cacheDirectory: URL?) -> TeacherLogitsSource {
        if settings.needsTeacherFeatures {
            return .online(reason: "feature losses need the teacher's features of every batch")
        }
        if !settings.needsTeacherLogits { return .online(reason: "the loss uses no teacher logits") }
        if augmentation != .init() {
            return .online(reason: "augmentation is on: every epoch shows new crops/flips, whose teacher logits are not the cached ones")
        }
        guard let cacheDirectory else { return .online(reason: "the cache is disabled") }
        return .cache(directory: cacheDirectory)
    }

    /// Writes `distillation.json` and trains the remaining epochs (see `TrainingRun.start`).
    @discardableResult
    public func start(observer: TrainingObserver?) throws -> [EpochRecord] {
        try FileManager.default.createDirectory(at: training.directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: training.directory.appendingPathComponent("distillation.json"), options: .atomic)
        return try distiller.capturingStudentFeatures { try training.start(observer: observer) }
    }
}
