import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowModels
import MinnowNN
import MinnowQuantization
import MinnowTensor

/// A checkpoint's model evaluated on a data set's test split, or on held-out training images:
/// what `minnow eval` prints.
public struct CheckpointEvaluation: Sendable {
    /// Loss, top-1 and top-5 on the images evaluated.
    public let result: EvaluationResult
    /// The data set evaluated on.
    public let dataset: DatasetChoice
    /// `fp32` for a float model; `int8` for a quantized one, evaluated in integer arithmetic
    /// (`IntegerModel`: what the runtime computes), not by fake quantization.
    public let arithmetic: String
    /// Set when the test data are not those the run evaluated on (another copy of the files, or
    /// another data set): the numbers are then not comparable with the run's.
    public let note: String?

    /// Evaluates the model of `checkpoint` on `dataset` (default: the one its provenance names,
    /// else the one whose images fit the model): on the test split read from `dataDirectory`, or,
    /// with `validation`, on the training images that split holds out (`ValidationSplit`).
    public init(checkpoint url: URL, dataset: DatasetChoice? = nil, dataDirectory: URL? = nil, batchSize: Int = 256,
                validation: ValidationSplit? = nil) throws {
        let (model, config) = try ModelCheckpoint.loadModel(from: url)
        let choice = try dataset ?? Self.trainedDataset(of: url, config: config)
        let test = try validation.map { try $0.split(choice.load(.train, directory: dataDirectory)).validation }
            ?? choice.load(.test, directory: dataDirectory)
        guard test.imageShape == config.inputShape, test.classCount == config.classes else {
            throw TrainingError.mismatch("\(url.path): the model takes \(config.inputShape) images with \(config.classes) classes; \(choice.rawValue) has \(test.imageShape) and \(test.classCount)")
        }
        let normalization = try Self.recordedNormalization(of: url) ?? choice.normalization(directory: dataDirectory)
        let loader = DataLoader(dataset: test, batchSize: batchSize, normalization: normalization, shuffle: false)
        if let quantized = model as? any IntegerFormModel {
            let integer = try quantized.integerModel()
            result = evaluate(batches: loader.epoch(0), classes: config.classes) { integer.logits($0) }
            arithmetic = "int8"
        } else {
            result = evaluate(model, batches: loader.epoch(0), classes: config.classes)
            arithmetic = "fp32"
        }
        self.dataset = choice
        note = validation == nil ? try Self.differentTestData(test, checkpoint: url) : nil
    }

    /// The validation split the run that wrote `checkpoint` held out, nil when it had none (or the
    /// checkpoint records no run: a post-training quantization's).
    public static func recordedValidation(of url: URL) throws -> ValidationSplit? {
        let file = try ModelCheckpoint.open(url)
        guard file.exists("/training/config") else { return nil }
        let manifest = try JSONDecoder().decode(TrainingRun.Manifest.self, from: Data(try file.readString("/training/config").utf8))
        return manifest.validation
    }

    /// The input normalization the checkpoint's model was trained with, nil when it records none.
    public static func recordedNormalization(of url: URL) throws -> Normalization? {
        guard let recorded = try ModelCheckpoint.readDescription(ModelCheckpoint.open(url))?.normalization,
              recorded.mean.count == recorded.std.count, !recorded.mean.isEmpty, recorded.std.allSatisfy({ $0 > 0 }) else { return nil }
        return Normalization(mean: recorded.mean, std: recorded.std)
    }

    /// The data set named in the checkpoint's provenance (as `--dataset` writes it, before any
    /// note in parentheses), else the built-in one whose images fit the model.
    public static func trainedDataset(of url: URL, config: ModelConfig) throws -> DatasetChoice {
        let file = try ModelCheckpoint.open(url)
        if let provenance = try? ModelCheckpoint.loadProvenance(from: file) {
            let named = provenance.dataset.components(separatedBy: " (").first ?? provenance.dataset
            if let choice = DatasetChoice(rawValue: named) ?? DatasetChoice.presets.first(where: { provenance.dataset.hasPrefix($0.rawValue) }) {
                return choice
            }
        }
        guard let choice = DatasetChoice.presets.first(where: { $0.imageShape == config.inputShape }) else {
            throw TrainingError.mismatch("\(url.path): no data set has \(config.inputShape) images; pass --dataset")
        }
        return choice
    }

    /// A note when the checkpoint recorded other test data than `test`; nil when they are the same
    /// or the checkpoint recorded none.
    static func differentTestData(_ test: Dataset, checkpoint url: URL) throws -> String? {
        let file = try ModelCheckpoint.open(url)
        guard file.exists("/provenance"),
              let recorded = try ModelCheckpoint.loadProvenance(from: file).dataFingerprints["test"] else { return nil }
        let current = Fingerprint.of(dataset: test).hex
        guard recorded != current else { return nil }
        return "these test data (\(test.name), fingerprint \(current)) are not those the run evaluated on (fingerprint \(recorded)): the numbers are not comparable with the run's"
    }
}

/// A checkpoint's model run on images: what `minnow predict` writes.
public enum CheckpointPrediction {
    /// The evaluation-mode logits `[N, classes]` of the model of `checkpoint` for `images`
    /// (`[N, H, W, C]`, or `[N, H, W]` for one channel; normalized as in training), `batchSize`
    /// images per forward pass.
    public static func logits(checkpoint url: URL, images: Tensor, batchSize: Int = 256) throws -> Tensor {
        let (model, config) = try ModelCheckpoint.loadModel(from: url)
        var images = images
        if images.rank == 3, config.inputShape.last == 1 { images = images.reshaped(images.shape + [1]) }
        guard images.rank == 4, images.shape[0] > 0, Array(images.shape.dropFirst()) == config.inputShape, batchSize > 0 else {
            throw TrainingError.mismatch("images of shape \(images.shape) do not fit the model of \(url.path), which takes [N] + \(config.inputShape) with N > 0")
        }
        model.eval()
        let count = images.shape[0]
        return withoutGrad {
            Tensor.concatenate(stride(from: 0, to: count, by: batchSize).map { start in
                model(images.sliced(axis: 0, start..<min(count, start + batchSize)))
            }, axis: 0)
        }
    }
}
