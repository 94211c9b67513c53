import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowModels
import MinnowNN
import MinnowQuantization
import MinnowTensor
import MinnowTraining

/// Why a workflow cannot go on, naming the file or the option at fault.
public struct WorkflowError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A checkpoint with the data set it was trained on: what quantization, pruning, sensitivity
/// analysis and export start from.
public struct CheckpointStart {
    public let model: any Layer
    public let config: ModelConfig
    public let data: DatasetChoice
    public let train: Dataset, test: Dataset
    /// The input normalization of the model: the checkpoint's (or run's) record, else the data set's.
    public let normalization: Normalization
    /// The validation split the checkpoint's run held out (nil: none recorded): calibration and
    /// importance images are drawn from the rest, so nothing a run chooses on shaped the model.
    public let heldOut: ValidationSplit?

    /// The model of `checkpoint` (a float one; with `allowQuantized`, a quantized one too) and both
    /// splits of its data set, which must fit the model's input shape and classes.
    public init(checkpoint: URL, dataDirectory: URL?, allowQuantized: Bool = false) throws {
        (model, config) = try ModelCheckpoint.loadModel(from: checkpoint)
        guard allowQuantized || !(model is QuantizedModel) else {
            throw WorkflowError("\(checkpoint.path) already holds a quantized model; start from a float checkpoint")
        }
        data = try CheckpointEvaluation.trainedDataset(of: checkpoint, config: config)
        heldOut = try CheckpointEvaluation.recordedValidation(of: checkpoint)
        (train, test) = (try data.load(.train, directory: dataDirectory), try data.load(.test, directory: dataDirectory))
        normalization = try CheckpointEvaluation.recordedNormalization(of: checkpoint) ?? data.normalization(train: train)
        guard train.imageShape == config.inputShape, train.classCount == config.classes else {
            throw WorkflowError("\(checkpoint.path): the model takes \(config.inputShape) images of \(config.classes) classes; \(data.rawValue) has \(train.imageShape) and \(train.classCount)")
        }
    }

    /// The data of a training run whose model is `model` (a resumed or finished run).
    public init(model: any Layer, run: TrainingRun, dataDirectory: URL?) throws {
        self.model = model
        config = run.manifest.training.model
        data = run.manifest.dataset
        heldOut = run.manifest.validation
        (train, test) = (try data.load(.train, directory: dataDirectory), try data.load(.test, directory: dataDirectory))
        normalization = run.normalization
    }

    /// The provenance of a model made from this start without training (a post-training
    /// quantization's): its data set, as runs write it, and the fingerprints of both splits, so
    /// later commands find the data set again.
    public func provenance(commandLine: [String] = CommandLine.arguments) -> Provenance {
        Provenance(minnowVersion: MinnowVersion.current, commandLine: commandLine,
                   dataset: data.rawValue + (heldOut.map { " (\($0.count) held out for validation, seed \($0.seed))" } ?? ""),
                   dataFingerprints: ["train": Fingerprint.of(dataset: train).hex, "test": Fingerprint.of(dataset: test).hex],
                   seed: 0, createdUTC: ISO8601DateFormatter().string(from: Date()))
    }

    /// The training images the run did not hold out.
    public var trainingPool: Dataset { heldOut.flatMap { try? $0.split(train).train } ?? train }

    /// `count` seeded random training images (of `trainingPool`), normalized, in batches of `batchSize`.
    public func calibrationBatches(_ count: Int, batchSize: Int = 128) -> [Tensor] {
        let pool = trainingPool
        let images = pool.randomSubset(count: min(count, pool.count), seed: 0).images(normalization: normalization)
        let n = images.shape[0]
        return stride(from: 0, to: n, by: batchSize).map { images.sliced(axis: 0, $0..<min(n, $0 + batchSize)) }
    }

    /// The test split's batches (the first `limit` images when given).
    public func testBatches(limit: Int? = nil, batchSize: Int = 256) -> [Batch] {
        let set = limit.map { test.subset(first: min($0, test.count)) } ?? test
        return Array(DataLoader(dataset: set, batchSize: batchSize, normalization: normalization, shuffle: false).epoch(0))
    }

    /// The batches of the images the run held out for validation (the first `limit` when given);
    /// nil when it held none out.
    public func validationBatches(limit: Int? = nil, batchSize: Int = 256) throws -> [Batch]? {
        guard let heldOut else { return nil }
        let validation = try heldOut.split(train).validation
        let set = limit.map { validation.subset(first: min($0, validation.count)) } ?? validation
        return Array(DataLoader(dataset: set, batchSize: batchSize, normalization: normalization, shuffle: false).epoch(0))
    }

    /// `batches` seeded, shuffled training batches of 128 of `trainingPool` (the taylor criterion's importance data).
    public func importanceBatches(_ batches: Int) -> [Batch] {
        Array(DataLoader(dataset: trainingPool, batchSize: 128, normalization: normalization, shuffle: true, seed: 0x7a7, prefetchDepth: 0)
            .epoch(0).prefix(batches))
    }
}
