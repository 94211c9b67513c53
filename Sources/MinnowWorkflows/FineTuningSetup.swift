import Foundation
import MinnowData
import MinnowDistillation
import MinnowTraining

/// Everything a fine-tuning run needs besides its model: the recipe, the optional teacher, the
/// data and the run folder (what `qat` and `prune` take from their command line).
public struct FineTuningSetup {
    public var config: TrainingConfig
    /// A float teacher to distill from (Hinton KD with `distillation`), or nil.
    public var teacher: URL?
    public var distillation: DistillationSettings
    public var data: DatasetChoice
    public var dataDirectory: URL?
    public var trainSubset: Int?
    /// Training images held out to choose on (nil: none).
    public var validation: ValidationSplit?
    public var augmentation: TrainingRun.AugmentationSettings
    public var checkpoints: CheckpointPolicy
    public var directory: URL

    public init(config: TrainingConfig, teacher: URL? = nil, distillation: DistillationSettings = DistillationSettings(), data: DatasetChoice,
                dataDirectory: URL?, trainSubset: Int? = nil, validation: ValidationSplit? = nil, augmentation: TrainingRun.AugmentationSettings = .init(),
                checkpoints: CheckpointPolicy = CheckpointPolicy(), directory: URL) {
        (self.config, self.teacher, self.distillation, self.data, self.dataDirectory) = (config, teacher, distillation, data, dataDirectory)
        (self.trainSubset, self.augmentation, self.checkpoints, self.directory) = (trainSubset, augmentation, checkpoints, directory)
        self.validation = validation
    }

    /// Optimizer steps per epoch on a training split of `trainImages` images (less the validation
    /// split; the subset's size when `trainSubset` is set; the last partial batch is dropped).
    public func stepsPerEpoch(trainImages: Int) -> Int {
        let pool = max(trainImages - (validation?.count ?? 0), 0)
        return (trainSubset.map { min($0, pool) } ?? pool) / config.batchSize
    }

    /// The run's optimizer steps in all.
    public func totalSteps(trainImages: Int) -> Int {
        stepsPerEpoch(trainImages: trainImages).multipliedReportingOverflow(by: config.epochs).partialValue
    }

    /// The training step at `epochs` epochs (rounded), at most `totalSteps + 1` (past the run's
    /// end), so no number of epochs overflows; `option` names it in the error for a value that is
    /// negative or not finite.
    public func step(atEpoch epochs: Double, trainImages: Int, option: String) throws -> Int {
        guard epochs >= 0, epochs.isFinite else { throw WorkflowError("\(option) must be a finite number of epochs >= 0, got \(epochs)") }
        let total = totalSteps(trainImages: trainImages)
        return Int(min((epochs * Double(stepsPerEpoch(trainImages: trainImages))).rounded(), Double(total) + 1))
    }
}
