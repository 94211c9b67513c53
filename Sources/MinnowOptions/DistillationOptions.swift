import ArgumentParser
import Foundation
import MinnowDistillation
import MinnowModels
import MinnowWorkflows

/// The student and the objective of `distill`: which student, the response and feature losses, and
/// the teacher-logits cache. Every objective option is optional, so a resumed run can tell which
/// were given; an option not given takes `DistillationSettings`' default.
public struct DistillationOptions: ParsableArguments {
    public init() {}

    private static let defaults = DistillationSettings()

    @Option(help: "The student: a preset (\(ModelConfig.presetNames.joined(separator: ", "))) or an architecture (\(ModelConfig.Architecture.allCases.map(\.rawValue).joined(separator: ", "))).")
    public var student: String?
    @Option(help: "Width multiplier of the student architecture.") public var width: Float?
    @Option(help: "ResNet depth of the student, 6n+2.") public var depth: Int?
    @Option(help: "Dropout before the student's classifier.") public var dropout: Float?
    @Option(help: "Seed of the student's weight initialization (default: 0).") public var initSeed: UInt64?

    @Option(help: "Response loss: kd, dkd, or ce (feature losses only) (default: kd).") public var loss: DistillationSettings.ResponseLoss?
    @Option(help: "Softmax temperature (kd, dkd) (default: \(Self.defaults.temperature)).") public var temperature: Float?
    @Option(help: "kd: weight of the soft-target term, in [0, 1]; the label term gets 1 - alpha (default: \(Self.defaults.alpha)).")
    public var alpha: Float?
    @Option(help: "dkd: weight of the target-class term TCKD (default: \(Self.defaults.dkdAlpha)).") public var dkdAlpha: Float?
    @Option(help: "dkd: weight of the non-target-class term NCKD (default: \(Self.defaults.dkdBeta)).") public var dkdBeta: Float?
    @Option(help: "dkd: epochs over which TCKD and NCKD ramp up from 0 (default: 0).") public var dkdWarmupEpochs: Double?
    @Option(help: "FitNets hint studentPath:teacherPath (a 1x1 adapter and MSE); repeatable.") public var hint: [String] = []
    @Option(help: "Weight of each hint's MSE (default: \(Self.defaults.hintWeight)).") public var hintWeight: Float?
    @Option(help: "Attention-transfer pair studentPath:teacherPath; repeatable.") public var attention: [String] = []
    @Option(help: "Attention-transfer beta; each pair adds beta/2 * mean squared map difference (default: \(Self.defaults.attentionBeta)).")
    public var attentionBeta: Float?
    @Option(help: "Folder of the teacher-logits cache (default: .teacher-cache next to the run folder).")
    public var teacherCacheDir: String?
    @Flag(help: "Run the teachers every step instead of caching their logits.") public var noTeacherCache = false

    /// Checks the range of every number given, naming the flag.
    public func validate() throws {
        try ModelOptions.validate(width: width, depth: depth, dropout: dropout)
        try OptionCheck.positive("--temperature", temperature)
        try OptionCheck.fraction("--alpha", alpha, includingUpper: true)
        for (flag, value) in [("--dkd-alpha", dkdAlpha), ("--dkd-beta", dkdBeta), ("--hint-weight", hintWeight), ("--attention-beta", attentionBeta)] {
            try OptionCheck.nonNegative(flag, value)
        }
        try OptionCheck.nonNegative("--dkd-warmup-epochs", dkdWarmupEpochs)
    }

    /// The student and objective options given (a resumed run keeps its saved ones).
    public var given: [String] {
        [
            ("--student", student != nil), ("--width", width != nil), ("--depth", depth != nil), ("--dropout", dropout != nil),
            ("--init-seed", initSeed != nil), ("--loss", loss != nil), ("--temperature", temperature != nil),
            ("--alpha", alpha != nil), ("--dkd-alpha", dkdAlpha != nil), ("--dkd-beta", dkdBeta != nil),
            ("--dkd-warmup-epochs", dkdWarmupEpochs != nil), ("--hint", !hint.isEmpty), ("--hint-weight", hintWeight != nil),
            ("--attention", !attention.isEmpty), ("--attention-beta", attentionBeta != nil),
        ].filter(\.1).map(\.0)
    }

    /// The student's model: `--student` with its size options.
    public func studentConfig() throws -> ModelConfig {
        guard let student else { throw ValidationError("--student is required") }
        return try ModelOptions.config(model: student, width: width, depth: depth, dropout: dropout, initSeed: initSeed ?? 0)
    }

    /// The objective: the options given, `DistillationSettings`' defaults for the rest.
    public func settings() throws -> DistillationSettings {
        let defaults = Self.defaults
        return DistillationSettings(
            loss: loss ?? defaults.loss, temperature: temperature ?? defaults.temperature, alpha: alpha ?? defaults.alpha,
            dkdAlpha: dkdAlpha ?? defaults.dkdAlpha, dkdBeta: dkdBeta ?? defaults.dkdBeta,
            dkdWarmupEpochs: dkdWarmupEpochs ?? defaults.dkdWarmupEpochs, hints: try hint.map(LayerPair.init(parsing:)),
            hintWeight: hintWeight ?? defaults.hintWeight, attention: try attention.map(LayerPair.init(parsing:)),
            attentionBeta: attentionBeta ?? defaults.attentionBeta)
    }

    /// The teacher-logits cache folder of a run in `runFolder`; nil with `--no-teacher-cache`.
    public func cacheDirectory(runFolder: URL) -> URL? {
        noTeacherCache ? nil : teacherCacheDir.map { URL(fileURLWithPath: $0) } ?? FineTuning.teacherCache(beside: runFolder)
    }
}
