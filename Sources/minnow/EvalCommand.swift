import ArgumentParser
import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowDistillation
import MinnowHDF5
import MinnowModels
import MinnowNN
import MinnowTraining
import MinnowWorkflows

struct Eval: ParsableCommand {
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
        try OptionCheck.atLeast("--batch-size", batchSize, 1)
    }

    func run() throws {
        do {
            let evaluation = try CheckpointEvaluation(checkpoint: URL(fileURLWithPath: checkpoint), dataset: dataset,
                                                      dataDirectory: dataDir.map { URL(fileURLWithPath: $0) }, batchSize: batchSize)
            if let note = evaluation.note { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
            let result = evaluation.result
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                var line = String(format: "%@ on %@ test (%d images, %@): loss %.4f  top-1 %.2f%%", checkpoint, evaluation.dataset.rawValue,
                                  result.count, evaluation.arithmetic, result.loss, result.top1 * 100)
                if let top5 = result.top5 { line += String(format: "  top-5 %.2f%%", top5 * 100) }
                print(line)
            }
        } catch let error as CustomStringConvertible & Error {
            throw CLIError(message: error.description)
        }
    }
}

struct Inspect: ParsableCommand {
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

    func run() throws {
        do {
            let url = URL(fileURLWithPath: checkpoint)
            if graph { try showGraph(url) } else { try show(url) }
        } catch let error as CustomStringConvertible & Error {
            throw CLIError(message: error.description)
        }
    }

    private func showGraph(_ url: URL) throws {
        let (model, config) = try ModelCheckpoint.loadModel(from: url)
        let graph = try ModelGraph.trace(model, inputShape: config.inputShape)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(graph), as: UTF8.self))
        } else {
            print("\(checkpoint): \(config.architecture.rawValue), traced in evaluation mode")
            print(graph)
        }
    }

    private func show(_ url: URL) throws(CheckpointError) {
        let (model, config) = try ModelCheckpoint.loadModel(from: url)
        let file = try ModelCheckpoint.open(url)
        print("\(checkpoint): \(config.architecture.rawValue), width \(config.width), input \(config.inputShape), \(config.classes) classes")
        print(ModelSummary(model: model, inputShape: [1] + config.inputShape))
        if file.exists("/provenance") {
            let provenance = try ModelCheckpoint.loadProvenance(from: file)
            print("\nprovenance: Minnow \(provenance.minnowVersion), created \(provenance.createdUTC), data set \(provenance.dataset), seed \(provenance.seed)")
            print("command: \(provenance.commandLine.joined(separator: " "))")
            for (split, fingerprint) in provenance.dataFingerprints.sorted(by: { $0.key > $1.key }) {
                print("\(split) data fingerprint: \(fingerprint)")
            }
        }
        if file.exists("/training") {
            let state = try ModelCheckpoint.loadTraining(from: file, into: model)
            let objective = state.recipe.flatMap { try? JSONDecoder().decode(TrainingRun.Manifest.self, from: Data($0.utf8)) }?.objective
            let command = TrainingObjectives.all.first { $0.name == objective }?.resumeCommand ?? "minnow train --resume"
            print("\ntraining: \(state.epoch) epochs done, \(state.step) steps, \(state.threads) threads"
                  + (state.recipe != nil ? "; resumable (\(command) \(checkpoint))" : ""))
        }
        if let best = try ModelCheckpoint.bestMetric(in: file) {
            print("best so far: \(best.name) \(best.value) at epoch \(best.epoch)")
        }
        guard let history = try ModelCheckpoint.metricsHistory(in: file) else { return }
        let records = (try? JSONDecoder().decode([EpochRecord].self, from: Data(history.utf8))) ?? []
        print("\nmetrics:")
        for record in records {
            let test = record.test.map { String(format: "  test top-1 %.2f%%", $0.top1 * 100) } ?? ""
            print(String(format: "  epoch %d  train loss %.4f acc %.2f%%", record.epoch, record.trainLoss, record.trainAccuracy * 100) + test)
        }
    }
}
