import ArgumentParser
import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowDistillation
import MinnowModels
import MinnowNN
import MinnowQuantization
import MinnowTensor
import MinnowTraining

extension QuantizationScheme.Method: ExpressibleByArgument {}

/// The options of `quantize` and `qat` that say how to quantize.
struct QuantizationOptions: ParsableArguments {
    @Option(help: "Training images to calibrate the activation ranges on (a seeded random subset).") var calibrate = 512
    @Option(help: "Weight bits of every layer: 8 or 4.") var weightBits = 8
    @Option(help: ArgumentHelp("Weight bits of one layer, as module.path=bits (mixed precision); repeatable.", valueName: "path=bits"))
    var layerBits: [String] = []

    func validate() throws {
        try OptionCheck.atLeast("--calibrate", calibrate, 1)
        try OptionCheck.check("--weight-bits", weightBits, "8 or 4") { $0 == 8 || $0 == 4 }
        _ = try layerWeightBits()
    }

    /// `--layer-bits` as a dictionary.
    func layerWeightBits() throws -> [String: Int] {
        var result: [String: Int] = [:]
        for entry in layerBits {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let bits = Int(parts[1]), bits == 8 || bits == 4, !parts[0].isEmpty else {
                throw ValidationError("--layer-bits must be module.path=8 or module.path=4, got '\(entry)'")
            }
            result[parts[0]] = bits
        }
        return result
    }
}

/// Hinton KD from a float teacher during fine-tuning: the options `qat` and `prune` share.
struct TeacherOptions: ParsableArguments {
    @Option(help: "A float teacher checkpoint: distill from it while fine-tuning (Hinton KD).") var teacher: String?
    @Option(help: "KD softmax temperature (with --teacher).") var temperature: Float = 4
    @Option(help: "KD weight of the soft-target term, in [0, 1] (with --teacher).") var alpha: Float = 0.9

    func validate() throws {
        try OptionCheck.positive("--temperature", temperature)
        try OptionCheck.fraction("--alpha", alpha, includingUpper: true)
    }

    /// The distillation settings of `--temperature` and `--alpha`.
    var settings: DistillationSettings { DistillationSettings(loss: .kd, temperature: temperature, alpha: alpha) }
}

/// A float checkpoint with its data: what `quantize` and `qat` start from.
struct QuantizationStart {
    let model: any Layer
    let config: ModelConfig
    let data: DatasetChoice
    let train: Dataset, test: Dataset

    /// A float checkpoint (or, with `allowQuantized`, a quantization-aware one too) and its data.
    init(checkpoint: String, dataDirectory: URL?, allowQuantized: Bool = false) throws {
        let url = URL(fileURLWithPath: checkpoint)
        (model, config) = try ModelCheckpoint.loadModel(from: url)
        guard allowQuantized || !(model is QuantizedModel) else {
            throw CLIError(message: "\(checkpoint) already holds a quantized model; start from a float checkpoint")
        }
        data = try CheckpointEvaluation.trainedDataset(of: url, config: config)
        (train, test) = (try data.load(.train, directory: dataDirectory), try data.load(.test, directory: dataDirectory))
        guard train.imageShape == config.inputShape, train.classCount == config.classes else {
            throw CLIError(message: "\(checkpoint): the model takes \(config.inputShape) images of \(config.classes) classes; \(data.rawValue) has \(train.imageShape) and \(train.classCount)")
        }
    }

    /// The data of a training run whose model is `model` (a resumed or finished QAT run).
    init(model: any Layer, run: TrainingRun, dataDirectory: URL?) throws {
        self.model = model
        config = run.manifest.training.model
        data = run.manifest.dataset
        (train, test) = (try data.load(.train, directory: dataDirectory), try data.load(.test, directory: dataDirectory))
    }

    /// `count` seeded random training images, normalized, in batches of `batchSize`.
    func calibrationBatches(_ count: Int, batchSize: Int = 128) -> [Tensor] {
        let images = train.randomSubset(count: min(count, train.count), seed: 0).images(normalization: data.normalization)
        let n = images.shape[0]
        return stride(from: 0, to: n, by: batchSize).map { images.sliced(axis: 0, $0..<min(n, $0 + batchSize)) }
    }

    /// The test split's batches (the first `limit` images when given).
    func testBatches(limit: Int? = nil, batchSize: Int = 256) -> [Batch] {
        let set = limit.map { test.subset(first: min($0, test.count)) } ?? test
        return Array(DataLoader(dataset: set, batchSize: batchSize, normalization: data.normalization, shuffle: false).epoch(0))
    }
}

/// Prints the evaluation and the per-layer report of `quantized`, and writes both (with the
/// numbers as JSON) into `folder` when given.
func reportQuantization(_ quantized: QuantizedModel, start: QuantizationStart, testImages: Int?, folder: URL?, extra: [String: String] = [:]) throws {
    let integer = try IntegerModel(quantized: quantized)
    let evaluation = QuantizedEvaluation(quantized, integer: integer, batches: start.testBatches(limit: testImages), classes: start.config.classes)
    let reportImages = Tensor.concatenate(start.testBatches(limit: 64).map(\.images), axis: 0)
    let table = try integer.reportTable(reportImages, tensors: quantized.graph.tensors(of: quantized.model))
    let text = evaluation.summary + "\n\nper layer, on the first \(reportImages.shape[0]) test images:\n" + table
    print(text)
    guard let folder else { return }
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try Data((text + "\n").utf8).write(to: folder.appendingPathComponent("quantization-report.txt"), options: .atomic)
    var numbers: [String: String] = extra
    numbers["test_images"] = "\(evaluation.count)"
    numbers["fp32_top1"] = "\(evaluation.float.top1)"
    numbers["fake_quant_top1"] = "\(evaluation.fakeQuantized.top1)"
    numbers["int8_top1"] = "\(evaluation.integer.top1)"
    numbers["int8_agreement_with_fake_quant"] = "\(evaluation.agreementWithFakeQuantized)"
    numbers["int8_agreement_with_fp32"] = "\(evaluation.agreementWithFloat)"
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(numbers).write(to: folder.appendingPathComponent("quantization.json"), options: .atomic)
}
