import ArgumentParser
import Foundation
import MinnowModels
import MinnowTraining

/// The data and recipe options shared by `train` and `distill`.
struct TrainingOptions: ParsableArguments {
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

    /// The recipe for `model`.
    func config(model: ModelConfig) -> TrainingConfig {
        TrainingConfig(
            model: model, epochs: epochs, batchSize: batchSize, optimizer: optimizer, learningRate: lr,
            momentum: momentum, nesterov: nesterov && optimizer == .sgd, weightDecay: weightDecay, schedule: schedule,
            warmupSteps: warmupSteps, stepEpochs: stepEpochs, stepGamma: stepGamma, clipNorm: clipNorm,
            labelSmoothing: labelSmoothing, seed: seed)
    }

    var augmentation: TrainingRun.AugmentationSettings { .init(cropPadding: cropPadding, horizontalFlip: flip) }
    var dataDirectory: URL? { dataDir.map { URL(fileURLWithPath: $0) } }
    var outDirectory: URL { URL(fileURLWithPath: out) }
}
