import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowNN
import MinnowTensor

/// A training run with its run folder: data, trainer, per-epoch evaluation, `metrics.jsonl`,
/// `config.json`, and HDF5 checkpoints `last.h5` (after every epoch) and `best.h5` (best test top-1).
///
/// ```swift
/// let config = TrainingConfig(model: ModelConfig.preset("student_mbv2")!, epochs: 3)
/// let run = try TrainingRun(config: config, data: .fashionMNIST, directory: URL(fileURLWithPath: "runs/mbv2"))
/// let history = try run.start(observer: ProgressPrinter(style: .auto))
/// print(history.last!.test!.top1)
/// ```
public final class TrainingRun {
    /// What is saved as `config.json`: the recipe and where its data came from.
    public struct Manifest: Codable, Sendable {
        public var training: TrainingConfig
        public var dataset: DatasetChoice
        public var trainSubset: Int?
        public var augmentation: AugmentationSettings
        public var commandLine: [String]
    }

    /// Augmentation switches, saved with the run.
    public struct AugmentationSettings: Codable, Sendable, Equatable {
        public var cropPadding: Int
        public var horizontalFlip: Bool
        public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
            self.cropPadding = cropPadding
            self.horizontalFlip = horizontalFlip
        }
    }

    public let manifest: Manifest
    public let directory: URL
    public let trainer: Trainer
    public let trainLoader: DataLoader
    public let testLoader: DataLoader

    /// Loads the data and builds the model; the model's input shape and class count follow the data set.
    public init(config: TrainingConfig, data: DatasetChoice, dataDirectory: URL? = nil, trainSubset: Int? = nil,
                augmentation: AugmentationSettings = AugmentationSettings(), directory: URL,
                commandLine: [String] = CommandLine.arguments) throws {
        var config = config
        let (fullTrain, test) = try data.load(directory: dataDirectory)
        config.model.inputShape = fullTrain.imageShape
        config.model.classes = fullTrain.classCount
        let train = try trainSubset.map { n throws(TrainingError) in
            guard n > 0, n <= fullTrain.count else {
                throw TrainingError.invalidConfig("train subset must be in 1...\(fullTrain.count), got \(n)")
            }
            return fullTrain.randomSubset(count: n, seed: config.seed)
        } ?? fullTrain
        manifest = Manifest(training: config, dataset: data, trainSubset: trainSubset, augmentation: augmentation,
                            commandLine: commandLine)
        self.directory = directory
        trainer = try Trainer(config: config)
        trainLoader = DataLoader(dataset: train, batchSize: config.batchSize, normalization: data.normalization,
                                 shuffle: true, seed: config.seed, dropLast: true,
                                 augmentation: Augmentation(cropPadding: augmentation.cropPadding,
                                                            horizontalFlip: augmentation.horizontalFlip))
        testLoader = DataLoader(dataset: test, batchSize: 256, normalization: data.normalization, shuffle: false)
        guard trainLoader.batchesPerEpoch > 0 else {
            throw TrainingError.invalidConfig("batch size \(config.batchSize) is larger than the \(train.count) training images")
        }
    }

    /// Trains the remaining epochs, evaluating after each, appending to `metrics.jsonl`.
    @discardableResult
    public func start(observer: TrainingObserver?) throws -> [EpochRecord] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: directory.appendingPathComponent("config.json"), options: .atomic)
        let log = try JSONLinesWriter(url: directory.appendingPathComponent("metrics.jsonl"))
        var lastCheckpoint: String?
        var bestTop1 = trainer.history.compactMap { $0.test?.top1 }.max() ?? -1
        while trainer.completedEpochs < manifest.training.epochs {
            let epoch = trainLoader.epoch(trainer.completedEpochs)
            let record = try trainer.trainEpoch(batches: epoch, steps: trainLoader.batchesPerEpoch,
                                                testBatches: testLoader.epoch(0), observer: observer,
                                                lastCheckpoint: lastCheckpoint)
            try log.write(record)
            lastCheckpoint = try saveCheckpoint(named: "last.h5").path
            if let top1 = record.test?.top1, top1 > bestTop1 {
                bestTop1 = top1
                try saveCheckpoint(named: "best.h5")
            }
        }
        return trainer.history
    }

    /// Writes the model, optimizer, training position, metrics and provenance to `name` in the run folder, atomically.
    @discardableResult
    public func saveCheckpoint(named name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let history = String(decoding: try encoder.encode(trainer.history), as: UTF8.self)
        let state = TrainingState(epoch: trainer.completedEpochs, step: trainer.globalStep,
                                  threads: ThreadPoolInfo.threadCount)
        let provenance = Provenance(
            minnowVersion: MinnowVersion.current, commandLine: manifest.commandLine,
            dataset: manifest.dataset.rawValue + (manifest.trainSubset.map { " (random subset of \($0))" } ?? ""),
            seed: manifest.training.seed, createdUTC: ISO8601DateFormatter().string(from: Date()))
        try ModelCheckpoint.save(trainer.model, config: manifest.training.model, to: url, optimizer: trainer.optimizer,
                                 training: state, metricsHistoryJSON: history, provenance: provenance,
                                 auxiliary: trainer.auxiliaryModules)
        return url
    }
}
