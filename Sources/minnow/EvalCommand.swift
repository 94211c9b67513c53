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
        abstract: "Evaluate a checkpoint on a data set's test split (or validation images): loss, top-1, top-5.",
        usage: "minnow eval <checkpoint> [<options>]",
        discussion: """
            A quantized checkpoint (from minnow quantize or minnow qat) is evaluated in integer \
            arithmetic, with the int8 kernels the runtime runs: the accuracy of the deployed model.

            --split validation evaluates on the training images a validation split holds out: \
            --validation N [--validation-seed S], or the split of the run that wrote the checkpoint.

            Example:
              minnow eval runs/mbv2/best.h5
            """)

    @Argument(help: "A Minnow checkpoint (.h5), e.g. runs/NAME/best.h5.") var checkpoint: String
    @Option(help: "Data set (default: the one the checkpoint was trained on).") var dataset: DatasetChoice?
    @Option(help: "Folder with the data set's files.") var dataDir: String?
    @Option(help: "Images per batch.") var batchSize = 256
    @Option(help: "Images: test, or validation (held-out training images).") var split: EvaluationSplit = .test
    @Option(help: "With --split validation: images held out (default: the checkpoint's run's split).") var validation: Int?
    @Option(help: "With --split validation: seed of the held-out images (default: 0).") var validationSeed: UInt64?
    @Flag(help: "Print the result as one JSON object.") var json = false

    func validate() throws {
        try OptionCheck.within("--batch-size", batchSize, 1...OptionCheck.maximumBatch)
        try OptionCheck.within("--validation", validation, 1...Int(Int32.max))
        guard split == .validation || (validation == nil && validationSeed == nil) else {
            throw ValidationError("--validation and --validation-seed need --split validation")
        }
    }

    func execute() throws {
        let url = URL(fileURLWithPath: checkpoint)
        let held = try validation.map { ValidationSplit(count: $0, seed: validationSeed ?? 0) } ?? CheckpointEvaluation.recordedValidation(of: url)
        guard split == .test || held != nil else {
            throw ValidationError("\(checkpoint) records no validation split: give --validation N")
        }
        let evaluation = try CheckpointEvaluation(checkpoint: url, dataset: dataset, dataDirectory: dataDir.map { URL(fileURLWithPath: $0) },
                                                  batchSize: batchSize, validation: split == .validation ? held : nil)
        if let note = evaluation.note { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        let result = evaluation.result
        guard !json else { return try printJSON(EvaluationReport(result: result, arithmetic: evaluation.arithmetic, split: split), pretty: false) }
        print(String(format: "%@ on %@ \(split.rawValue) (%d images, %@): loss %.4f  top-1 %.2f%%", checkpoint, evaluation.dataset.rawValue,
                     result.count, evaluation.arithmetic, result.loss, result.top1 * 100) + (result.top5.map { String(format: "  top-5 %.2f%%", $0 * 100) } ?? ""))
    }
}

/// What `eval --json` prints: the result's fields, the arithmetic and the images evaluated.
struct EvaluationReport: Encodable {
    let result: EvaluationResult
    let arithmetic: String
    let split: EvaluationSplit

    func encode(to encoder: any Encoder) throws {
        try result.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(arithmetic, forKey: .arithmetic)
        try container.encode(split, forKey: .split)
    }

    private enum Keys: String, CodingKey { case arithmetic, split }
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
