import ArgumentParser
import Foundation
import MinnowModels
import MinnowTraining

extension TrainingConfig.OptimizerKind: ExpressibleByArgument {}
extension TrainingConfig.ScheduleKind: ExpressibleByArgument {}
extension DatasetChoice: ExpressibleByArgument {}
extension ProgressPrinter.Style: ExpressibleByArgument {}
extension CheckpointPolicy.Metric: ExpressibleByArgument {}

/// Model choice shared by the commands that build a model.
struct ModelOptions: ParsableArguments {
    @Option(help: "A preset (\(ModelConfig.presetNames.joined(separator: ", "))) or an architecture (\(ModelConfig.Architecture.allCases.map(\.rawValue).joined(separator: ", "))).")
    var model: String?

    @Option(help: "Width multiplier for an architecture (presets fix their own).")
    var width: Float?

    @Option(help: "ResNet depth, 6n+2 (8, 14, 20, ...).")
    var depth: Int?

    @Option(help: "Dropout before the classifier (MobileNets, SqueezeNet).")
    var dropout: Float?

    @Option(help: "Seed of the weight initialization (default: 0).")
    var initSeed: UInt64?

    /// The options given on the command line.
    var given: [String] {
        [("--model", model != nil), ("--width", width != nil), ("--depth", depth != nil), ("--dropout", dropout != nil),
         ("--init-seed", initSeed != nil)].filter(\.1).map(\.0)
    }

    func config() throws -> ModelConfig {
        guard let model else { throw ValidationError("--model is required") }
        return try Self.config(model: model, width: width, depth: depth, dropout: dropout, initSeed: initSeed ?? 0)
    }

    /// The config of a preset or of an architecture with its size options (shared with `distill --student`).
    static func config(model: String, width: Float?, depth: Int?, dropout: Float?, initSeed: UInt64) throws -> ModelConfig {
        if let preset = ModelConfig.preset(model, seed: initSeed) {
            guard width == nil, depth == nil else {
                throw ValidationError("--width and --depth apply to architectures; the preset '\(model)' fixes them")
            }
            return preset
        }
        guard let architecture = ModelConfig.Architecture(rawValue: model) else {
            throw ValidationError("unknown model '\(model)'; choose a preset (\(ModelConfig.presetNames.joined(separator: ", "))) or an architecture (\(ModelConfig.Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let config = ModelConfig(architecture: architecture, width: width ?? 1, depth: depth ?? 14, dropout: dropout, seed: initSeed)
        do { _ = try ModelZoo.build(config) } catch { throw ValidationError(error.description) }
        return config
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model from scratch on Fashion-MNIST or CIFAR-10, or resume a run.",
        discussion: """
            Writes the run folder given by --out: config.json (the full recipe and command line), metrics.jsonl
            (one JSON object per epoch: train loss/accuracy, test loss/top-1/top-5, images/s, wall time), and
            HDF5 checkpoints: last.h5 (every --checkpoint-every epochs), epoch-NNNN.h5 (the last --keep-last, when
            more than 1) and best.h5 (by --best-metric). The default recipe is the peers' reference: SGD with
            Nesterov momentum 0.9, weight decay 5e-4, one-cycle learning rate with maximum 0.1, batch 128, no augmentation.
            --resume RUN (or RUN/epoch-0003.h5) continues a run exactly where its checkpoint left off, with the
            saved recipe; only --data-dir, --progress and the checkpoint options may be given with it.
            Example: minnow train --model mobilenet_v2 --width 0.5 --epochs 3 --out runs/mbv2
            """)

    /// The library's defaults, shown in the help.
    private static let defaults = TrainingConfig(model: ModelConfig(architecture: .cnn))

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Data set (default: fashion-mnist).") var dataset: DatasetChoice?
    @Option(help: "Folder with the data set's files (default: its standard location, or MINNOW_FASHION_MNIST_DIR / MINNOW_CIFAR10_DIR).")
    var dataDir: String?
    @Option(help: "Train on a seeded random subset of this many images.") var trainSubset: Int?
    @Option(help: "Epochs (default: \(defaults.epochs)).") var epochs: Int?
    @Option(help: "Images per batch (default: \(defaults.batchSize)).") var batchSize: Int?
    @Option(help: "Optimizer: sgd, adam, adamw (default: \(defaults.optimizer.rawValue)).") var optimizer: TrainingConfig.OptimizerKind?
    @Option(help: "Learning rate, the maximum for onecycle (default: \(defaults.learningRate)).") var lr: Float?
    @Option(help: "SGD momentum (default: \(defaults.momentum)).") var momentum: Float?
    @Flag(inversion: .prefixedNo, help: "Nesterov momentum (SGD; default: on).") var nesterov: Bool?
    @Option(help: "Weight decay, L2 for sgd/adam, decoupled for adamw (default: \(defaults.weightDecay)).") var weightDecay: Float?
    @Option(help: "Learning-rate schedule: constant, step, cosine, onecycle (default: \(defaults.schedule.rawValue)).")
    var schedule: TrainingConfig.ScheduleKind?
    @Option(help: "Linear warmup steps (cosine schedule; default: 0).") var warmupSteps: Int?
    @Option(help: "Step schedule: epochs between decays (default: \(defaults.stepEpochs)).") var stepEpochs: Int?
    @Option(help: "Step schedule: decay factor (default: \(defaults.stepGamma)).") var stepGamma: Float?
    @Option(help: "Clip the global gradient norm to this value.") var clipNorm: Float?
    @Option(help: "Label smoothing for the cross-entropy (default: 0).") var labelSmoothing: Float?
    @Option(help: "Augmentation: zero padding before a random crop (default: 0, off).") var cropPadding: Int?
    @Flag(help: "Augmentation: random horizontal flips.") var flip = false
    @Option(help: "Seed of data order, augmentation and dropout (default: 0).") var seed: UInt64?
    @Option(help: "Run folder (required unless --resume).") var out: String?
    @Option(help: "Continue the run in this folder (from its last.h5), or from this checkpoint in its folder.")
    var resume: String?
    @Option(help: "Write last.h5 every N epochs, and after the last (default: 1).") var checkpointEvery: Int?
    @Option(help: "Checkpoints to keep: 1 keeps last.h5 alone; K > 1 also keeps epoch-NNNN.h5 of the last K (default: 1).")
    var keepLast: Int?
    @Option(help: "Metric that picks best.h5: test_top1 or test_loss (default: test_top1).") var bestMetric: CheckpointPolicy.Metric?
    @Option(help: "Progress display: auto (a bar on a terminal, lines otherwise), bar, lines, none.")
    var progress: ProgressPrinter.Style = .auto

    /// The recipe options given on the command line: a resumed run keeps its saved recipe.
    private var recipeOptionsGiven: [String] {
        modelOptions.given + [
            ("--dataset", dataset != nil), ("--train-subset", trainSubset != nil), ("--epochs", epochs != nil),
            ("--batch-size", batchSize != nil), ("--optimizer", optimizer != nil), ("--lr", lr != nil),
            ("--momentum", momentum != nil), ("--[no-]nesterov", nesterov != nil), ("--weight-decay", weightDecay != nil),
            ("--schedule", schedule != nil), ("--warmup-steps", warmupSteps != nil), ("--step-epochs", stepEpochs != nil),
            ("--step-gamma", stepGamma != nil), ("--clip-norm", clipNorm != nil), ("--label-smoothing", labelSmoothing != nil),
            ("--crop-padding", cropPadding != nil), ("--flip", flip), ("--seed", seed != nil), ("--out", out != nil),
        ].filter(\.1).map(\.0)
    }

    func validate() throws {
        if resume != nil {
            let given = recipeOptionsGiven
            guard given.isEmpty else {
                throw ValidationError("--resume continues the run with its saved recipe and folder; remove \(given.joined(separator: ", "))")
            }
        } else {
            guard modelOptions.model != nil, out != nil else { throw ValidationError("--model and --out are required (or --resume RUN)") }
        }
    }

    func run() throws {
        do {
            let run = try resume.map(resumedRun) ?? newRun()
            print("\(run.manifest.training.model.architecture.rawValue): \(run.trainer.model.parameterCount) parameters; \(run.trainLoader.dataset.count) training images, \(run.trainLoader.batchesPerEpoch) steps per epoch")
            try run.start(observer: ProgressPrinter(style: progress))
            print("run folder: \(run.directory.path)")
        } catch let error as CustomStringConvertible & Error {
            throw CLIError(message: error.description)
        }
    }

    private func newRun() throws -> TrainingRun {
        var config = TrainingConfig(model: try modelOptions.config())
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
        return try TrainingRun(
            config: config, data: dataset ?? .fashionMNIST, dataDirectory: dataDir.map { URL(fileURLWithPath: $0) },
            trainSubset: trainSubset, augmentation: .init(cropPadding: cropPadding ?? 0, horizontalFlip: flip),
            checkpoints: checkpointPolicy(CheckpointPolicy()), directory: URL(fileURLWithPath: out!))
    }

    private func resumedRun(_ location: String) throws -> TrainingRun {
        let run = try TrainingRun.resume(from: URL(fileURLWithPath: location), dataDirectory: dataDir.map { URL(fileURLWithPath: $0) })
        try run.setCheckpointPolicy(checkpointPolicy(run.manifest.checkpoints))
        let epochs = run.manifest.training.epochs
        guard let (checkpoint, state) = run.resumedFrom else {
            print("\(run.directory.path) has no checkpoint yet: starting its recipe over")
            return run
        }
        print("resuming from \(checkpoint.path): epoch \(state.epoch) of \(epochs) done, step \(state.step)"
              + (state.epoch == epochs ? "; the run is complete" : ""))
        if state.threads != ThreadPoolInfo.threadCount {
            FileHandle.standardError.write(Data("warning: the checkpoint was written with \(state.threads) threads, this process uses \(ThreadPoolInfo.threadCount) (MINNOW_NUM_THREADS): the continuation will not be bit-identical to an uninterrupted run\n".utf8))
        }
        return run
    }

    /// `policy` with the checkpoint options given on the command line.
    private func checkpointPolicy(_ policy: CheckpointPolicy) -> CheckpointPolicy {
        var policy = policy
        policy.every = checkpointEvery ?? policy.every
        policy.keepLast = keepLast ?? policy.keepLast
        policy.bestMetric = bestMetric ?? policy.bestMetric
        return policy
    }
}

/// An error the CLI prints as `Error: <message>` before exiting with a non-zero status.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
