import ArgumentParser
import Foundation
import MinnowNN
import MinnowPruning
import MinnowTraining
import MinnowWorkflows

extension PruningCriterion: ExpressibleByArgument {}
extension PruningScope: ExpressibleByArgument {}
extension PruningSchedule.Kind: ExpressibleByArgument {}

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Structured (channel) pruning of a float checkpoint, with fine-tuning.",
        subcommands: [PruneRun.self, PruneSensitivity.self],
        defaultSubcommand: PruneRun.self)
}

/// Which channels to remove and how far: the options `prune` and `prune sensitivity` share.
struct PruningChoice: ParsableArguments {
    @Option(help: "Channel ranking: l1, l2 (filter norms), bn (batch-norm scale), taylor.") var criterion: PruningCriterion = .l1
    @Option(help: ArgumentHelp("Keep output channels of this layer (or of the layers under this path); repeatable.", valueName: "path"))
    var exclude: [String] = []
    @Flag(help: "Prune the first convolution and the classifier too (excluded by default).") var noDefaultExclusions = false
    @Option(help: "Kept channel counts are multiples of this (default: 8).") var roundTo = 8
    @Option(help: "Training batches the taylor criterion averages over.") var importanceBatches = 16

    func validate() throws {
        try OptionCheck.within("--round-to", roundTo, 1...4096)
        try OptionCheck.within("--importance-batches", importanceBatches, 1...OptionCheck.maximumSteps)
    }

    /// The excluded layers for `model`: the defaults (unless switched off) and `--exclude`.
    func excluded(_ model: any Layer, inputShape: [Int]) throws -> [String] {
        try PruningWorkflow.excludedLayers(model, inputShape: inputShape, defaults: !noDefaultExclusions, extra: exclude)
    }
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

            --schedule oneshot prunes at --prune-start; iterative prunes in --prune-steps equal \
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
    @Option(help: "Keep this fraction of the model's MACs, in (0, 1).") var targetMacs: Double?
    @Option(help: "Keep this fraction of the model's parameters, in (0, 1).") var targetParams: Double?
    @Option(help: "Keep this fraction of the prunable channels, in (0, 1).") var targetChannels: Double?
    @Option(help: "global: one ranking across layers; layer: every group loses the same fraction.") var scope: PruningScope = .global
    @OptionGroup var choice: PruningChoice
    @Option(help: "oneshot, iterative or agp.") var schedule: PruningSchedule.Kind = .oneshot
    @Option(help: "Epochs of training before the first pruning (default: 0).") var pruneStart: Double = 0
    @Option(help: "Pruning events after the first (default: 3 iterative, 8 agp).") var pruneSteps: Int?
    @Option(help: "Epochs between pruning events (default: 1 iterative, 0.25 agp).") var pruneEvery: Double?
    @Option(help: "agp: fraction removed at the first event (default: 0).") var initialRatio: Double = 0
    @Option(help: "Network slimming: L1 penalty weight on batch-norm scales (default: 0, off).") var sparsity: Float = 0
    @OptionGroup var kd: TeacherOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        try OptionCheck.nonNegative("--prune-start", pruneStart)
        try OptionCheck.within("--prune-steps", pruneSteps, 1...OptionCheck.maximumSteps)
        try OptionCheck.check("--prune-every", pruneEvery, "a positive number of epochs") { $0 > 0 && $0.isFinite }
        try OptionCheck.check("--initial-ratio", initialRatio, "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try OptionCheck.nonNegative("--sparsity", sparsity)
        for (flag, value) in [("--target-macs", targetMacs), ("--target-params", targetParams), ("--target-channels", targetChannels)] {
            try OptionCheck.check(flag, value, "a fraction in (0, 1)") { $0 > 0 && $0 < 1 }
        }
        if runOptions.resume != nil {
            guard checkpoint == nil else { throw ValidationError("--resume continues a run; give no checkpoint with it") }
            try runOptions.validate(recipeOptions: training.given)
            return
        }
        guard checkpoint != nil, training.out != nil else { throw ValidationError("a checkpoint and --out are required (or --resume RUN)") }
        guard [targetMacs, targetParams, targetChannels].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --target-macs, --target-params, --target-channels")
        }
    }

    var request: PruningWorkflow.Request {
        let target: PruningTarget = targetMacs.map { .macs($0) } ?? targetParams.map { .parameters($0) } ?? .channels(targetChannels ?? 0)
        return PruningWorkflow.Request(criterion: choice.criterion, target: target, scope: scope, roundTo: choice.roundTo, excluded: choice.exclude,
                                       defaultExclusions: !choice.noDefaultExclusions, schedule: schedule, startEpoch: pruneStart, steps: pruneSteps,
                                       everyEpochs: pruneEvery, initialRatio: initialRatio, importanceBatches: choice.importanceBatches, sparsity: sparsity)
    }

    func execute() throws {
        if let resume = runOptions.resume {
            let (fineTuning, record) = try PruningWorkflow.resume(from: URL(fileURLWithPath: resume), dataDirectory: training.dataDirectory)
            try runOptions.prepareResumed(fineTuning.run)
            return try train(fineTuning, settings: record.settings)
        }
        let start = try CheckpointStart(checkpoint: URL(fileURLWithPath: checkpoint!), dataDirectory: training.dataDirectory, allowQuantized: true)
        let request = request
        let (fineTuning, settings, top1) = try PruningWorkflow.start(start, request: request, setup: try training.fineTuningSetup(model: start.config, teacher: kd, run: runOptions),
                                                                    checkpoint: checkpoint!)
        print("\(checkpoint!): \(top1 * 100)% test top-1 before pruning; \(settings.baseline.macs) MACs, \(settings.baseline.parameters) parameters; pruning to \(request.target) (\(choice.criterion.rawValue), \(scope.rawValue), \(schedule.rawValue) at steps \(settings.schedule.events(finalKept: request.target.fraction).map(\.step)))")
        try train(fineTuning, settings: settings)
    }

    /// Trains with the pruning schedule (`PruningWorkflow.train`) and prints the report.
    private func train(_ fineTuning: FineTuning, settings: PruningSettings) throws {
        let report = try PruningWorkflow.train(fineTuning, settings: settings, observer: ProgressPrinter(style: training.progress))
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
            (lowest --criterion scores first; no fine-tuning) and evaluates on --test-images test \
            images: the table shows which layers tolerate pruning (Li et al. 2017). With --out, \
            writes sensitivity.txt, sensitivity.json and sensitivity.svg (a line per group).
            """)

    @Argument(help: "A Minnow checkpoint (.h5) of a float model.") var checkpoint: String
    @OptionGroup var choice: PruningChoice
    @Option(help: "Fractions of a group's channels to remove, comma separated.") var ratios = "0.25,0.5,0.75"
    @Option(help: "Test images to evaluate on (the first N).") var testImages = 2000
    @Option(help: "Folder for sensitivity.txt, .json and .svg.") var out: String?
    @Option(help: "Folder with the data set's files.") var dataDir: String?

    func validate() throws {
        try OptionCheck.within("--test-images", testImages, 1...OptionCheck.maximumImages)
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
        let analysis = try PruningWorkflow.sensitivity(start, criterion: choice.criterion, excluded: try choice.excluded(start.model, inputShape: start.config.inputShape),
                                                       ratios: try parsedRatios(), importanceBatches: choice.importanceBatches, testImages: testImages)
        print(analysis.text)
        guard let out else { return }
        try PruningWorkflow.write(analysis, to: URL(fileURLWithPath: out), title: "Pruning sensitivity (\(choice.criterion.rawValue)): \(checkpoint)")
        print("wrote \(out)/sensitivity.{txt,json,svg}")
    }
}
