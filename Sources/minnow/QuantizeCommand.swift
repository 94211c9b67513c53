import ArgumentParser
import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowNN
import MinnowQuantization
import MinnowTensor
import MinnowTraining

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Post-training quantization of a checkpoint to int8: accuracy and a per-layer report.",
        usage: "minnow quantize <checkpoint> [<options>]",
        discussion: """
            Calibrates the activation ranges of every value of the model's traced graph on \\
            --calibrate training images (a seeded random subset; no weight changes), quantizes the \\
            model (batch norms folded, ReLU/ReLU6 fused, int8 weights per output channel, int32 \\
            biases) and evaluates it in integer arithmetic, with the reference kernels of \\
            MinnowRuntime, on the first --test-images test images, beside the float model. Prints \\
            top-1 of both, their top-1 agreement, and for every rescaling layer its output's scale, \\
            zero point, calibrated range, SQNR against the float model, and how many output codes \\
            differ (by at most one step) from fake quantization of the same layer. See \\
            docs/quantization.md. Writing the int8 model (--out) comes with the int8 checkpoint layout.

            Example:
              minnow quantize runs/mbv2/best.h5 --calibrate 512 --test-images 1000
            """)

    @Argument(help: "A Minnow checkpoint (.h5).") var checkpoint: String
    @Option(help: "Training images to calibrate on.") var calibrate = 512
    @Option(help: "Test images to evaluate on (the first ones of the test split).") var testImages = 1000
    @Option(help: "Folder with the data set's files.") var dataDir: String?
    @Option(help: "Images per batch.") var batchSize = 128

    func validate() throws {
        try OptionCheck.atLeast("--calibrate", calibrate, 1)
        try OptionCheck.atLeast("--test-images", testImages, 1)
        try OptionCheck.atLeast("--batch-size", batchSize, 1)
    }

    func run() throws {
        do {
            let url = URL(fileURLWithPath: checkpoint)
            let (model, config) = try ModelCheckpoint.loadModel(from: url)
            let choice = try CheckpointEvaluation.trainedDataset(of: url, config: config)
            let directory = dataDir.map { URL(fileURLWithPath: $0) }
            let train = try choice.load(.train, directory: directory), test = try choice.load(.test, directory: directory)
            guard train.imageShape == config.inputShape, test.count > 0 else {
                throw CLIError(message: "\(checkpoint): the model takes \(config.inputShape) images; \(choice.rawValue) has \(train.imageShape)")
            }
            let calibrationImages = train.randomSubset(count: min(calibrate, train.count), seed: 0).images(normalization: choice.normalization)
            let testSet = test.subset(first: min(testImages, test.count))
            let images = testSet.images(normalization: choice.normalization)
            model.eval()
            let graph = try ModelGraph.trace(model, inputShape: config.inputShape)
            let tensors = graph.tensors(of: model)
            let calibration = try Calibration(graph: graph, tensors: tensors, batches: batches(calibrationImages))
            let integer = try IntegerModel(graph: graph, tensors: tensors, calibration: calibration)
            var floatTop1 = 0, integerTop1 = 0, agree = 0
            for (start, batch) in zip(stride(from: 0, to: testSet.count, by: batchSize), batches(images)) {
                let floatClasses = argmax(withoutGrad { model(batch) }), integerClasses = argmax(integer.logits(batch))
                for (offset, (f, q)) in zip(floatClasses, integerClasses).enumerated() {
                    let label = testSet.labels[start + offset]
                    floatTop1 += f == label ? 1 : 0
                    integerTop1 += q == label ? 1 : 0
                    agree += f == q ? 1 : 0
                }
            }
            let n = Double(testSet.count)
            print(String(format: "%@: %d calibration images, %d test images of %@", checkpoint, calibrationImages.shape[0], testSet.count, choice.rawValue))
            print(String(format: "top-1: fp32 %.2f%%, int8 (integer arithmetic) %.2f%%; top-1 agreement %.2f%%",
                         Double(floatTop1) / n * 100, Double(integerTop1) / n * 100, Double(agree) / n * 100))
            let reportImages = images.sliced(axis: 0, 0..<min(64, testSet.count))
            let agreement = Dictionary(uniqueKeysWithValues: integer.agreement(reportImages).map { ($0.output, $0) })
            let reports = try integer.layerReports(reportImages, tensors: tensors, calibration: calibration)
            let width = max(5, reports.map(\.module.count).max() ?? 0)
            func pad(_ text: String, _ count: Int) -> String { text + String(repeating: " ", count: max(0, count - text.count)) }
            print("\nper layer, on the first \(reportImages.shape[0]) test images (codes off by one: against fake quantization of the same layer)")
            print(pad("layer", width) + "  " + pad("kind", 17) + "     scale    zp  calibrated range       SQNR dB  codes off by one")
            for report in reports {
                let step = agreement[report.value]
                print(pad(report.module, width) + "  " + pad(report.kind, 17)
                      + String(format: "%10.6f %5d  [%8.3f, %8.3f]  %7.2f  %d of %d", report.parameters.scale, report.parameters.zeroPoint,
                               report.minimum, report.maximum, report.sqnr, step?.differing ?? 0, step?.count ?? 0))
            }
        } catch let error as CustomStringConvertible & Error {
            throw CLIError(message: error.description)
        }
    }

    private func batches(_ images: Tensor) -> [Tensor] {
        let count = images.shape[0]
        return stride(from: 0, to: count, by: batchSize).map { images.sliced(axis: 0, $0..<min(count, $0 + batchSize)) }
    }

    private func argmax(_ logits: Tensor) -> [Int] {
        let classes = logits.shape[1], values = logits.scalars
        return (0..<logits.shape[0]).map { row in (0..<classes).max { values[row * classes + $0] < values[row * classes + $1] }! }
    }
}
