import Foundation
import MinnowData
import MinnowNN
import MinnowTraining

/// A distillation run: a `TrainingRun` of the student (same data, recipe, run folder, metrics and
/// checkpoints as `minnow train`) whose objective is a `Distiller`'s, plus `distillation.json`.
/// It resumes with `resume(from:)` (the adapters and their optimizer state are in the checkpoints).
///
/// Everything that can be wrong is checked in `init`, before any training step: the settings,
/// the teacher checkpoints, that the teachers fit the data set, and the layer pairs. The teacher
/// logits come from a `TeacherCache` when that is valid (a cache directory is given, the loss uses
/// logits, no feature loss, no augmentation); otherwise the teachers run online, and
/// `manifest.teacherLogits` says why.
public final class DistillationRun {
    /// What is saved as `distillation.json`.
    public struct Manifest: ForwardCompatible, Sendable {
        public static let requiredKeys: Set<String> = ["teachers", "teacherFingerprints"]
        public var settings: DistillationSettings
        /// The teacher checkpoints and the fingerprints of their weights.
        public var teachers: [String]
        public var teacherFingerprints: [String]
        /// `cache: <file> (<status>)` or `online: <reason>`.
        public var teacherLogits: String

        public init(settings: DistillationSettings, teachers: [String], teacherFingerprints: [String], teacherLogits: String) {
            (self.settings, self.teachers, self.teacherFingerprints, self.teacherLogits) = (settings, teachers, teacherFingerprints, teacherLogits)
        }

        /// Decodes a manifest; missing settings are the defaults, a missing logits note is empty.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(settings: try c.decode(.settings, or: DistillationSettings()), teachers: try c.decode([String].self, forKey: .teachers),
                      teacherFingerprints: try c.decode([String].self, forKey: .teacherFingerprints), teacherLogits: try c.decode(.teacherLogits, or: ""))
        }
    }

    /// The student's training run: data, trainer (with the distillation objective), run folder.
    public let training: TrainingRun
    public let distiller: Distiller
    public let manifest: Manifest

    /// Loads the teachers and the data, builds the student (or takes `student`, built for the
    /// recipe's model config: a quantized one for QAT with a teacher) and the objective.
    /// `cacheDirectory` nil disables the teacher-output cache.
    public convenience init(config: TrainingConfig, settings: DistillationSettings, teachers teacherURLs: [URL], data: DatasetChoice,
                            dataDirectory: URL? = nil, trainSubset: Int? = nil, validation: ValidationSplit? = nil,
                            augmentation: TrainingRun.AugmentationSettings = .init(), checkpoints: CheckpointPolicy = .init(),
                            directory: URL, cacheDirectory: URL?, student: (any Layer)? = nil,
                            commandLine: [String] = CommandLine.arguments) throws {
        try settings.validate()  // before loading anything
        let teachers = try TeacherEnsemble(checkpoints: teacherURLs)
        let training = try TrainingRun(config: config, data: data, dataDirectory: dataDirectory, trainSubset: trainSubset,
                                       validation: validation, augmentation: augmentation, checkpoints: checkpoints, objective: Self.objective,
                                       directory: directory, model: student, commandLine: commandLine)
        try self.init(training: training, settings: settings, teachers: teachers, teacherURLs: teacherURLs,
                      cacheDirectory: cacheDirectory)
    }

    /// Reopens a distillation run to continue it exactly where a checkpoint left off, as
    /// `TrainingRun.resume(from:)` does for plain training: the recipe is the checkpoint's, the
    /// distillation settings and teachers are the folder's `distillation.json`, and the FitNets
    /// adapters and their optimizer state come from the checkpoint. `teachers`, when given, replaces
    /// the recorded teacher paths (moved files); either way each teacher's weights must have the
    /// fingerprint recorded when the run started.
    public static func resume(from location: URL, teachers teacherURLs: [URL]? = nil, dataDirectory: URL? = nil,
                              cacheDirectory: URL?) throws -> DistillationRun {
        let point = try TrainingRun.resumePoint(from: location)
        let manifestURL = point.folder.settings(of: declaration)
        guard point.objective(known: [declaration]) == objective else {
            throw DistillationError.invalidSetting("\(point.folder.url.path) is not a distillation run (it has no \(manifestURL.lastPathComponent) and its recipe's objective is \(point.manifest.objective ?? "cross-entropy")): continue it with `minnow train --resume`")
        }
        let saved: Manifest
        do {
            saved = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: manifestURL))
        } catch {
            throw DistillationError.invalidSetting("\(manifestURL.path): cannot read the run's distillation settings: \(error)")
        }
        let urls = teacherURLs ?? saved.teachers.map { URL(fileURLWithPath: $0) }
        guard urls.count == saved.teachers.count else {
            throw DistillationError.teacher("the run was distilled from \(saved.teachers.count) teachers, \(urls.count) were given")
        }
        let teachers = try TeacherEnsemble(checkpoints: urls)
        for (member, (url, recorded)) in zip(teachers.members, zip(urls, saved.teacherFingerprints))
        where member.fingerprint.hex != recorded {
            throw DistillationError.teacher("\(url.path) has weights with fingerprint \(member.fingerprint.hex), the run started from \(recorded): not the same teacher")
        }
        let training = try TrainingRun(manifest: point.manifest, dataDirectory: dataDirectory, directory: point.folder.url,
                                       model: try point.checkpoint.flatMap { try TrainingRun.describedModel($0) })
        let run = try DistillationRun(training: training, settings: saved.settings, teachers: teachers, teacherURLs: urls,
                                      cacheDirectory: cacheDirectory)
        if let checkpoint = point.checkpoint { try training.restore(from: checkpoint) }
        return run
    }

    /// Distillation as run folders see it: `distillation.json` holds its settings and teachers,
    /// and `minnow distill --resume` continues it.
    public static let declaration = ObjectiveDeclaration(name: objective, settingsFile: "distillation.json",
                                                         resumeCommand: "minnow distill --resume")

    /// The value of `TrainingRun.Manifest.objective` for distillation runs.
    public static let objective = "distillation"

    /// Checks that the teachers fit the data and the layer pairs fit the models, sets up the teacher
    /// logits (cache or online) and installs the objective on `training`'s trainer.
    private init(training: TrainingRun, settings: DistillationSettings, teachers: TeacherEnsemble, teacherURLs: [URL],
                 cacheDirectory: URL?) throws {
        self.training = training
        let train = training.trainLoader.dataset, dataset = training.manifest.dataset
        try teachers.checkFits(imageShape: train.imageShape, classes: train.classCount, dataset: dataset.rawValue)
        // The layer pairs are checked here, before a possibly long teacher pass over the training set.
        distiller = try Distiller(settings: settings, student: training.trainer.model,
                                  inputShape: training.manifest.training.model.inputShape, teachers: teachers,
                                  seed: training.manifest.training.seed)
        let source: String
        switch Self.teacherLogitsSource(settings: settings, augmentation: training.manifest.augmentation,
                                        cacheDirectory: cacheDirectory) {
        case .online(let reason):
            source = "online: \(reason)"
        case .cache(let directory):
            let cache = try TeacherCache.open(teachers: teachers, dataset: train, normalization: training.normalization,
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
        try JSONFile.write(manifest, to: training.folder.settings(of: Self.declaration))
        return try distiller.capturingStudentFeatures { try training.start(observer: observer) }
    }
}
