import Foundation
import MinnowCheckpoint
import MinnowNN
import MinnowQuantization
import MinnowTensor
import MinnowTraining

/// Post-training quantization and quantization-aware training as library calls (`minnow quantize`
/// and `minnow qat` run these), and the report both write.
public enum QuantizationWorkflow {
    /// The checkpoint's float model quantized with `scheme`, its ranges calibrated on
    /// `calibrationImages` seeded random training images (no weight changes).
    public static func postTraining(_ start: CheckpointStart, scheme: QuantizationScheme, calibrationImages: Int) throws -> QuantizedModel {
        let quantized = try QuantizedModel(model: start.model, inputShape: start.config.inputShape, scheme: scheme)
        try quantized.calibrate(start.calibrationBatches(calibrationImages))
        return quantized
    }

    /// The QAT scheme of a run of `setup`: `method` and the weight bits, with the observers and the
    /// batch norms frozen after the given epochs (default: max(1, epochs - 1)) converted to steps.
    public static func qatScheme(method: QuantizationScheme.Method, weightBits: Int, layerWeightBits: [String: Int], freezeObserversEpoch: Double?,
                                 freezeBatchNormEpoch: Double?, setup: FineTuningSetup, trainImages: Int) throws -> QuantizationScheme {
        let defaultFreeze = Double(max(1, setup.config.epochs - 1))
        return QuantizationScheme(
            method: method, weightBits: weightBits, layerWeightBits: layerWeightBits,
            freezeObserversAfter: try setup.step(atEpoch: freezeObserversEpoch ?? defaultFreeze, trainImages: trainImages, option: "--freeze-observers-epoch"),
            freezeBatchNormAfter: try setup.step(atEpoch: freezeBatchNormEpoch ?? defaultFreeze, trainImages: trainImages, option: "--freeze-bn-epoch"))
    }

    /// Starts quantization-aware training of the checkpoint's float model: quantized with
    /// `scheme`, calibrated on `calibrationImages` training images, fine-tuned as `setup` says.
    public static func startQAT(_ start: CheckpointStart, scheme: QuantizationScheme, calibrationImages: Int, setup: FineTuningSetup) throws -> FineTuning {
        let quantized = try postTraining(start, scheme: scheme, calibrationImages: calibrationImages)
        return try FineTuning.start(model: quantized, setup: setup)
    }

    /// The quantized model of a finished QAT run and its data; an error when the run's model is not quantized.
    public static func finished(_ run: TrainingRun, dataDirectory: URL?) throws -> (QuantizedModel, CheckpointStart) {
        guard let quantized = run.trainer.model as? QuantizedModel else {
            throw WorkflowError("\(run.directory.path) is not a QAT run (its model is not quantized)")
        }
        return (quantized, try CheckpointStart(model: quantized.model, run: run, dataDirectory: dataDirectory))
    }
}

/// A quantized model evaluated three ways (fp32, fake quantization, integer arithmetic) on the
/// test split, with the integer model's per-layer table on the first 64 test images.
public struct QuantizationReport {
    public let evaluation: QuantizedEvaluation
    /// The summary and the per-layer table, as printed.
    public let text: String
    /// Each rescaling layer's output SQNR in dB against the float model, on the table's images.
    public let layerSQNR: [LayerSQNR]

    /// One layer's signal-to-quantization-noise ratio, as `quantization-layers.json` holds it.
    public struct LayerSQNR: Codable, Sendable {
        public var layer: String
        public var kind: String
        /// nil where the layer's codes equal the float values exactly (no noise: infinite SQNR).
        public var sqnrDecibels: Double?
    }

    public init(_ quantized: QuantizedModel, start: CheckpointStart, testImages: Int?) throws {
        let integer = try IntegerModel(quantized: quantized)
        evaluation = QuantizedEvaluation(quantized, integer: integer, batches: start.testBatches(limit: testImages), classes: start.config.classes)
        let reportImages = Tensor.concatenate(start.testBatches(limit: 64).map(\.images), axis: 0)
        let tensors = quantized.graph.tensors(of: quantized.model)
        let table = try integer.reportTable(reportImages, tensors: tensors)
        layerSQNR = try integer.layerReports(reportImages, tensors: tensors).map {
            LayerSQNR(layer: $0.module, kind: $0.kind.rawValue, sqnrDecibels: $0.sqnr.isFinite ? $0.sqnr : nil)
        }
        text = evaluation.summary + "\n\nper layer, on the first \(reportImages.shape[0]) test images:\n" + table
    }

    /// The headline numbers with `extra` (method, bits, ...), as quantization.json holds them.
    public func numbers(_ extra: [String: String]) -> [String: String] {
        let e = evaluation
        return extra.merging([
            "test_images": "\(e.count)", "fp32_top1": "\(e.float.top1)", "fake_quant_top1": "\(e.fakeQuantized.top1)",
            "int8_top1": "\(e.integer.top1)", "int8_agreement_with_fake_quant": "\(e.agreementWithFakeQuantized)",
            "int8_agreement_with_fp32": "\(e.agreementWithFloat)",
        ]) { $1 }
    }

    /// Writes quantization-report.txt, quantization.json (the numbers with `extra`) and
    /// quantization-layers.json (`layerSQNR`) into `folder`.
    public func write(to folder: URL, extra: [String: String]) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data((text + "\n").utf8).write(to: folder.appendingPathComponent("quantization-report.txt"), options: .atomic)
        try JSONFile.write(numbers(extra), to: folder.appendingPathComponent("quantization.json"))
        try JSONFile.write(layerSQNR, to: folder.appendingPathComponent("quantization-layers.json"))
    }
}
