import ArgumentParser
import Foundation
import MinnowCheckpoint
import MinnowDistillation
import MinnowModels
import MinnowOptions
import MinnowPruning
import MinnowTraining
import MinnowWorkflows

struct Train: MinnowCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model from scratch (Fashion-MNIST, CIFAR-10 or your own data), or resume a run.",
        discussion: """
            Writes the run folder given by --out: config.json (the full recipe and command line), \
            metrics.jsonl (one JSON object per epoch: train loss and accuracy, test loss, top-1 and \
            top-5, images/s, wall time), and HDF5 checkpoints: last.h5 (every --checkpoint-every \
            epochs), epoch-NNNN.h5 (the last --keep-last, when more than 1) and best.h5 (by \
            --best-metric).

            The default recipe is the peers' reference: SGD with Nesterov momentum 0.9, weight \
            decay 5e-4, a one-cycle learning rate with maximum 0.1, batches of 128, no augmentation.

            --resume RUN (or RUN/epoch-0003.h5) continues a run exactly where its checkpoint left \
            off, with the saved recipe; only --data-dir, --progress and the checkpoint options may \
            be given with it. --init-from CHECKPOINT starts a new run (a fine-tuning) from a \
            checkpoint's model and weights, with a fresh optimizer and the recipe given.

            Example:
              minnow train --model mobilenet_v2 --width 0.5 --epochs 3 --out runs/mbv2
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Start from this checkpoint's model and weights (fine-tuning) instead of --model.") var initFrom: String?
    @OptionGroup var training: TrainingOptions
    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        try runOptions.validate(recipeOptions: modelOptions.given + training.given + (initFrom == nil ? [] : ["--init-from"]))
        if initFrom != nil, !modelOptions.given.isEmpty {
            throw ValidationError("--init-from takes the checkpoint's model; remove \(modelOptions.given.joined(separator: ", "))")
        }
        guard runOptions.resume != nil || ((modelOptions.model != nil || initFrom != nil) && training.out != nil) else {
            throw ValidationError("--model (or --init-from) and --out are required (or --resume RUN)")
        }
    }

    func execute() throws {
        let run = try runOptions.resume.map(resumedRun) ?? newRun()
        print("\(run.manifest.training.model.architecture.rawValue): \(run.trainer.model.parameterCount) parameters; \(run.trainLoader.dataset.count) training images, \(run.trainLoader.batchesPerEpoch) steps per epoch")
        try run.start(observer: ProgressPrinter(style: training.progress))
        print("run folder: \(run.directory.path)")
    }

    private func newRun() throws -> TrainingRun {
        let start = try initFrom.map { try ModelCheckpoint.loadModel(from: URL(fileURLWithPath: $0)) }
        let config = try training.config(model: try start?.config ?? modelOptions.config())
        return try TrainingRun(
            config: config, data: training.data, dataDirectory: training.dataDirectory, trainSubset: training.trainSubset,
            validation: training.validationSplit, augmentation: training.augmentation, checkpoints: training.checkpointPolicy(run: runOptions),
            directory: training.outDirectory, model: start?.model)
    }

    private func resumedRun(_ location: String) throws -> TrainingRun {
        let run = try TrainingRun.resume(from: URL(fileURLWithPath: location), dataDirectory: training.dataDirectory,
                                         knownObjectives: TrainingObjectives.all)
        try printResumed(runOptions.prepareResumed(run))
        return run
    }
}
