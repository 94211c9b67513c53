import ArgumentParser
import Foundation
import MinnowData
import MinnowQuantization
import MinnowRuntime
import MinnowTensor
import MinnowTraining

struct Export: ParsableCommand {
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
    @Option(help: "Test images to check the exported model on (0: no check).") var checkImages = 1000
    @Option(help: "Kernels the check runs: fastest, avx-vnni, avx2 or reference.") var kernels: RuntimeKernels = .fastest
    @Option(help: "Folder with the data set's files.") var dataDir: String?

    func validate() throws {
        try OptionCheck.atLeast("--check-images", checkImages, 0)
    }

    func run() throws {
        do {
            let start = try QuantizationStart(checkpoint: checkpoint, dataDirectory: dataDir.map { URL(fileURLWithPath: $0) }, allowQuantized: true)
            guard let quantized = start.model as? QuantizedModel else {
                throw CLIError(message: "\(checkpoint) holds a float model: quantize it first (minnow quantize --out, or minnow qat)")
            }
            let integer = try IntegerModel(quantized: quantized)
            let export = integer.exportForRuntime()
            try Data(export.bytes).write(to: URL(fileURLWithPath: output), options: .atomic)
            let (file, parameters) = (export.bytes.count, export.parameterBytes)
            print("\(output): \(file) bytes = parameters \(parameters) (weights \(export.weightBytes), biases \(export.biasBytes), per-channel multipliers and shifts \(parameters - export.weightBytes - export.biasBytes)) + header, tables and alignment \(file - parameters): \(format(Double(file) / Double(parameters), 3))x the parameters; arena \(export.arena.size) bytes (lower bound \(export.arena.lowerBound)); \(export.multiplyAccumulates) MACs per inference")
            guard checkImages > 0 else { return }
            let check = try ExportVerification.verify(export.bytes, integer: integer, float: quantized.model, batches: start.testBatches(limit: checkImages),
                                                      kernels: kernels.choice)
            print("check on \(check.images) test images (\(check.kernelLevel) kernels): runtime output codes equal to the integer evaluation's for \(check.equalOutputs) (\(check.isBitExact ? "bit-exact" : "MISMATCH")); top-1 agreement with the fp32 model \(percent(check.agreementWithFloat, check.images)); runtime top-1 \(percent(check.correct, check.images))")
            guard check.isBitExact else { throw CLIError(message: "the exported model differs from the integer evaluation on \(check.images - check.equalOutputs) images") }
        } catch let error as CLIError {
            throw error
        } catch let error as CustomStringConvertible & Error {
            throw CLIError(message: error.description)
        }
    }
}

struct RunModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an exported .mnw model in the int8 runtime: predictions and accuracy.",
        usage: "minnow run <model.mnw> [--split test] [--limit <n>]\n       minnow run <model.mnw> --input <npy> [--output <npy>]",
        discussion: """
            Loads the model file (every field checked), then classifies the images of a data set \
            split (with its labels: prints the accuracy) or of a .npy file of normalized float \
            images [N, H, W, C] (as minnow predict takes; --output writes the predicted classes \
            as a .npy file), one image at a time in integer arithmetic.
            """)

    @Argument(help: "A model file (.mnw).") var model: String
    @Option(help: "Data set (default: fashion-mnist).") var dataset: DatasetChoice = .fashionMNIST
    @Option(help: "Split: train or test.") var split: String = "test"
    @Option(help: "Classify only the first N images.") var limit: Int?
    @Option(help: "Images, a .npy file of normalized images, instead of a data set.") var input: String?
    @Option(help: "Where to write the predicted classes (.npy).") var output: String?
    @Option(help: "Folder with the data set's files.") var dataDir: String?
    @Option(help: "Kernels: fastest (what this CPU allows), avx-vnni, avx2 or reference.") var kernels: RuntimeKernels = .fastest

    func validate() throws {
        try OptionCheck.atLeast("--limit", limit, 1)
        guard split == "test" || split == "train" else { throw ValidationError("--split must be train or test, got \(split)") }
    }

    func run() throws {
        do {
            let url = URL(fileURLWithPath: model)
            let data: Data
            do {
                data = try Data(contentsOf: url, options: .alwaysMapped)
            } catch {
                throw CLIError(message: "\(model): cannot read: \(error.localizedDescription)")
            }
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let loaded: RuntimeModel
                do {
                    loaded = try RuntimeModel(bytes: raw)
                } catch {
                    throw CLIError(message: "\(model): \(error)")
                }
                let interpreter = try Interpreter(model: loaded, kernels: kernels.choice)
                let (images, labels) = try self.images()
                let count = min(limit ?? images.shape[0], images.shape[0])
                let size = images.count / max(images.shape[0], 1), values = images.scalars
                guard size == interpreter.input.count else {
                    throw CLIError(message: "the model takes \(interpreter.input.count) values per image, the images have \(size)")
                }
                var predictions: [Int] = []
                for n in 0..<count {
                    Self.run(interpreter, values[(n * size)..<((n + 1) * size)])
                    predictions.append(interpreter.argmax)
                }
                if let labels {
                    let correct = zip(predictions, labels).filter { $0 == $1 }.count
                    print("\(model): top-1 \(percent(correct, count)) on \(count) \(dataset.rawValue) \(split) images (int8 runtime)")
                } else {
                    print("\(model): classified \(count) images")
                }
                if let output {
                    try NPY.write(Tensor(shape: [count], scalars: predictions.map(Float.init)), to: URL(fileURLWithPath: output))
                }
            }
        } catch let error as CLIError {
            throw error
        } catch let error as CustomStringConvertible & Error {
            throw CLIError(message: error.description)
        }
    }

    private func images() throws -> (Tensor, [Int]?) {
        if let input { return (try NPY.read(URL(fileURLWithPath: input)), nil) }
        let set = try dataset.load(split == "test" ? .test : .train, directory: dataDir.map { URL(fileURLWithPath: $0) })
        let subset = limit.map { set.subset(first: min($0, set.count)) } ?? set
        return (subset.images(normalization: dataset.normalization), subset.labels)
    }

    /// Quantizes one normalized image into the interpreter's input and runs it.
    static func run(_ interpreter: Interpreter, _ image: ArraySlice<Float>) {
        interpreter.setInput(image)
        interpreter.invoke()
    }
}

func percent(_ count: Int, _ total: Int) -> String { String(format: "%.2f%%", 100 * Double(count) / Double(max(total, 1))) }

/// `--kernels` of the runtime commands.
enum RuntimeKernels: String, ExpressibleByArgument, CaseIterable {
    case fastest
    case avxVNNI = "avx-vnni"
    case avx2, reference

    var choice: KernelChoice {
        switch self {
        case .fastest: .fastest
        case .avxVNNI: .avxVNNI
        case .avx2: .avx2
        case .reference: .reference
        }
    }
}
