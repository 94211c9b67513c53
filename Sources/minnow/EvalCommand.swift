import ArgumentParser
import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowDistillation
import MinnowHDF5
import MinnowModels
import MinnowNN
import MinnowOptions
import MinnowTraining
import MinnowWorkflows

struct Eval: MinnowCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint on a data set's test split: loss, top-1 and top-5 accuracy.",
        usage: "minnow eval <checkpoint> [<options>]",
        discussion: """
            A quantized checkpoint (from minnow quantize or minnow qat) is evaluated in integer \
            arithmetic, with the int8 kernels the runtime runs: the accuracy of the deployed model.

            Example:
              minnow eval runs/mbv2/best.h5
            """)

    @Argument(help: "A Minnow checkpoint (.h5), e.g. runs/NAME/best.h5.") var checkpoint: String
    @Option(help: "Data set (default: the one the checkpoint was trained on).") var dataset: DatasetChoice?
    @Option(help: "Folder with the data set's files.") var dataDir: String?
    @Option(help: "Images per batch.") var batchSize = 256
    @Flag(help: "Print the result as one JSON object.") var json = false

    func validate() throws {
        try OptionCheck.within("--batch-size", batchSize, 1...OptionCheck.maximumBatch)
    }

    func execute() throws {
        let evaluation = try CheckpointEvaluation(checkpoint: URL(fileURLWithPath: checkpoint), dataset: dataset,
                                                  dataDirectory: dataDir.map { URL(fileURLWithPath: $0) }, batchSize: batchSize)
        if let note = evaluation.note { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        let result = evaluation.result
        guard !json else { return try printJSON(result, pretty: false) }
        print(String(format: "%@ on %@ test (%d images, %@): loss %.4f  top-1 %.2f%%", checkpoint, evaluation.dataset.rawValue,
                     result.count, evaluation.arithmetic, result.loss, result.top1 * 100) + (result.top5.map { String(format: "  top-5 %.2f%%", $0 * 100) } ?? ""))
    }
}

struct Inspect: MinnowCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a checkpoint holds: architecture summary, parameters, metrics and provenance.",
        discussion: """
            --graph prints the model's traced op graph instead: every op of an evaluation-mode \
            forward pass in execution order (convolutions, batch norms, activations, residual adds, \
            concatenations, pooling, ...), with the module that ran it, its operands (%N is the \
            value made by op N; names are the model's parameters and buffers), its output shape \
            per image, its attributes and its multiply-accumulates. With --json, the same graph as \
            JSON (the ModelGraph type of MinnowNN).
            """)

    @Argument(help: "A Minnow checkpoint (.h5).") var checkpoint: String
    @Flag(help: "Print the traced op graph.") var graph = false
    @Flag(help: "With --graph: print it as JSON.") var json = false

    func validate() throws {
        guard !json || graph else { throw ValidationError("--json needs --graph") }
    }

    func execute() throws {
        let url = URL(fileURLWithPath: checkpoint)
        guard graph else { return print(try CheckpointSummary.text(of: url, name: checkpoint)) }
        let (model, config) = try ModelCheckpoint.loadModel(from: url)
        let traced = try ModelGraph.trace(model, inputShape: config.inputShape)
        if json { return try printJSON(traced) }
        print("\(checkpoint): \(config.architecture.rawValue), traced in evaluation mode")
        print(traced)
    }
}
