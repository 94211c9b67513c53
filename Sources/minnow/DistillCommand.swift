import ArgumentParser
import Foundation
import MinnowDistillation
import MinnowModels
import MinnowTraining

extension DistillationSettings.ResponseLoss: ExpressibleByArgument {}

struct Distill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a student from one or more teacher checkpoints (knowledge distillation).",
        discussion: """
            The objective is a response loss (--loss kd: Hinton et al. 2015; dkd: decoupled KD, Zhao et al. 2022; ce: cross-entropy only) plus optional feature losses at layer pairs studentPath:teacherPath (--hint: FitNets; --attention: attention transfer). Layer paths are module paths such as features.6 (MobileNetV2 blocks) or layers.3 (ResNet blocks); a wrong path lists the valid ones near it.

            Several --teacher flags make an ensemble (averaged logits; feature losses use the first teacher). Without augmentation and feature losses, the teachers' logits on the training set are computed once and cached in HDF5, keyed by the teachers' weights, the data and the normalization; otherwise the teachers run every step.

            The run folder is that of `minnow train` plus distillation.json; metrics.jsonl has each loss term under lossTerms. See docs/distillation.md.

            Example: minnow distill --teacher runs/teacher/best.h5 --student mobilenet_v2 --width 0.5 --loss kd --temperature 4 --alpha 0.9 --epochs 30 --out runs/kd
            """)

    @Option(help: "A teacher checkpoint (.h5); repeat for an ensemble.") var teacher: [String] = []
    @Option(help: "The student: a preset (\(ModelConfig.presetNames.joined(separator: ", "))) or an architecture (\(ModelConfig.Architecture.allCases.map(\.rawValue).joined(separator: ", "))).")
    var student: String
    @Option(help: "Width multiplier of the student architecture.") var width: Float?
    @Option(help: "ResNet depth of the student, 6n+2.") var depth: Int?
    @Option(help: "Dropout before the student's classifier.") var dropout: Float?
    @Option(help: "Seed of the student's weight initialization.") var initSeed: UInt64 = 0

    @Option(help: "Response loss: kd, dkd, or ce (feature losses only).") var loss: DistillationSettings.ResponseLoss = .kd
    @Option(help: "Softmax temperature (kd, dkd).") var temperature: Float = 4
    @Option(help: "kd: weight of the soft-target term, in [0, 1] (the label term gets 1 - alpha).") var alpha: Float = 0.9
    @Option(help: "dkd: weight of the target-class term TCKD.") var dkdAlpha: Float = 1
    @Option(help: "dkd: weight of the non-target-class term NCKD.") var dkdBeta: Float = 8
    @Option(help: "dkd: epochs over which TCKD and NCKD ramp up from 0.") var dkdWarmupEpochs: Double = 0
    @Option(help: "FitNets hint studentPath:teacherPath (a 1x1 adapter and MSE); repeatable.") var hint: [String] = []
    @Option(help: "Weight of each hint's MSE.") var hintWeight: Float = 1
    @Option(help: "Attention-transfer pair studentPath:teacherPath; repeatable.") var attention: [String] = []
    @Option(help: "Attention-transfer beta (each pair adds beta/2 * mean squared map difference).") var attentionBeta: Float = 1000
    @Option(help: "Folder of the teacher-logits cache (default: .teacher-cache next to the run folder).")
    var teacherCacheDir: String?
    @Flag(help: "Run the teachers every step instead of caching their logits.") var noTeacherCache = false

    @OptionGroup var training: TrainingOptions

    func validate() throws {
        guard !teacher.isEmpty else { throw ValidationError("give at least one --teacher checkpoint") }
        guard training.out != nil else { throw ValidationError("--out is required") }
    }

    func run() throws {
        let model = try ModelOptions.config(model: student, width: width, depth: depth, dropout: dropout, initSeed: initSeed)
        do {
            let config = try training.config(model: model)
            let settings = DistillationSettings(
                loss: loss, temperature: temperature, alpha: alpha, dkdAlpha: dkdAlpha, dkdBeta: dkdBeta,
                dkdWarmupEpochs: dkdWarmupEpochs, hints: try hint.map(LayerPair.init(parsing:)), hintWeight: hintWeight,
                attention: try attention.map(LayerPair.init(parsing:)), attentionBeta: attentionBeta)
            let cacheDirectory = noTeacherCache ? nil : URL(fileURLWithPath: teacherCacheDir
                ?? training.outDirectory.standardizedFileURL.deletingLastPathComponent().appendingPathComponent(".teacher-cache").path)
            let run = try DistillationRun(
                config: config, settings: settings, teachers: teacher.map { URL(fileURLWithPath: $0) }, data: training.data,
                dataDirectory: training.dataDirectory, trainSubset: training.trainSubset, augmentation: training.augmentation,
                directory: training.outDirectory, cacheDirectory: cacheDirectory)
            let trainer = run.training.trainer
            print("\(student): \(trainer.model.parameterCount) parameters; \(run.training.trainLoader.dataset.count) training images, \(run.training.trainLoader.batchesPerEpoch) steps per epoch")
            print("teachers: \(teacher.joined(separator: ", ")); teacher logits: \(run.manifest.teacherLogits)")
            try run.start(observer: ProgressPrinter(style: training.progress))
            print("run folder: \(training.outDirectory.path)")
        } catch let error as CustomStringConvertible & Error {
            throw CLIError(message: error.description)
        }
    }
}
