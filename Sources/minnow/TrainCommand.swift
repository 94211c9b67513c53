import ArgumentParser
import Foundation
import MinnowModels
import MinnowTraining

extension TrainingConfig.OptimizerKind: ExpressibleByArgument {}
extension TrainingConfig.ScheduleKind: ExpressibleByArgument {}
extension DatasetChoice: ExpressibleByArgument {}
extension ProgressPrinter.Style: ExpressibleByArgument {}

/// Model choice shared by the commands that build a model.
struct ModelOptions: ParsableArguments {
    @Option(help: "A preset (\(ModelConfig.presetNames.joined(separator: ", "))) or an architecture (\(ModelConfig.Architecture.allCases.map(\.rawValue).joined(separator: ", "))).")
    var model: String

    @Option(help: "Width multiplier for an architecture (presets fix their own).")
    var width: Float?

    @Option(help: "ResNet depth, 6n+2 (8, 14, 20, ...).")
    var depth: Int?

    @Option(help: "Dropout before the classifier (MobileNets, SqueezeNet).")
    var dropout: Float?

    @Option(help: "Seed of the weight initialization.")
    var initSeed: UInt64 = 0

    func config() throws -> ModelConfig {
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
        abstract: "Train a model from scratch on Fashion-MNIST or CIFAR-10.",
        discussion: """
            Writes the run folder given by --out: config.json (the full recipe and command line), metrics.jsonl
            (one JSON object per epoch: train loss/accuracy, test loss/top-1/top-5, images/s, wall time).
            The default recipe is the peers' reference: SGD with Nesterov momentum 0.9, weight decay 5e-4,
            one-cycle learning rate with maximum 0.1, batch 128, no augmentation.
            Example: minnow train --model mobilenet_v2 --width 0.5 --epochs 3 --out runs/mbv2
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Data set.") var dataset: DatasetChoice = .fashionMNIST
    @Option(help: "Folder with the data set's files (default: its standard location, or MINNOW_FASHION_MNIST_DIR / MINNOW_CIFAR10_DIR).")
    var dataDir: String?
    @Option(help: "Train on a seeded random subset of this many images.") var trainSubset: Int?
    @Option(help: "Epochs.") var epochs = 3
    @Option(help: "Images per batch.") var batchSize = 128
    @Option(help: "Optimizer: sgd, adam, adamw.") var optimizer: TrainingConfig.OptimizerKind = .sgd
    @Option(help: "Learning rate (the maximum for onecycle).") var lr: Float = 0.1
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Flag(inversion: .prefixedNo, help: "Nesterov momentum (SGD).") var nesterov = true
    @Option(help: "Weight decay (L2 for sgd/adam, decoupled for adamw).") var weightDecay: Float = 5e-4
    @Option(help: "Learning-rate schedule: constant, step, cosine, onecycle.") var schedule: TrainingConfig.ScheduleKind = .onecycle
    @Option(help: "Linear warmup steps (cosine schedule).") var warmupSteps = 0
    @Option(help: "Step schedule: epochs between decays.") var stepEpochs = 1
    @Option(help: "Step schedule: decay factor.") var stepGamma: Float = 0.1
    @Option(help: "Clip the global gradient norm to this value.") var clipNorm: Float?
    @Option(help: "Label smoothing for the cross-entropy.") var labelSmoothing: Float = 0
    @Option(help: "Augmentation: zero padding before a random crop (0: off).") var cropPadding = 0
    @Flag(help: "Augmentation: random horizontal flips.") var flip = false
    @Option(help: "Seed of data order, augmentation and dropout.") var seed: UInt64 = 0
    @Option(help: "Run folder.") var out: String
    @Option(help: "Progress display: auto (a bar on a terminal, lines otherwise), bar, lines, none.")
    var progress: ProgressPrinter.Style = .auto

    func run() throws {
        let config = TrainingConfig(
            model: try modelOptions.config(), epochs: epochs, batchSize: batchSize, optimizer: optimizer, learningRate: lr,
            momentum: momentum, nesterov: nesterov && optimizer == .sgd, weightDecay: weightDecay, schedule: schedule,
            warmupSteps: warmupSteps, stepEpochs: stepEpochs, stepGamma: stepGamma, clipNorm: clipNorm,
            labelSmoothing: labelSmoothing, seed: seed)
        do {
            try config.validate()
            let run = try TrainingRun(
                config: config, data: dataset, dataDirectory: dataDir.map { URL(fileURLWithPath: $0) }, trainSubset: trainSubset,
                augmentation: .init(cropPadding: cropPadding, horizontalFlip: flip), directory: URL(fileURLWithPath: out))
            print("\(modelOptions.model): \(run.trainer.model.parameterCount) parameters; \(run.trainLoader.dataset.count) training images, \(run.trainLoader.batchesPerEpoch) steps per epoch")
            try run.start(observer: ProgressPrinter(style: progress))
            print("run folder: \(out)")
        } catch let error as CustomStringConvertible & Error {
            throw CLIError(message: error.description)
        }
    }
}

/// An error the CLI prints as `Error: <message>` before exiting with a non-zero status.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
