import ArgumentParser
import Foundation
import MinnowTensor
import MinnowTraining

/// The options of the training commands about the run folder rather than the recipe: resuming, and
/// how checkpoints are written.
public struct RunOptions: ParsableArguments {
    public init() {}

    @Option(help: "Continue the run in this folder (from its last.h5), or from this checkpoint in its folder.")
    public var resume: String?
    @Option(help: "Write last.h5 every N epochs, and after the last (default: 1).") public var checkpointEvery: Int?
    @Option(help: "Checkpoints to keep: 1 keeps last.h5 alone; K > 1 also keeps epoch-NNNN.h5 of the last K (default: 1).")
    public var keepLast: Int?
    @Option(help: "Metric that picks best.h5: val_top1, val_loss (need --validation), test_top1, test_loss (default: val_top1 with a validation split, else test_top1).")
    public var bestMetric: CheckpointPolicy.Metric?

    /// Checks the range of the checkpoint options given, naming the flag.
    public func validate() throws {
        try OptionCheck.within("--checkpoint-every", checkpointEvery, 1...OptionCheck.maximumEpochs)
        try OptionCheck.within("--keep-last", keepLast, 1...OptionCheck.maximumEpochs)
    }

    /// Checks that a resumed run gets none of the `recipeOptions` given (it keeps its saved recipe).
    public func validate(recipeOptions given: [String]) throws {
        guard resume != nil, !given.isEmpty else { return }
        throw ValidationError("--resume continues the run with its saved recipe and folder; remove \(given.joined(separator: ", "))")
    }

    /// `policy` with the checkpoint options given on the command line.
    public func checkpointPolicy(_ policy: CheckpointPolicy) -> CheckpointPolicy {
        var policy = policy
        policy.every = checkpointEvery ?? policy.every
        policy.keepLast = keepLast ?? policy.keepLast
        policy.bestMetric = bestMetric ?? policy.bestMetric
        return policy
    }

    /// Applies the checkpoint options to a resumed run; returns where it continues from, and a
    /// warning when the continuation will not be bit-identical (another thread count).
    public func prepareResumed(_ run: TrainingRun) throws -> (message: String, warning: String?) {
        try run.setCheckpointPolicy(checkpointPolicy(run.manifest.checkpoints))
        guard let (checkpoint, state) = run.resumedFrom else {
            return ("\(run.directory.path) has no checkpoint yet: starting its recipe over", nil)
        }
        let epochs = run.manifest.training.epochs
        let message = "resuming from \(checkpoint.path): epoch \(state.epoch) of \(epochs) done, step \(state.step)"
            + (state.epoch == epochs ? "; the run is complete" : "")
        guard state.threads != Threads.count else { return (message, nil) }
        return (message, "the checkpoint was written with \(state.threads) threads, this process uses \(Threads.count) (MINNOW_NUM_THREADS): the continuation will not be bit-identical to an uninterrupted run")
    }
}
