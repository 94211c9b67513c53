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
        try Self.config(model: model, width: width, depth: depth, dropout: dropout, initSeed: initSeed)
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
        abstract: "Train a model from scratch on Fashion-MNIST or CIFAR-10.",
        discussion: """
            Writes the run folder given by --out: config.json (the full recipe and command line), metrics.jsonl
            (one JSON object per epoch: train loss/accuracy, test loss/top-1/top-5, images/s, wall time).
            The default recipe is the peers' reference: SGD with Nesterov momentum 0.9, weight decay 5e-4,
            one-cycle learning rate with maximum 0.1, batch 128, no augmentation.
            Example: minnow train --model mobilenet_v2 --width 0.5 --epochs 3 --out runs/mbv2
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var training: TrainingOptions

    func run() throws {
        let config = training.config(model: try modelOptions.config())
        do {
            try config.validate()
            let run = try TrainingRun(
                config: config, data: training.dataset, dataDirectory: training.dataDirectory, trainSubset: training.trainSubset,
                augmentation: training.augmentation, directory: training.outDirectory)
            print("\(modelOptions.model): \(run.trainer.model.parameterCount) parameters; \(run.trainLoader.dataset.count) training images, \(run.trainLoader.batchesPerEpoch) steps per epoch")
            try run.start(observer: ProgressPrinter(style: training.progress))
            print("run folder: \(training.out)")
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
