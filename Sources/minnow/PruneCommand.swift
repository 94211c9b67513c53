import ArgumentParser
import Foundation
import MinnowOptions
import MinnowPruning
import MinnowTraining
import MinnowWorkflows

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Structured (channel) pruning of a float checkpoint, with fine-tuning.",
        subcommands: [PruneRun.self, PruneSensitivity.self],
        defaultSubcommand: PruneRun.self)
}

struct PruneRun: MinnowCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Prune a checkpoint to a target and fine-tune it (the default subcommand).",
        usage: "minnow prune <checkpoint> --target-macs <f> --out <dir> [<options>]\n       minnow prune --resume <run>",
        discussion: """
            Finds the groups of channels that must go together from the traced graph (a \
            convolution's filters, the batch norm after it, the next layers' inputs, depthwise \
            convolutions, both sides of residual adds, concatenation offsets), ranks channels by \
            --criterion and removes the lowest until the model keeps the target fraction of its \
            MACs (--target-macs), parameters (--target-params) or prunable channels \
            (--target-channels). Channels are removed for real: the layers are rebuilt smaller, \
            and fine-tuning (with --teacher: Hinton KD) runs on the small model.

            --prune-schedule oneshot prunes at --prune-start; iterative prunes in --prune-steps equal \
            parts --prune-every epochs apart; agp follows Zhu & Gupta's cubic schedule over \
            --prune-steps intervals of --prune-every epochs from --initial-ratio. --sparsity adds \
            network slimming's L1 penalty on batch-norm scales until the last pruning (use with \
            --criterion bn and a later --prune-start).

            Unless given: 3 epochs, SGD with Nesterov momentum, a cosine schedule from --lr \
            0.01, weight decay 5e-4, batches of 128. The run folder is that of minnow train (its \
            checkpoints hold the pruned model), plus pruning.json (the settings) and \
            pruning-report.txt / pruning-report.json (per-layer channels, parameters and MACs \
            before and after, accuracy before and after). See docs/pruning.md.

            Example:
              minnow prune runs/kd/best.h5 --target-macs 0.5 --teacher runs/t/best.h5 \\
                --out runs/kd-pruned50
            """)

    @Argument(help: "A Minnow checkpoint (.h5): a float model, or a QAT one (QAT goes on).") var checkpoint: String?
    @OptionGroup var pruning: PruningOptions
    @OptionGroup var tuning: FineTuningOptions

    func validate() throws {
        try tuning.validate(checkpoint: checkpoint)
        if tuning.run.resume == nil { try pruning.validateTarget() }
    }

    func execute() throws {
        if let resume = tuning.run.resume {
            let (fineTuning, record) = try PruningWorkflow.resume(from: URL(fileURLWithPath: resume), dataDirectory: tuning.training.dataDirectory)
            try printResumed(tuning.run.prepareResumed(fineTuning.run))
            return try train(fineTuning, settings: record.settings)
        }
        let start = try CheckpointStart(checkpoint: URL(fileURLWithPath: checkpoint!), dataDirectory: tuning.training.dataDirectory, allowQuantized: true)
        let request = pruning.request
        let (fineTuning, settings, top1) = try PruningWorkflow.start(start, request: request, setup: try tuning.setup(model: start.config),
                                                                    checkpoint: checkpoint!)
        print("\(checkpoint!): \(top1 * 100)% test top-1 before pruning; \(settings.baseline.macs) MACs, \(settings.baseline.parameters) parameters; pruning to \(request.target) (\(request.criterion.rawValue), \(request.scope.rawValue), \(request.schedule.rawValue) at steps \(settings.schedule.events(finalKept: request.target.fraction).map(\.step)))")
        try train(fineTuning, settings: settings)
    }

    /// Trains with the pruning schedule (`PruningWorkflow.train`) and prints the report.
    private func train(_ fineTuning: FineTuning, settings: PruningSettings) throws {
        let report = try PruningWorkflow.train(fineTuning, settings: settings, observer: ProgressPrinter(style: tuning.training.progress))
        print(report.text)
        print("run folder: \(fineTuning.run.directory.path)")
    }
}

struct PruneSensitivity: MinnowCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensitivity",
        abstract: "Accuracy when each channel group alone is pruned by each ratio.",
        usage: "minnow prune sensitivity <checkpoint> [--ratios <r,r,...>] [<options>]",
        discussion: """
            For every prunable group of the checkpoint's model, removes --ratios of its channels \
            (lowest --criterion scores first; no fine-tuning) and evaluates on --images images: \
            the table shows which layers tolerate pruning (Li et al. 2017). The images are the \
            validation images the checkpoint's run held out when it has them (ratios and \
            exclusions chosen from the table then leave the test set unseen), else the test \
            set's, with a note. With --out, writes sensitivity.txt, sensitivity.json and \
            sensitivity.svg (a line per group).
            """)

    @Argument(help: "A Minnow checkpoint (.h5) of a float model.") var checkpoint: String
    @OptionGroup var choice: PruningChoice
    @Option(help: "Fractions of a group's channels to remove, comma separated.") var ratios = "0.25,0.5,0.75"
    @Option(help: "Images: validation (default when the checkpoint's run held some out) or test.") var split: EvaluationSplit?
    @Option(name: [.customLong("images"), .customLong("test-images")], help: "Images to evaluate on (the first N of the split).")
    var images = 2000
    @Option(help: "Folder for sensitivity.txt, .json and .svg.") var out: String?
    @Option(help: "Folder with the data set's files.") var dataDir: String?

    func validate() throws {
        try OptionCheck.within("--images", images, 1...OptionCheck.maximumImages)
        _ = try parsedRatios()
    }

    func parsedRatios() throws -> [Double] {
        let values = ratios.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! > 0 && $0! < 1 }) else {
            throw ValidationError("--ratios must be fractions in (0, 1) separated by commas, got '\(ratios)'")
        }
        return values.map { $0! }
    }

    func execute() throws {
        let start = try CheckpointStart(checkpoint: URL(fileURLWithPath: checkpoint), dataDirectory: dataDir.map { URL(fileURLWithPath: $0) })
        let split = split ?? (start.heldOut == nil ? .test : .validation)
        if self.split == nil && split == .test {
            FileHandle.standardError.write(Data("note: \(checkpoint)'s run held out no validation images; evaluating on test images\n".utf8))
        }
        let analysis = try PruningWorkflow.sensitivity(start, criterion: choice.criterion, excluded: try choice.excluded(start.model, inputShape: start.config.inputShape),
                                                       ratios: try parsedRatios(), importanceBatches: choice.importanceBatches, split: split, images: images)
        print(analysis.text)
        guard let out else { return }
        try PruningWorkflow.write(analysis, to: URL(fileURLWithPath: out), title: "Pruning sensitivity (\(choice.criterion.rawValue)): \(checkpoint)")
        print("wrote \(out)/sensitivity.{txt,json,svg}")
    }
}
