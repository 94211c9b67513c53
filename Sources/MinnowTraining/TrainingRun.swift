import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowNN
import MinnowTensor

/// A training run with its run folder (`RunFolder`): data, trainer, per-epoch evaluation,
/// `metrics.jsonl`, `config.json`, and HDF5 checkpoints as its `CheckpointPolicy` says: `last.h5`
/// (every N epochs), `epoch-NNNN.h5` (the last K) and `best.h5` (best by a chosen metric).
///
/// ```swift
/// let config = TrainingConfig(model: ModelConfig.preset("student_mbv2")!, epochs: 3)
/// let run = try TrainingRun(config: config, data: .fashionMNIST, directory: URL(fileURLWithPath: "runs/mbv2"))
/// let history = try run.start(observer: ProgressPrinter(style: .auto))
/// print(history.last!.test!.top1)
/// // After a crash: continue exactly where the last checkpoint left off.
/// try TrainingRun.resume(from: URL(fileURLWithPath: "runs/mbv2")).start(observer: nil)
/// ```
public final class TrainingRun {
    /// What is saved as `config.json` and in every checkpoint (`/training/config`): the recipe,
    /// where its data came from, and the checkpoint policy.
    public struct Manifest: ForwardCompatible, Sendable {
        public static let requiredKeys: Set<String> = ["training", "dataset"]
        public var training: TrainingConfig
        public var dataset: DatasetChoice
        public var trainSubset: Int?
        /// Training images held out to choose on (nil: none; older files).
        public var validation: ValidationSplit?
        /// The input normalization the run uses (nil in older files: the data set's published one).
        public var normalization: Normalization?
        public var augmentation: AugmentationSettings
        public var commandLine: [String]
        public var checkpoints: CheckpointPolicy
        /// The objective when it is not the default cross-entropy: the `name` of its
        /// `ObjectiveDeclaration`, whose settings file is in the run folder. Such a run resumes
        /// only through the code that knows its objective.
        public var objective: String?

        public init(training: TrainingConfig, dataset: DatasetChoice, trainSubset: Int? = nil, validation: ValidationSplit? = nil,
                    normalization: Normalization? = nil, augmentation: AugmentationSettings = AugmentationSettings(), commandLine: [String] = [],
                    checkpoints: CheckpointPolicy = CheckpointPolicy(), objective: String? = nil) {
            self.training = training
            self.dataset = dataset
            self.trainSubset = trainSubset
            self.validation = validation
            self.normalization = normalization
            self.augmentation = augmentation
            self.commandLine = commandLine
            self.checkpoints = checkpoints
            self.objective = objective
        }

        /// Decodes a manifest; a field missing from an older file takes its default (no subset, no
        /// validation split, no augmentation, no command line, the default checkpoint policy, cross-entropy).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(training: try c.decode(TrainingConfig.self, forKey: .training), dataset: try c.decode(DatasetChoice.self, forKey: .dataset),
                      trainSubset: try c.decode(.trainSubset, or: nil), validation: try c.decode(.validation, or: nil),
                      normalization: try c.decode(.normalization, or: nil), augmentation: try c.decode(.augmentation, or: AugmentationSettings()),
                      commandLine: try c.decode(.commandLine, or: []), checkpoints: try c.decode(.checkpoints, or: CheckpointPolicy()),
                      objective: try c.decode(.objective, or: nil))
        }

        /// Checks every value a run reads from the manifest (the recipe, the subset size, the
        /// augmentation, the checkpoint policy), so a damaged or hand-edited `config.json` is an
        /// error before anything is built.
        public func validate() throws(TrainingError) {
            try training.validate()
            try augmentation.validate(imageShape: training.model.inputShape)
            try checkpoints.validate()
            if let trainSubset, trainSubset <= 0 {
                throw .invalidConfig("train subset must be positive, got \(trainSubset)")
            }
            if let validation, validation.count <= 0 {
                throw .invalidConfig("the validation split (--validation) must hold out at least one image, got \(validation.count)")
            }
            if checkpoints.bestMetric.needsValidation, validation == nil {
                throw .invalidConfig("best.h5 is chosen by \(checkpoints.bestMetric.rawValue), which needs a validation split (--validation N)")
            }
        }
    }

    /// Augmentation switches, saved with the run.
    public struct AugmentationSettings: ForwardCompatible, Sendable, Equatable {
        public static let requiredKeys: Set<String> = []
        public var cropPadding: Int
        /// Random erasing probability (0: off).
        public var randomErasing: Double
        public var horizontalFlip: Bool
        public init(cropPadding: Int = 0, horizontalFlip: Bool = false, randomErasing: Double = 0) {
            self.cropPadding = cropPadding
            self.randomErasing = randomErasing
            self.horizontalFlip = horizontalFlip
        }

        /// Decodes settings; a field missing from an older file is off.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(cropPadding: try c.decode(.cropPadding, or: 0), horizontalFlip: try c.decode(.horizontalFlip, or: false),
                      randomErasing: try c.decode(.randomErasing, or: 0))
        }

        /// Checks the settings for images of `imageShape` ([H, W, C]): the crop padding is in
        /// `0...min(H, W)`.
        public func validate(imageShape: [Int]) throws(TrainingError) {
            let limit = imageShape.prefix(2).min() ?? 0
            guard (0...limit).contains(cropPadding) else {
                throw .invalidConfig("crop padding must be in 0...\(limit) for \(imageShape) images, got \(cropPadding)")
            }
            guard (0...1).contains(randomErasing) else {
                throw .invalidConfig("random erasing probability must be in [0, 1], got \(randomErasing)")
            }
        }
    }

    public private(set) var manifest: Manifest
    public let directory: URL
    /// The input normalization of every batch: the manifest's, else the data set's.
    public let normalization: Normalization
    public let trainer: Trainer
    public let trainLoader: DataLoader
    public let testLoader: DataLoader
    /// The held-out validation images, when the run has a validation split.
    public let validationLoader: DataLoader?
    /// The checkpoint this run was resumed from and what it recorded, if it was resumed.
    public internal(set) var resumedFrom: (checkpoint: URL, state: TrainingState)?
    /// The run's files.
    public var folder: RunFolder { RunFolder(directory) }
    /// Content fingerprints of the training data (the subset, when the run uses one) and the test
    /// data, recorded in every checkpoint's provenance and checked on resume.
    public private(set) lazy var dataFingerprints: [String: String] = {
        var prints = ["train": Fingerprint.of(dataset: trainLoader.dataset).hex, "test": Fingerprint.of(dataset: testLoader.dataset).hex]
        if let validationLoader { prints["validation"] = Fingerprint.of(dataset: validationLoader.dataset).hex }
        return prints
    }()

    /// Loads the data and builds the model (or takes `model`, built for the recipe's model config:
    /// an edited or quantized one); the model's input shape and class count follow the data set.
    public convenience init(config: TrainingConfig, data: DatasetChoice, dataDirectory: URL? = nil, trainSubset: Int? = nil,
                            validation: ValidationSplit? = nil, augmentation: AugmentationSettings = AugmentationSettings(),
                            checkpoints: CheckpointPolicy = CheckpointPolicy(), objective: String? = nil, directory: URL,
                            model: (any Layer)? = nil, commandLine: [String] = CommandLine.arguments) throws {
        var config = config
        let splits = try data.load(directory: dataDirectory)
        config.model.inputShape = splits.train.imageShape
        config.model.classes = splits.train.classCount
        try self.init(manifest: Manifest(training: config, dataset: data, trainSubset: trainSubset, validation: validation,
                                         normalization: data.normalization(train: splits.train), augmentation: augmentation,
                                         commandLine: commandLine, checkpoints: checkpoints, objective: objective),
                      splits: splits, directory: directory, model: model)
    }

    /// A run of a saved recipe (a resumed run's), with a freshly built model: `model` when given (a
    /// model rebuilt from a checkpoint's description, edited or not), else the recipe's zoo model.
    public convenience init(manifest: Manifest, dataDirectory: URL? = nil, directory: URL, model: (any Layer)? = nil) throws {
        let splits = try manifest.dataset.load(directory: dataDirectory)
        let recipe = manifest.training.model
        guard splits.train.imageShape == recipe.inputShape, splits.train.classCount == recipe.classes else {
            throw TrainingError.invalidConfig("the recipe's model takes \(recipe.inputShape) images of \(recipe.classes) classes; the \(manifest.dataset.rawValue) files have \(splits.train.imageShape) and \(splits.train.classCount)")
        }
        try self.init(manifest: manifest, splits: splits, directory: directory, model: model)
    }

    private init(manifest: Manifest, splits: (train: Dataset, test: Dataset), directory: URL, model: (any Layer)? = nil) throws {
        let config = manifest.training
        try manifest.validate()
        let held = try manifest.validation.map { split throws(TrainingError) in try split.split(splits.train) }
        let pool = held?.train ?? splits.train
        let train = try manifest.trainSubset.map { n throws(TrainingError) in
            guard n > 0, n <= pool.count else {
                throw TrainingError.invalidConfig("train subset must be in 1...\(pool.count), got \(n)")
            }
            return pool.randomSubset(count: n, seed: config.seed)
        } ?? pool
        self.manifest = manifest
        self.directory = directory
        let normalization = manifest.normalization ?? manifest.dataset.normalization(train: splits.train)
        guard normalization.mean.count == train.imageShape[2] else {
            throw TrainingError.invalidConfig("the recorded normalization has \(normalization.mean.count) channels; the images have \(train.imageShape[2])")
        }
        self.normalization = normalization
        trainer = try Trainer(config: config, model: model)
        trainLoader = DataLoader(dataset: train, batchSize: config.batchSize, normalization: normalization,
                                 shuffle: true, seed: config.seed, dropLast: true,
                                 augmentation: Augmentation(cropPadding: manifest.augmentation.cropPadding,
                                                            horizontalFlip: manifest.augmentation.horizontalFlip,
                                                            erasingProbability: manifest.augmentation.randomErasing))
        testLoader = DataLoader(dataset: splits.test, batchSize: 256, normalization: normalization, shuffle: false)
        validationLoader = held.map {
            DataLoader(dataset: $0.validation, batchSize: 256, normalization: normalization, shuffle: false)
        }
        guard trainLoader.batchesPerEpoch > 0 else {
            throw TrainingError.invalidConfig("batch size \(config.batchSize) is larger than the \(train.count) training images")
        }
    }

    /// Changes where and how often checkpoints are written (it does not change the numbers).
    public func setCheckpointPolicy(_ policy: CheckpointPolicy) throws(TrainingError) {
        var changed = manifest
        changed.checkpoints = policy
        try changed.validate()
        manifest = changed
    }

    /// Trains the remaining epochs, evaluating after each. `metrics.jsonl` is rewritten with the
    /// history so far (empty for a new run, the checkpoint's for a resumed one), then appended to;
    /// checkpoints follow the policy. Stale temporary files of killed writers are removed first.
    @discardableResult
    public func start(observer: TrainingObserver?) throws -> [EpochRecord] {
        let folder = folder, policy = manifest.checkpoints, epochs = manifest.training.epochs
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        folder.removeStaleTemporaries()
        try JSONFile.write(manifest, to: folder.config)
        try JSONLinesWriter.rewrite(folder.metrics, with: trainer.history)
        try folder.pruneEpochCheckpoints(after: trainer.completedEpochs, keep: policy.keepLast)
        let log = try JSONLinesWriter(url: folder.metrics)
        var lastCheckpoint = resumedFrom?.checkpoint.path
        var best = try bestSoFar()
        while trainer.completedEpochs < epochs {
            let record = try trainer.trainEpoch(batches: trainLoader.epoch(trainer.completedEpochs),
                                                steps: trainLoader.batchesPerEpoch, validationBatches: validationLoader?.epoch(0),
                                                testBatches: testLoader.epoch(0),
                                                observer: observer, lastCheckpoint: lastCheckpoint)
            try log.write(record)
            let value = policy.bestMetric.value(of: record)
            let improved = value.map { policy.bestMetric.improves($0, on: best.map { Double($0.value) }) } ?? false
            if improved, let value { best = BestMetric(name: policy.bestMetric.rawValue, value: Float(value), epoch: record.epoch) }
            // best.h5 before last.h5: a run killed between the two resumes from the previous
            // last.h5 and writes this epoch's best.h5 again; the other order would lose it.
            if improved { try saveCheckpoint(to: folder.best, best: best) }
            if policy.writesCheckpoint(afterEpoch: record.epoch, of: epochs) {
                lastCheckpoint = try saveCheckpoint(to: folder.last, best: best).path
                if policy.keepLast > 1 {
                    try folder.linkLast(asEpoch: record.epoch)
                    try folder.pruneEpochCheckpoints(after: record.epoch, keep: policy.keepLast)
                }
            }
        }
        return trainer.history
    }

    /// The best metric to beat: the one `best.h5` records when it uses this run's metric, else the
    /// best of the history so far.
    private func bestSoFar() throws -> BestMetric? {
        let metric = manifest.checkpoints.bestMetric
        if resumedFrom != nil, let file = try? ModelCheckpoint.open(folder.best),
           let best = (try? ModelCheckpoint.bestMetric(in: file)) ?? nil, best.name == metric.rawValue {
            return best
        }
        var best: BestMetric?
        for record in trainer.history {
            if let value = metric.value(of: record), metric.improves(value, on: best.map { Double($0.value) }) {
                best = BestMetric(name: metric.rawValue, value: Float(value), epoch: record.epoch)
            }
        }
        return best
    }

    /// Writes the model, optimizer, training position and recipe, metrics and provenance to `url`, atomically.
    @discardableResult
    public func saveCheckpoint(to url: URL, best: BestMetric? = nil) throws -> URL {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let history = String(decoding: try encoder.encode(trainer.history), as: UTF8.self)
        let state = TrainingState(epoch: trainer.completedEpochs, step: trainer.globalStep,
                                  threads: Threads.count,
                                  recipe: String(decoding: try encoder.encode(manifest), as: UTF8.self))
        let provenance = Provenance(
            minnowVersion: MinnowVersion.current, commandLine: manifest.commandLine,
            dataset: manifest.dataset.rawValue + (manifest.validation.map { " (\($0.count) held out for validation, seed \($0.seed))" } ?? "")
                + (manifest.trainSubset.map { " (random subset of \($0))" } ?? ""),
            dataFingerprints: dataFingerprints, seed: manifest.training.seed, createdUTC: ISO8601DateFormatter().string(from: Date()))
        try ModelCheckpoint.save(trainer.model, config: manifest.training.model, to: url, optimizer: trainer.optimizer,
                                 training: state, metricsHistoryJSON: history, best: best, provenance: provenance,
                                 auxiliary: trainer.auxiliaryModules,
                                 normalization: InputNormalization(mean: normalization.mean, std: normalization.std))
        return url
    }
}
