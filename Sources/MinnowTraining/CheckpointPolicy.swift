import MinnowNN

/// When a training run writes checkpoints, how many it keeps, and what makes one the best
/// (docs/checkpoint-format.md, "Run folders"). Saved in the run's manifest, so a resumed run keeps it.
public struct CheckpointPolicy: ForwardCompatible, Sendable, Equatable {
    public static let requiredKeys: Set<String> = []
    /// The metrics that can choose `best.h5`.
    public enum Metric: String, Codable, Sendable, CaseIterable {
        /// Validation top-1 accuracy (the held-out training images), higher is better.
        case validationTop1 = "val_top1"
        /// Validation loss, lower is better.
        case validationLoss = "val_loss"
        /// Test top-1 accuracy, higher is better: chooses on the numbers it reports (a run without
        /// a validation split has nothing else).
        case testTop1 = "test_top1"
        /// Test loss, lower is better.
        case testLoss = "test_loss"

        /// The default for a run with or without a validation split: `val_top1`, else `test_top1`.
        public static func defaultMetric(validation: Bool) -> Metric { validation ? .validationTop1 : .testTop1 }

        /// Whether the metric reads the validation set.
        public var needsValidation: Bool { self == .validationTop1 || self == .validationLoss }

        /// The metric's value in `record`, nil when the epoch was not evaluated.
        public func value(of record: EpochRecord) -> Double? {
            switch self {
            case .validationTop1: record.validation?.top1
            case .validationLoss: record.validation?.loss
            case .testTop1: record.test?.top1
            case .testLoss: record.test?.loss
            }
        }

        /// Whether `value` beats `best` (any value beats nil).
        public func improves(_ value: Double, on best: Double?) -> Bool {
            guard let best else { return true }
            return self == .testTop1 || self == .validationTop1 ? value > best : value < best
        }
    }

    /// Write `last.h5` after every `every`-th epoch, and after the final epoch.
    public var every: Int
    /// Checkpoints kept: 1 keeps `last.h5` alone; K > 1 also names each checkpoint
    /// `epoch-NNNN.h5` (a hard link to the same file) and keeps the newest K of those.
    public var keepLast: Int
    /// The metric that chooses `best.h5`, checked after every epoch.
    public var bestMetric: Metric

    public init(every: Int = 1, keepLast: Int = 1, bestMetric: Metric = .testTop1) {
        self.every = every
        self.keepLast = keepLast
        self.bestMetric = bestMetric
    }

    /// Decodes a policy; a field missing from an older file takes its default (`init()`'s).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
        self.init(every: try c.decode(.every, or: d.every), keepLast: try c.decode(.keepLast, or: d.keepLast), bestMetric: try c.decode(.bestMetric, or: d.bestMetric))
    }

    /// Checks the counts; the error names the setting and the value.
    public func validate() throws(TrainingError) {
        guard every > 0 else { throw .invalidConfig("checkpoint interval must be at least 1 epoch, got \(every)") }
        guard keepLast > 0 else { throw .invalidConfig("checkpoints to keep must be at least 1, got \(keepLast)") }
    }

    /// Whether a checkpoint is written after `epoch` of a run of `epochs`.
    public func writesCheckpoint(afterEpoch epoch: Int, of epochs: Int) -> Bool {
        epoch % every == 0 || epoch == epochs
    }
}
