import MinnowData
import MinnowNN

/// Training images held out of training to choose on: `best.h5`, epochs, pruning events and
/// sweeps are selected on them, so the test set only reports.
///
/// The held-out images depend on `seed` alone, not on the training seed, so every run of a study
/// (a teacher, the students distilled from it, their controls, every training seed) holds out the
/// same images and none of them has trained on another's validation set. A train subset
/// (`--train-subset`) is drawn from the images that remain.
public struct ValidationSplit: ForwardCompatible, Sendable, Equatable {
    public static let requiredKeys: Set<String> = ["count"]
    /// The size experiments use by default: 5,000 images (1/12 of Fashion-MNIST's training set).
    public static let experimentDefault = 5_000

    /// Images held out.
    public var count: Int
    /// Seed of which images are held out.
    public var seed: UInt64

    public init(count: Int, seed: UInt64 = 0) {
        self.count = count
        self.seed = seed
    }

    /// Decodes a split; a missing seed is 0.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(count: try c.decode(Int.self, forKey: .count), seed: try c.decode(.seed, or: 0))
    }

    /// The training images that remain and the held-out ones. The count must leave at least one
    /// image to train on.
    public func split(_ train: Dataset) throws(TrainingError) -> (train: Dataset, validation: Dataset) {
        guard count > 0, count < train.count else {
            throw .invalidConfig("the validation split (--validation) must hold out 1...\(train.count - 1) of the \(train.count) training images, got \(count)")
        }
        let parts = train.holdOut(count: count, seed: seed)
        return (parts.rest, parts.heldOut)
    }
}

/// The images a finished model is evaluated on: the test split, or a validation split's held-out
/// training images.
public enum EvaluationSplit: String, Codable, Sendable, CaseIterable {
    case test, validation
}
