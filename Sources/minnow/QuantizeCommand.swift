import ArgumentParser
import Foundation
import MinnowCheckpoint
import MinnowNN
import MinnowOptions
import MinnowQuantization
import MinnowWorkflows

struct Quantize: MinnowCommand {
    static let configuration = CommandConfiguration(
        abstract: "Post-training quantization of a checkpoint to int8: accuracy and a per-layer report.",
        usage: "minnow quantize <checkpoint> [<options>]",
        discussion: """
            Calibrates the activation ranges of every value of the model's traced graph on \
            --calibrate training images (a seeded random subset; no weight changes), quantizes the \
            model (batch norms folded, ReLU/ReLU6 fused, int8 or int4 weights per output channel, \
            int32 biases) and evaluates it on the first --test-images test images three ways: the \
            float model, fake quantization, and integer arithmetic with the reference kernels of \
            MinnowRuntime (the accuracy of the deployed model). Prints the three top-1 accuracies, \
            the integer model's top-1 agreement with the other two, and for every rescaling layer \
            its output's scale, zero point, range, SQNR against the float model, and how many \
            output codes differ (by at most one step) from fake quantization of the same layer.

            --out DIR writes DIR/quantized.h5 (a checkpoint of the quantized model: minnow eval \
            evaluates it in integer arithmetic, minnow qat can start from its float weights' \
            checkpoint instead), DIR/quantization-report.txt and DIR/quantization.json. See \
            docs/quantization.md.

            Example:
              minnow quantize runs/mbv2/best.h5 --calibrate 512 --out runs/mbv2-ptq
            """)

    @Argument(help: "A Minnow checkpoint (.h5) of a float model.") var checkpoint: String
    @OptionGroup var quantization: QuantizationOptions
    @Option(help: "Test images to evaluate on (the first ones of the test split; default: all).") var testImages: Int?
    @Option(help: "Folder with the data set's files.") var dataDir: String?
    @Option(help: "Folder to write the quantized checkpoint and the report to.") var out: String?

    func validate() throws {
        try OptionCheck.within("--test-images", testImages, 1...OptionCheck.maximumImages)
    }

    func execute() throws {
        let start = try CheckpointStart(checkpoint: URL(fileURLWithPath: checkpoint), dataDirectory: dataDir.map { URL(fileURLWithPath: $0) })
        let scheme = QuantizationScheme(weightBits: quantization.weightBits, layerWeightBits: try quantization.layerWeightBits())
        let quantized = try QuantizationWorkflow.postTraining(start, scheme: scheme, calibrationImages: quantization.calibrate)
        print("\(checkpoint): post-training quantization, \(quantization.calibrate) calibration images of \(start.data.rawValue)")
        let report = try QuantizationReport(quantized, start: start, testImages: testImages)
        print(report.text)
        guard let out else { return }
        let folder = URL(fileURLWithPath: out), file = folder.appendingPathComponent("quantized.h5")
        try report.write(to: folder, extra: ["method": "ptq", "weight_bits": "\(quantization.weightBits)", "checkpoint": checkpoint,
                                             "calibration_images": "\(quantization.calibrate)"])
        try ModelCheckpoint.save(quantized, config: start.config, to: file, provenance: start.provenance(),
                                 normalization: InputNormalization(mean: start.normalization.mean, std: start.normalization.std))
        print("quantized checkpoint: \(file.path)")
    }
}
