import ArgumentParser
import Foundation
import MinnowModels
import MinnowTraining
import MinnowWorkflows

/// The data and recipe options shared by `train` and `distill`. Every recipe option is optional, so
/// `train --resume` can tell which were given; an option not given takes `TrainingConfig`'s default.
public struct TrainingOptions: ParsableArguments {
    public init() {}

    /// The library's defaults, shown in the help.
    private static let defaults = TrainingConfig(model: ModelConfig(architecture: .cnn))

    @Option(help: "Data set: fashion-mnist (default), cifar10, arrays:PATH (.npy folder or HDF5 file) or images:DIR.") public var dataset: DatasetChoice?
    @Option(help: "Folder with the data set's files (default: its standard location, or MINNOW_FASHION_MNIST_DIR / MINNOW_CIFAR10_DIR).")
    public var dataDir: String?
    @Option(help: "Train on a seeded random subset of this many images.") public var trainSubset: Int?
    @Option(help: ArgumentHelp("Hold out this many training images to choose best.h5 on (default: 0, none; experiments: 5000).",
                               discussion: "The same images for every run with the same --validation-seed, whatever --seed is."))
    public var validation: Int?
    @Option(help: "Seed of which training images are held out (default: 0).") public var validationSeed: UInt64?
    @Option(help: "Epochs (default: \(defaults.epochs)).") public var epochs: Int?
    @Option(help: "Images per batch (default: \(defaults.batchSize)).") public var batchSize: Int?
    @Option(help: "Optimizer: sgd, adam, adamw (default: \(defaults.optimizer.rawValue)).") public var optimizer: TrainingConfig.OptimizerKind?
    @Option(help: "Learning rate, the maximum for onecycle (default: \(defaults.learningRate); qat, prune: 0.01).") public var lr: Float?
    @Option(help: "SGD momentum (default: \(defaults.momentum)).") public var momentum: Float?
    @Flag(inversion: .prefixedNo, help: "Nesterov momentum (SGD; default: on).") public var nesterov: Bool?
    @Option(help: "Weight decay, L2 for sgd/adam, decoupled for adamw (default: \(defaults.weightDecay)).") public var weightDecay: Float?
    @Option(help: "Learning-rate schedule: constant, step, cosine, onecycle (default: \(defaults.schedule.rawValue); qat, prune: cosine).")
    public var schedule: TrainingConfig.ScheduleKind?
    @Option(help: "Linear warmup steps (cosine schedule; default: 0).") public var warmupSteps: Int?
    @Option(help: "Step schedule: epochs between decays (default: \(defaults.stepEpochs)).") public var stepEpochs: Int?
    @Option(help: "Step schedule: decay factor (default: \(defaults.stepGamma)).") public var stepGamma: Float?
    @Option(help: "Clip the global gradient norm to this value.") public var clipNorm: Float?
    @Option(help: "Label smoothing for the cross-entropy (default: 0).") public var labelSmoothing: Float?
    @Option(help: "Augmentation: zero padding before a random crop (default: 0, off).") public var cropPadding: Int?
    @Flag(help: "Augmentation: random horizontal flips.") public var flip = false
    @Option(help: "Augmentation: random erasing probability, torchvision's defaults otherwise (default: 0, off).")
    public var randomErasing: Double?
    @Option(help: "Seed of data order, augmentation and dropout (default: 0).") public var seed: UInt64?
    @Option(help: "Run folder.") public var out: String?
    @Option(help: "Progress display: auto (a bar on a terminal, lines otherwise), bar, lines, none.")
    public var progress: ProgressPrinter.Style = .auto

    /// Checks the range of every numeric option given, naming the flag.
    public func validate() throws {
        try OptionCheck.within("--train-subset", trainSubset, 1...Int(Int32.max))
        try OptionCheck.within("--validation", validation, 0...Int(Int32.max))
        if validationSeed != nil, (validation ?? 0) == 0 { throw ValidationError("--validation-seed needs --validation N") }
        if dataDir != nil, let dataset, !dataset.isBuiltIn {
            throw ValidationError("--data-dir moves fashion-mnist or cifar10; \(dataset) names its own location")
        }
        try OptionCheck.within("--epochs", epochs, 1...OptionCheck.maximumEpochs)
        try OptionCheck.within("--batch-size", batchSize, 1...OptionCheck.maximumBatch)
        try OptionCheck.positive("--lr", lr)
        try OptionCheck.fraction("--momentum", momentum)
        try OptionCheck.nonNegative("--weight-decay", weightDecay)
        try OptionCheck.within("--warmup-steps", warmupSteps, 0...OptionCheck.maximumSteps)
        try OptionCheck.within("--step-epochs", stepEpochs, 1...OptionCheck.maximumEpochs)
        try OptionCheck.positive("--step-gamma", stepGamma)
        try OptionCheck.positive("--clip-norm", clipNorm)
        try OptionCheck.fraction("--label-smoothing", labelSmoothing)
        try OptionCheck.within("--crop-padding", cropPadding, 0...OptionCheck.maximumExtent)
        try OptionCheck.check("--random-erasing", randomErasing, "in [0, 1]") { (0...1).contains($0) }
    }

    /// The recipe options given on the command line (a resumed run keeps its saved recipe).
    public var given: [String] {
        let data: [(String, Bool)] = [
            ("--dataset", dataset != nil), ("--train-subset", trainSubset != nil), ("--validation", validation != nil),
            ("--validation-seed", validationSeed != nil),
        ]
        let recipe: [(String, Bool)] = [
            ("--epochs", epochs != nil), ("--batch-size", batchSize != nil), ("--optimizer", optimizer != nil), ("--lr", lr != nil),
            ("--momentum", momentum != nil), ("--[no-]nesterov", nesterov != nil), ("--weight-decay", weightDecay != nil),
            ("--schedule", schedule != nil), ("--warmup-steps", warmupSteps != nil), ("--step-epochs", stepEpochs != nil),
            ("--step-gamma", stepGamma != nil), ("--clip-norm", clipNorm != nil), ("--label-smoothing", labelSmoothing != nil),
        ]
        let augmentation: [(String, Bool)] = [
            ("--crop-padding", cropPadding != nil), ("--flip", flip), ("--random-erasing", randomErasing != nil),
            ("--seed", seed != nil), ("--out", out != nil),
        ]
        return (data + recipe + augmentation).filter(\.1).map(\.0)
    }

    /// The recipe for `model`: the options given, the library's defaults for the rest; validated.
    public func config(model: ModelConfig) throws -> TrainingConfig {
        var config = TrainingConfig(model: model)
        config.epochs = epochs ?? config.epochs
        config.batchSize = batchSize ?? config.batchSize
        config.optimizer = optimizer ?? config.optimizer
        config.learningRate = lr ?? config.learningRate
        config.momentum = momentum ?? config.momentum
        config.nesterov = (nesterov ?? config.nesterov) && config.optimizer == .sgd
        config.weightDecay = weightDecay ?? config.weightDecay
        config.schedule = schedule ?? config.schedule
        config.warmupSteps = warmupSteps ?? config.warmupSteps
        config.stepEpochs = stepEpochs ?? config.stepEpochs
        config.stepGamma = stepGamma ?? config.stepGamma
        config.clipNorm = clipNorm
        config.labelSmoothing = labelSmoothing ?? config.labelSmoothing
        config.seed = seed ?? config.seed
        try config.validate()
        return config
    }

    /// The recipe of a fine-tuning run (`qat`, `prune`) of `model`: the options given, and for
    /// those not given 3 epochs of a cosine schedule from 0.01 (the library's defaults for the rest).
    public func fineTuningConfig(model: ModelConfig) throws -> TrainingConfig {
        var config = try self.config(model: model)
        if epochs == nil { config.epochs = 3 }
        if lr == nil { config.learningRate = 0.01 }
        if schedule == nil { config.schedule = .cosine }
        try config.validate()
        return config
    }

    /// The fine-tuning of `model` (`qat`, `prune`): `fineTuningConfig`, the teacher and the run options.
    public func fineTuningSetup(model: ModelConfig, teacher: TeacherOptions, run: RunOptions) throws -> FineTuningSetup {
        FineTuningSetup(config: try fineTuningConfig(model: model), teacher: teacher.teacher.map { URL(fileURLWithPath: $0) },
                        distillation: teacher.settings, data: data, dataDirectory: dataDirectory, trainSubset: trainSubset,
                        validation: validationSplit, augmentation: augmentation, checkpoints: checkpointPolicy(run: run),
                        directory: outDirectory)
    }

    /// The held-out validation images `--validation` asks for (nil for none).
    public var validationSplit: ValidationSplit? {
        guard let validation, validation > 0 else { return nil }
        return ValidationSplit(count: validation, seed: validationSeed ?? 0)
    }

    /// The checkpoint policy of a new run: `run`'s options, and `best.h5` chosen on validation top-1
    /// when there is a validation split (else on test top-1) unless `--best-metric` says otherwise.
    public func checkpointPolicy(run: RunOptions) -> CheckpointPolicy {
        run.checkpointPolicy(CheckpointPolicy(bestMetric: .defaultMetric(validation: validationSplit != nil)))
    }

    public var data: DatasetChoice { dataset ?? .fashionMNIST }
    public var augmentation: TrainingRun.AugmentationSettings {
        .init(cropPadding: cropPadding ?? 0, horizontalFlip: flip, randomErasing: randomErasing ?? 0)
    }
    public var dataDirectory: URL? { dataDir.map { URL(fileURLWithPath: $0) } }

    /// The run folder; `validate()` of the command makes sure `--out` was given.
    public var outDirectory: URL { URL(fileURLWithPath: out ?? ".") }
}

/// The options of a fine-tuning that starts from a checkpoint or resumes (`qat`, `prune`): the
/// teacher, the recipe and the run folder.
public struct FineTuningOptions: ParsableArguments {
    public init() {}

    @OptionGroup public var kd: TeacherOptions
    @OptionGroup public var training: TrainingOptions
    @OptionGroup public var run: RunOptions

    /// Checks that a new run has `checkpoint` and `--out`, and that a resumed one has neither a
    /// checkpoint nor recipe options.
    public func validate(checkpoint: String?) throws {
        guard run.resume == nil else {
            guard checkpoint == nil else { throw ValidationError("--resume continues a run; give no checkpoint with it") }
            return try run.validate(recipeOptions: training.given)
        }
        guard checkpoint != nil, training.out != nil else { throw ValidationError("a checkpoint and --out are required (or --resume RUN)") }
    }

    /// The fine-tuning of `model` these options describe (`TrainingOptions.fineTuningSetup`).
    public func setup(model: ModelConfig) throws -> FineTuningSetup {
        try training.fineTuningSetup(model: model, teacher: kd, run: run)
    }
}
