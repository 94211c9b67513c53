import Foundation
import MinnowData
import MinnowQuantization
import MinnowRuntime
import MinnowTensor
import MinnowTraining
import QuantMath

/// Export to the int8 runtime and inference with it, as library calls (`minnow export` and
/// `minnow run`).
public enum RuntimeWorkflow {
    /// An exported model and, when checked, its verification.
    public struct Exported {
        public let export: RuntimeExport
        public let verification: ExportVerification?
        /// The input normalization and class names the file stores.
        public let metadata: ModelMetadata
    }

    /// Lowers the quantized model of `start` (from `checkpoint`) to a .mnw file at `output`. The
    /// file is loaded by the runtime (every field checked) and, with `checkImages` > 0, run on that
    /// many test images against the integer evaluation before it is written: a file that fails
    /// either is never written, and `output` may not be the checkpoint itself.
    public static func export(_ start: CheckpointStart, checkpoint: URL, to output: URL, checkImages: Int, kernels: KernelChoice) throws -> Exported {
        guard !sameFile(checkpoint, output) else {
            throw WorkflowError("\(output.path): the output is the checkpoint itself; give another path")
        }
        guard let quantized = start.model as? QuantizedModel else {
            throw WorkflowError("\(checkpoint.path) holds a float model: quantize it first (minnow quantize --out, or minnow qat)")
        }
        let integer = try IntegerModel(quantized: quantized)
        // The file carries what an app needs to feed it raw pixels and name its outputs.
        let names = (try? start.data.classNames()).flatMap { $0 } ?? []
        let metadata = ModelMetadata(mean: start.normalization.mean, std: start.normalization.std,
                                     classNames: names.count == integer.graph.valueShapes[integer.graph.output].reduce(1, *) ? names : [])
        let export = try integer.exportForRuntime(metadata: metadata)
        do {
            _ = try export.bytes.withUnsafeBytes { try RuntimeModel(bytes: $0) }
        } catch {
            throw WorkflowError("\(checkpoint.path): the exported model does not load in the runtime (\(error)); nothing written")
        }
        var verification: ExportVerification?
        if checkImages > 0 {
            let check = try ExportVerification.verify(export.bytes, integer: integer, float: quantized.model,
                                                      batches: start.testBatches(limit: checkImages), kernels: kernels)
            guard check.isBitExact else {
                throw WorkflowError("the exported model differs from the integer evaluation on \(check.images - check.equalOutputs) of \(check.images) images; nothing written")
            }
            verification = check
        }
        try Data(export.bytes).write(to: output, options: .atomic)
        return Exported(export: export, verification: verification, metadata: metadata)
    }

    /// Whether `a` and `b` name the same existing file (also through links).
    static func sameFile(_ a: URL, _ b: URL) -> Bool {
        guard let x = try? FileManager.default.attributesOfItem(atPath: a.path), let y = try? FileManager.default.attributesOfItem(atPath: b.path) else {
            return false
        }
        return (x[.systemNumber] as? Int) == (y[.systemNumber] as? Int) && (x[.systemFileNumber] as? Int) == (y[.systemFileNumber] as? Int)
    }

    /// What the runtime gives for a batch of images: the output codes of each image, the
    /// output's quantization parameters, and the predicted classes (the largest code's index).
    public struct RuntimeOutputs {
        /// `[images][classes]` output codes.
        public var codes: [[Int8]]
        public var parameters: QuantizationParameters
        public var classes: [Int]

        /// The dequantized logits `scale · (code − zero point)`, `[images][classes]`.
        public var logits: [[Float]] { codes.map { $0.map { parameters.scale * Float(Int32($0) - parameters.zeroPoint) } } }
    }

    /// The predicted class of each of the first `count` images of `images` (normalized floats,
    /// [N, H, W, C], or [N, H, W] for one channel) by the model file at `model`, one at a time.
    /// The images' shape must be the model's input shape.
    public static func classify(model: URL, images: Tensor, count: Int? = nil, kernels: KernelChoice) throws -> [Int] {
        try run(model: model, images: images, count: count, kernels: kernels).classes
    }

    /// The output codes, their parameters and the classes of the first `count` images of `images`
    /// (as `classify` takes them) by the model file at `model`, one image at a time.
    public static func run(model: URL, images: Tensor, count: Int? = nil, kernels: KernelChoice) throws -> RuntimeOutputs {
        let data: Data
        do {
            data = try Data(contentsOf: model, options: .alwaysMapped)
        } catch {
            throw WorkflowError("\(model.path): cannot read: \(error.localizedDescription)")
        }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let loaded: RuntimeModel
            do {
                loaded = try RuntimeModel(bytes: raw)
            } catch {
                throw WorkflowError("\(model.path): \(error)")
            }
            let interpreter = try Interpreter(model: loaded, kernels: kernels)
            let expected = loaded.tensors[loaded.input].shape
            let perImage = Array(images.shape.dropFirst())
            guard images.shape.count >= 2, perImage == expected || (expected.last == 1 && perImage == Array(expected.dropLast())) else {
                throw WorkflowError("the model takes images of shape [N, \(expected.map(String.init).joined(separator: ", "))], the input has \(images.shape)")
            }
            let n = min(count ?? images.shape[0], images.shape[0]), size = interpreter.input.count, values = images.scalars
            var outputs = RuntimeOutputs(codes: [], parameters: interpreter.outputParameters, classes: [])
            for index in 0..<n {
                interpreter.setInput(values[(index * size)..<((index + 1) * size)])
                interpreter.invoke()
                outputs.codes.append(Array(interpreter.output))
                outputs.classes.append(interpreter.argmax)
            }
            return outputs
        }
    }

    /// The first `limit` images (all without it) of a data set's split, normalized as in
    /// training, with their labels: what `classify` takes to measure accuracy.
    public static func labelledImages(_ dataset: DatasetChoice, split: Split, first limit: Int?, dataDirectory: URL?) throws -> (images: Tensor, labels: [Int]) {
        let set = try dataset.load(split, directory: dataDirectory)
        let subset = limit.map { set.subset(first: min($0, set.count)) } ?? set
        return (subset.images(normalization: try dataset.normalization(directory: dataDirectory)), subset.labels)
    }
}
