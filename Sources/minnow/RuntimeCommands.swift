import ArgumentParser
import Foundation
import MinnowBench
import MinnowData
import MinnowOptions
import MinnowRuntime
import MinnowTensor
import MinnowTraining
import MinnowWorkflows

struct Export: MinnowCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a quantized checkpoint to the int8 runtime's .mnw format, and check it.",
        usage: "minnow export <checkpoint> -o <model.mnw> [<options>]",
        discussion: """
            Lowers the checkpoint's quantized model (from minnow quantize --out or minnow qat) to \
            integer steps (batch norms folded, activations fused, per-channel weight scales, \
            QuantMath fixed-point multipliers), plans the activation arena, and writes the model \
            file (docs/runtime-format.md). Prints the file size, parameter bytes, arena bytes \
            (and the planner's lower bound) and MACs per inference, then runs the file in the \
            runtime on --check-images test images and compares its output codes with the \
            training side's integer evaluation (bit for bit) and its predictions with the fp32 \
            model's (top-1 agreement).

            Example:
              minnow export runs/kd-qat/best.h5 -o student.mnw
            """)

    @Argument(help: "A quantized Minnow checkpoint (.h5).") var checkpoint: String
    @Option(name: [.customShort("o"), .long], help: "The model file to write.") var output: String
    @OptionGroup var check: ExportOptions
    @Option(help: "Folder with the data set's files.") var dataDir: String?

    func execute() throws {
        let url = URL(fileURLWithPath: checkpoint)
        let start = try CheckpointStart(checkpoint: url, dataDirectory: dataDir.map { URL(fileURLWithPath: $0) }, allowQuantized: true)
        let result = try RuntimeWorkflow.export(start, checkpoint: url, to: URL(fileURLWithPath: output), checkImages: check.checkImages, kernels: check.kernels.choice)
        let export = result.export, (file, parameters) = (result.export.bytes.count, result.export.parameterBytes)
        print("\(output): \(file) bytes = parameters \(parameters) (weights \(export.weightBytes), biases \(export.biasBytes), per-channel multipliers and shifts \(parameters - export.weightBytes - export.biasBytes)) + header, tables, metadata and alignment \(file - parameters): \(format(Double(file) / Double(parameters), 3))x the parameters; arena \(export.arena.size) bytes (lower bound \(export.arena.lowerBound)); \(export.multiplyAccumulates) MACs per inference")
        let metadata = result.metadata
        print("stored for apps: input normalization mean \(metadata.mean) std \(metadata.std), \(metadata.classNames.count) class names")
        guard let check = result.verification else { return }
        print("check on \(check.images) test images (\(check.kernelLevel) kernels): runtime output codes equal to the integer evaluation's for \(check.equalOutputs) (bit-exact); top-1 agreement with the fp32 model \(percent(check.agreementWithFloat, check.images)); runtime top-1 \(percent(check.correct, check.images))")
    }
}

struct RunModel: MinnowCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an exported .mnw model in the int8 runtime: predictions and accuracy.",
        usage: "minnow run <model.mnw> [--split test] [--limit <n>]\n       minnow run <model.mnw> --input <npy> [--output <npy>]\n       minnow run <model.mnw> [--codes <npy>] [--logits <npy>]",
        discussion: """
            Loads the model file (every field checked), then classifies the images of a data set \
            split (with its labels: prints the accuracy) or of a .npy file of normalized float \
            images [N, H, W, C] (as minnow predict takes), one image at a time in integer \
            arithmetic. --output writes the predicted classes, --codes the output codes and \
            --logits the dequantized logits, scale * (code - zero point), as .npy files.
            """)

    @Argument(help: "A model file (.mnw).") var model: String
    @Option(help: "Data set: fashion-mnist (default), cifar10, arrays:PATH or images:DIR.") var dataset: DatasetChoice = .fashionMNIST
    @Option(help: "Split: train or test.") var split: Split = .test
    @Option(help: "Classify only the first N images.") var limit: Int?
    @Option(help: "Images, a .npy file of normalized images, instead of a data set.") var input: String?
    @Option(help: "Where to write the predicted classes (.npy).") var output: String?
    @Option(help: "Where to write the output codes, [N, classes] (.npy).") var codes: String?
    @Option(help: "Where to write the dequantized logits, [N, classes] (.npy).") var logits: String?
    @Option(help: "Folder with the data set's files.") var dataDir: String?
    @Option(help: "Kernels: fastest (what this CPU allows), avx-vnni, avx2 (x86-64), neon-i8mm, neon-dot, neon (AArch64) or reference.") var kernels: RuntimeKernels = .fastest
    @Flag(help: "With a data set: print the accuracy as one JSON object.") var json = false

    func validate() throws {
        try OptionCheck.within("--limit", limit, 1...OptionCheck.maximumImages)
    }

    func execute() throws {
        let (images, labels) = try self.images()
        let outputs = try RuntimeWorkflow.run(model: URL(fileURLWithPath: model), images: images, count: limit, kernels: kernels.choice)
        let predictions = outputs.classes
        if let labels {
            let correct = zip(predictions, labels).filter { $0 == $1 }.count
            if json {
                return try printJSON(["count": Double(predictions.count), "top1": Double(correct) / Double(max(predictions.count, 1))], pretty: false)
            }
            print("\(model): top-1 \(percent(correct, predictions.count)) on \(predictions.count) \(dataset.rawValue) \(split.rawValue) images (int8 runtime)")
        } else {
            print("\(model): classified \(predictions.count) images")
        }
        if let output {
            try NPY.write(Tensor(shape: [predictions.count], scalars: predictions.map(Float.init)), to: URL(fileURLWithPath: output))
        }
        let classes = outputs.codes.first?.count ?? 0
        if let codes {
            try NPY.write(Tensor(shape: [outputs.codes.count, classes], scalars: outputs.codes.flatMap { $0.map(Float.init) }),
                          to: URL(fileURLWithPath: codes))
        }
        if let logits {
            try NPY.write(Tensor(shape: [outputs.codes.count, classes], scalars: outputs.logits.flatMap { $0 }), to: URL(fileURLWithPath: logits))
        }
    }

    private func images() throws -> (Tensor, [Int]?) {
        if let input { return (try NPY.read(URL(fileURLWithPath: input)), nil) }
        let dataDirectory = dataDir.map { URL(fileURLWithPath: $0) }
        return try RuntimeWorkflow.labelledImages(dataset, split: split, first: limit, dataDirectory: dataDirectory)
    }
}
