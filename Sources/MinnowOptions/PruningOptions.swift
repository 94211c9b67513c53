import ArgumentParser
import MinnowNN
import MinnowPruning
import MinnowWorkflows

/// Which channels to remove and how they are ranked: the options `prune` and `prune sensitivity` share.
public struct PruningChoice: ParsableArguments {
    public init() {}

    @Option(help: "Channel ranking: l1, l2 (filter norms), bn (batch-norm scale), taylor.") public var criterion: PruningCriterion = .l1
    @Option(help: ArgumentHelp("Keep output channels of this layer (or of the layers under this path); repeatable.", valueName: "path"))
    public var exclude: [String] = []
    @Flag(help: "Prune the first convolution and the classifier too (excluded by default).") public var noDefaultExclusions = false
    @Option(help: "Kept channel counts are multiples of this (default: 8).") public var roundTo = 8
    @Option(help: "Training batches the taylor criterion averages over.") public var importanceBatches = 16

    public func validate() throws {
        try OptionCheck.within("--round-to", roundTo, 1...4096)
        try OptionCheck.within("--importance-batches", importanceBatches, 1...OptionCheck.maximumSteps)
    }

    /// The excluded layers for `model`: the defaults (unless switched off) and `--exclude`.
    public func excluded(_ model: any Layer, inputShape: [Int]) throws -> [String] {
        try PruningWorkflow.excludedLayers(model, inputShape: inputShape, defaults: !noDefaultExclusions, extra: exclude)
    }
}

/// A pruning run's target, ranking and schedule (`prune`): what `PruningWorkflow.Request` holds.
public struct PruningOptions: ParsableArguments {
    public init() {}

    @Option(help: "Keep this fraction of the model's MACs, in (0, 1).") public var targetMacs: Double?
    @Option(help: "Keep this fraction of the model's parameters, in (0, 1).") public var targetParams: Double?
    @Option(help: "Keep this fraction of the prunable channels, in (0, 1).") public var targetChannels: Double?
    @Option(help: "global: one ranking across layers; layer: every group loses the same fraction.") public var scope: PruningScope = .global
    @OptionGroup public var choice: PruningChoice
    @Option(help: "Pruning schedule: oneshot, iterative or agp (--schedule is the learning rate's).") public var pruneSchedule: PruningSchedule.Kind = .oneshot
    @Option(help: "Epochs of training before the first pruning (default: 0).") public var pruneStart: Double = 0
    @Option(help: "Pruning events after the first (default: 3 iterative, 8 agp).") public var pruneSteps: Int?
    @Option(help: "Epochs between pruning events (default: 1 iterative, 0.25 agp).") public var pruneEvery: Double?
    @Option(help: "agp: fraction removed at the first event (default: 0).") public var initialRatio: Double = 0
    @Option(help: "Network slimming: L1 penalty weight on batch-norm scales (default: 0, off).") public var sparsity: Float = 0

    /// Checks the range of every number given, naming the flag.
    public func validate() throws {
        try OptionCheck.nonNegative("--prune-start", pruneStart)
        try OptionCheck.within("--prune-steps", pruneSteps, 1...OptionCheck.maximumSteps)
        try OptionCheck.check("--prune-every", pruneEvery, "a positive number of epochs") { $0 > 0 && $0.isFinite }
        try OptionCheck.check("--initial-ratio", initialRatio, "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try OptionCheck.nonNegative("--sparsity", sparsity)
        for (flag, value) in [("--target-macs", targetMacs), ("--target-params", targetParams), ("--target-channels", targetChannels)] {
            try OptionCheck.check(flag, value, "a fraction in (0, 1)") { $0 > 0 && $0 < 1 }
        }
    }

    /// Checks that exactly one target was given (a new run needs one; a resumed run keeps its own).
    public func validateTarget() throws {
        guard [targetMacs, targetParams, targetChannels].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --target-macs, --target-params, --target-channels")
        }
    }

    /// The request these options make.
    public var request: PruningWorkflow.Request {
        let target: PruningTarget = targetMacs.map { .macs($0) } ?? targetParams.map { .parameters($0) } ?? .channels(targetChannels ?? 0)
        return PruningWorkflow.Request(criterion: choice.criterion, target: target, scope: scope, roundTo: choice.roundTo, excluded: choice.exclude,
                                       defaultExclusions: !choice.noDefaultExclusions, schedule: pruneSchedule, startEpoch: pruneStart, steps: pruneSteps,
                                       everyEpochs: pruneEvery, initialRatio: initialRatio, importanceBatches: choice.importanceBatches, sparsity: sparsity)
    }
}
