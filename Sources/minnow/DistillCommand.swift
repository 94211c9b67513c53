import ArgumentParser
import Foundation
import MinnowDistillation
import MinnowOptions
import MinnowTraining
import MinnowWorkflows

struct Distill: MinnowCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a student from one or more teacher checkpoints (knowledge distillation).",
        discussion: """
            The objective is a response loss (--loss kd: Hinton et al. 2015; dkd: decoupled KD, Zhao et \
            al. 2022; ce: cross-entropy only) plus optional feature losses at layer pairs \
            studentPath:teacherPath (--hint: FitNets; --attention: attention transfer). Layer paths are \
            module paths such as features.6 (MobileNetV2 blocks) or layers.3 (ResNet blocks); a wrong \
            path lists the valid ones near it.

            Several --teacher flags make an ensemble (averaged logits; feature losses use the first \
            teacher). Without augmentation and feature losses, the teachers' logits on the training set \
            are computed once and cached in HDF5, keyed by the teachers' weights, the data and the \
            normalization; otherwise the teachers run every step.

            The run folder is that of `minnow train` plus distillation.json; metrics.jsonl has each loss \
            term under lossTerms. --resume RUN continues a distillation run exactly where its checkpoint \
            left off (with the FitNets adapters and their optimizer state), with its saved recipe and \
            settings; only --teacher (moved teacher files), --data-dir, --progress, the cache and \
            checkpoint options may be given with it. See docs/distillation.md.

            Example:
              minnow distill --teacher runs/teacher/best.h5 --student mobilenet_v2 \\
                --width 0.5 --loss kd --temperature 4 --alpha 0.9 --epochs 30 --out runs/kd
            """)

    @Option(help: "A teacher checkpoint (.h5); repeat for an ensemble. With --resume: where the run's teachers are now (their weights must be the ones the run started with).")
    var teacher: [String] = []
    @OptionGroup var distillation: DistillationOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        try runOptions.validate(recipeOptions: distillation.given + training.given)
        guard runOptions.resume == nil else { return }
        guard !teacher.isEmpty else { throw ValidationError("give at least one --teacher checkpoint") }
        guard distillation.student != nil, training.out != nil else { throw ValidationError("--student and --out are required (or --resume RUN)") }
    }

    func execute() throws {
        let run = try runOptions.resume.map(resumedRun) ?? newRun()
        let trainer = run.training.trainer
        print("\(run.training.manifest.training.model.architecture.rawValue): \(trainer.model.parameterCount) parameters; \(run.training.trainLoader.dataset.count) training images, \(run.training.trainLoader.batchesPerEpoch) steps per epoch")
        print("teachers: \(run.manifest.teachers.joined(separator: ", ")); teacher logits: \(run.manifest.teacherLogits)")
        try run.start(observer: ProgressPrinter(style: training.progress))
        print("run folder: \(run.training.directory.path)")
    }

    private func newRun() throws -> DistillationRun {
        try DistillationRun(
            config: try training.config(model: try distillation.studentConfig()), settings: try distillation.settings(),
            teachers: teacher.map { URL(fileURLWithPath: $0) }, data: training.data, dataDirectory: training.dataDirectory,
            trainSubset: training.trainSubset, validation: training.validationSplit, augmentation: training.augmentation,
            checkpoints: training.checkpointPolicy(run: runOptions),
            directory: training.outDirectory, cacheDirectory: distillation.cacheDirectory(runFolder: training.outDirectory))
    }

    private func resumedRun(_ location: String) throws -> DistillationRun {
        let run = try FineTuning.resumeDistillation(
            from: URL(fileURLWithPath: location), teachers: teacher.isEmpty ? nil : teacher.map { URL(fileURLWithPath: $0) },
            dataDirectory: training.dataDirectory, cacheDirectory: distillation.cacheDirectory(runFolder:))
        try printResumed(runOptions.prepareResumed(run.training))
        return run
    }
}
