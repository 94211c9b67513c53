import MinnowTensor

/// Where a training run stands, for exact resume (docs/checkpoint-format.md, `/training`).
public struct TrainingState: Equatable, Sendable {
    /// Completed epochs.
    public var epoch: Int
    /// Optimizer steps taken in the whole run.
    public var step: Int
    /// Batches done in the current epoch (0 at an epoch boundary).
    public var batch: Int
    /// Threads used: bit-identical resume needs the same count.
    public var threads: Int
    /// The trainer's random generators by name (`data_order`, `augmentation`, ...).
    public var generators: [String: SeededGenerator]
    /// The complete training recipe as JSON (`/training/config`; `minnow train` stores its run
    /// manifest), so that the checkpoint alone can resume the run.
    public var recipe: String?

    public init(epoch: Int, step: Int, batch: Int = 0, threads: Int, generators: [String: SeededGenerator] = [:],
                recipe: String? = nil) {
        self.epoch = epoch
        self.step = step
        self.batch = batch
        self.threads = threads
        self.generators = generators
        self.recipe = recipe
    }
}

/// The best checkpoint of a run so far (docs/checkpoint-format.md, attributes of `/metrics/history`).
public struct BestMetric: Equatable, Sendable {
    /// The metric's name, e.g. `test_top1` or `test_loss`.
    public var name: String
    public var value: Float
    /// The epoch that reached it.
    public var epoch: Int

    public init(name: String, value: Float, epoch: Int) {
        self.name = name
        self.value = value
        self.epoch = epoch
    }
}

/// Where a checkpoint came from (docs/checkpoint-format.md, `/provenance`).
public struct Provenance: Equatable, Sendable {
    public var minnowVersion: String
    /// The command line, one argument per element.
    public var commandLine: [String]
    /// The data set's name, with `(random subset of N)` when the run trained on a subset.
    public var dataset: String
    /// Content fingerprints of the data the run used, by split (`train`, `test`): which copy of the
    /// data, not only its name (`Fingerprint.of(dataset:)`, 32 hex digits). Empty in checkpoints
    /// written before they were recorded.
    public var dataFingerprints: [String: String]
    public var seed: UInt64
    /// Creation time, ISO 8601 in UTC (`2026-01-31T12:00:00Z`).
    public var createdUTC: String

    public init(minnowVersion: String, commandLine: [String], dataset: String, dataFingerprints: [String: String] = [:],
                seed: UInt64, createdUTC: String) {
        self.minnowVersion = minnowVersion
        self.commandLine = commandLine
        self.dataset = dataset
        self.dataFingerprints = dataFingerprints
        self.seed = seed
        self.createdUTC = createdUTC
    }
}
