import ArgumentParser
import Foundation
import MinnowDistillation
import MinnowModels
import MinnowPruning
import MinnowTraining

extension DistillationSettings.ResponseLoss: ExpressibleByArgument {}

struct Distill: MinnowCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a student from one or more teacher checkpoints (knowledge distillation).",
        discussion: """
            The objective is a response loss (--loss kd: Hinton et al. 2015; dkd: decoupled KD, Zhao et \
            al. 2022; ce: cross-entropy only) plus optional feature losses at layer pairs \
            studentPath:teacherPath (--hint: FitNets; --attention: attention transfer). Layer paths are \
            module paths such as features.6 (MobileNetV2 blocks) or layers.3 (ResNet blocks); a wrong \
            path lists the valid ones near it.

            Several --teacher flags make an ensemble (averaged logits; feature losses use the first \
            teacher). Without augmentation and feature losses, the teachers' logits on the training set \
            are computed once and cached in HDF5, keyed by the teachers' weights, the data and the \
            normalization; otherwise the teachers run every step.

            The run folder is that of `minnow train` plus distillation.json; metrics.jsonl has each loss \
            term under lossTerms. --resume RUN continues a distillation run exactly where its checkpoint \
            left off (with the FitNets adapters and their optimizer state), with its saved recipe and \
            settings; only --teacher (moved teacher files), --data-dir, --progress, the cache and \
            checkpoint options may be given with it. See docs/distillation.md.

            Example:
              minnow distill --teacher runs/teacher/best.h5 --student mobilenet_v2 \\
                --width 0.5 --loss kd --temperature 4 --alpha 0.9 --epochs 30 --out runs/kd
            """)

    @Option(help: "A teacher checkpoint (.h5); repeat for an ensemble. With --resume: where the run's teachers are now (their weights must be the ones the run started with).")
    var teacher: [String] = []
    @Option(help: "The student: a preset (\(ModelConfig.presetNames.joined(separator: ", "))) or an architecture (\(ModelConfig.Architecture.allCases.map(\.rawValue).joined(separator: ", "))).")
    var student: String?
    @Option(help: "Width multiplier of the student architecture.") var width: Float?
    @Option(help: "ResNet depth of the student, 6n+2.") var depth: Int?
    @Option(help: "Dropout before the student's classifier.") var dropout: Float?
    @Option(help: "Seed of the student's weight initialization (default: 0).") var initSeed: UInt64?

    @Option(help: "Response loss: kd, dkd, or ce (feature losses only) (default: kd).") var loss: DistillationSettings.ResponseLoss?
    @Option(help: "Softmax temperature (kd, dkd) (default: \(Self.defaults.temperature)).") var temperature: Float?
    @Option(help: "kd: weight of the soft-target term, in [0, 1]; the label term gets 1 - alpha (default: \(Self.defaults.alpha)).")
    var alpha: Float?
    @Option(help: "dkd: weight of the target-class term TCKD (default: \(Self.defaults.dkdAlpha)).") var dkdAlpha: Float?
    @Option(help: "dkd: weight of the non-target-class term NCKD (default: \(Self.defaults.dkdBeta)).") var dkdBeta: Float?
    @Option(help: "dkd: epochs over which TCKD and NCKD ramp up from 0 (default: 0).") var dkdWarmupEpochs: Double?
    @Option(help: "FitNets hint studentPath:teacherPath (a 1x1 adapter and MSE); repeatable.") var hint: [String] = []
    @Option(help: "Weight of each hint's MSE (default: \(Self.defaults.hintWeight)).") var hintWeight: Float?
    @Option(help: "Attention-transfer pair studentPath:teacherPath; repeatable.") var attention: [String] = []
    @Option(help: "Attention-transfer beta; each pair adds beta/2 * mean squared map difference (default: \(Self.defaults.attentionBeta)).")
    var attentionBeta: Float?
    @Option(help: "Folder of the teacher-logits cache (default: .teacher-cache next to the run folder).")
    var teacherCacheDir: String?
    @Flag(help: "Run the teachers every step instead of caching their logits.") var noTeacherCache = false

    @OptionGroup var training: TrainingOptions
    @OptionGroup var runOptions: RunOptions

    private static let defaults = DistillationSettings()

    /// The student and distillation options given on the command line (a resumed run keeps its saved ones).
    private var distillationOptionsGiven: [String] {
        [
            ("--student", student != nil), ("--width", width != nil), ("--depth", depth != nil), ("--dropout", dropout != nil),
            ("--init-seed", initSeed != nil), ("--loss", loss != nil), ("--temperature", temperature != nil),
            ("--alpha", alpha != nil), ("--dkd-alpha", dkdAlpha != nil), ("--dkd-beta", dkdBeta != nil),
            ("--dkd-warmup-epochs", dkdWarmupEpochs != nil), ("--hint", !hint.isEmpty), ("--hint-weight", hintWeight != nil),
            ("--attention", !attention.isEmpty), ("--attention-beta", attentionBeta != nil),
        ].filter(\.1).map(\.0)
    }

    func validate() throws {
        try ModelOptions.validate(width: width, depth: depth, dropout: dropout)
        try OptionCheck.positive("--temperature", temperature)
        try OptionCheck.fraction("--alpha", alpha, includingUpper: true)
        try OptionCheck.nonNegative("--dkd-alpha", dkdAlpha)
        try OptionCheck.nonNegative("--dkd-beta", dkdBeta)
        try OptionCheck.nonNegative("--dkd-warmup-epochs", dkdWarmupEpochs)
        try OptionCheck.nonNegative("--hint-weight", hintWeight)
        try OptionCheck.nonNegative("--attention-beta", attentionBeta)
        try runOptions.validate(recipeOptions: distillationOptionsGiven + training.given)
        guard runOptions.resume == nil else { return }
        guard !teacher.isEmpty else { throw ValidationError("give at least one --teacher checkpoint") }
        guard student != nil, training.out != nil else { throw ValidationError("--student and --out are required (or --resume RUN)") }
    }

    func execute() throws {
        let run = try runOptions.resume.map(resumedRun) ?? newRun()
        let trainer = run.training.trainer
        print("\(run.training.manifest.training.model.architecture.rawValue): \(trainer.model.parameterCount) parameters; \(run.training.trainLoader.dataset.count) training images, \(run.training.trainLoader.batchesPerEpoch) steps per epoch")
        print("teachers: \(run.manifest.teachers.joined(separator: ", ")); teacher logits: \(run.manifest.teacherLogits)")
        try run.start(observer: ProgressPrinter(style: training.progress))
        print("run folder: \(run.training.directory.path)")
    }

    private func newRun() throws -> DistillationRun {
        let model = try ModelOptions.config(model: student ?? "", width: width, depth: depth, dropout: dropout, initSeed: initSeed ?? 0)
        let defaults = Self.defaults
        let settings = DistillationSettings(
            loss: loss ?? defaults.loss, temperature: temperature ?? defaults.temperature, alpha: alpha ?? defaults.alpha,
            dkdAlpha: dkdAlpha ?? defaults.dkdAlpha, dkdBeta: dkdBeta ?? defaults.dkdBeta,
            dkdWarmupEpochs: dkdWarmupEpochs ?? defaults.dkdWarmupEpochs, hints: try hint.map(LayerPair.init(parsing:)),
            hintWeight: hintWeight ?? defaults.hintWeight, attention: try attention.map(LayerPair.init(parsing:)),
            attentionBeta: attentionBeta ?? defaults.attentionBeta)
        return try DistillationRun(
            config: try training.config(model: model), settings: settings, teachers: teacher.map { URL(fileURLWithPath: $0) },
            data: training.data, dataDirectory: training.dataDirectory, trainSubset: training.trainSubset,
            augmentation: training.augmentation, checkpoints: runOptions.checkpointPolicy(CheckpointPolicy()),
            directory: training.outDirectory, cacheDirectory: cacheDirectory(runFolder: training.outDirectory))
    }

    private func resumedRun(_ location: String) throws -> DistillationRun {
        let url = URL(fileURLWithPath: location)
        let point = try TrainingRun.resumePoint(from: url)
        if FileManager.default.fileExists(atPath: point.folder.settings(of: PruningRecord.declaration).path) {
            throw CLIError(message: "\(point.folder.url.path) is a pruning run: continue it with `minnow prune --resume`")
        }
        let run = try DistillationRun.resume(
            from: url, teachers: teacher.isEmpty ? nil : teacher.map { URL(fileURLWithPath: $0) },
            dataDirectory: training.dataDirectory, cacheDirectory: cacheDirectory(runFolder: point.folder.url))
        try runOptions.prepareResumed(run.training)
        return run
    }

    /// The teacher-logits cache folder of a run in `runFolder`; nil with --no-teacher-cache.
    private func cacheDirectory(runFolder: URL) -> URL? {
        noTeacherCache ? nil : URL(fileURLWithPath: teacherCacheDir
            ?? runFolder.standardizedFileURL.deletingLastPathComponent().appendingPathComponent(".teacher-cache").path)
    }
}
