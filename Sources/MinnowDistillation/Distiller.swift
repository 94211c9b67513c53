import MinnowData
import MinnowNN
import MinnowTensor
import MinnowTraining

/// What to distill and how: the response loss with its hyperparameters, and the layer pairs of
/// the feature losses. Saved as `distillation.json` in the run folder.
public struct DistillationSettings: ForwardCompatible, Equatable, Sendable {
    public static let requiredKeys: Set<String> = []
    /// The response-based part of the objective.
    public enum ResponseLoss: String, Codable, Sendable, CaseIterable {
        /// Cross-entropy only: no teacher logits (for feature losses alone).
        case ce
        /// Hinton et al. 2015 soft targets (`HintonKD`).
        case kd
        /// Decoupled KD, Zhao et al. 2022 (`DecoupledKD`).
        case dkd
    }

    /// The response loss.
    public var loss: ResponseLoss
    /// Softmax temperature of `kd` and `dkd`.
    public var temperature: Float
    /// `kd`: weight of the soft-target term (the hard-label term gets `1 - alpha`).
    public var alpha: Float
    /// `dkd`: weights of TCKD and NCKD, and the epochs over which they ramp up.
    public var dkdAlpha: Float, dkdBeta: Float, dkdWarmupEpochs: Double
    /// FitNets hint pairs and the weight of each hint's MSE.
    public var hints: [LayerPair]
    public var hintWeight: Float
    /// Attention-transfer pairs and their beta (the loss of a pair is `beta / 2` times a mean square).
    public var attention: [LayerPair]
    public var attentionBeta: Float

    public init(loss: ResponseLoss = .kd, temperature: Float = 4, alpha: Float = 0.9, dkdAlpha: Float = 1,
                dkdBeta: Float = 8, dkdWarmupEpochs: Double = 0, hints: [LayerPair] = [], hintWeight: Float = 1,
                attention: [LayerPair] = [], attentionBeta: Float = 1000) {
        self.loss = loss
        self.temperature = temperature
        self.alpha = alpha
        self.dkdAlpha = dkdAlpha
        self.dkdBeta = dkdBeta
        self.dkdWarmupEpochs = dkdWarmupEpochs
        self.hints = hints
        self.hintWeight = hintWeight
        self.attention = attention
        self.attentionBeta = attentionBeta
    }

    /// Decodes settings; a field missing from an older file takes its default (`init()`'s).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
        self.init(loss: try c.decode(.loss, or: d.loss), temperature: try c.decode(.temperature, or: d.temperature), alpha: try c.decode(.alpha, or: d.alpha),
                  dkdAlpha: try c.decode(.dkdAlpha, or: d.dkdAlpha), dkdBeta: try c.decode(.dkdBeta, or: d.dkdBeta),
                  dkdWarmupEpochs: try c.decode(.dkdWarmupEpochs, or: d.dkdWarmupEpochs), hints: try c.decode(.hints, or: d.hints),
                  hintWeight: try c.decode(.hintWeight, or: d.hintWeight), attention: try c.decode(.attention, or: d.attention),
                  attentionBeta: try c.decode(.attentionBeta, or: d.attentionBeta))
    }

    /// The response losses and attention transfer these settings describe.
    public var hintonKD: HintonKD { HintonKD(temperature: temperature, alpha: alpha) }
    public var decoupledKD: DecoupledKD {
        DecoupledKD(temperature: temperature, alpha: dkdAlpha, beta: dkdBeta, warmupEpochs: dkdWarmupEpochs)
    }
    public var attentionTransfer: AttentionTransfer { AttentionTransfer(beta: attentionBeta) }

    /// Whether the objective uses the teachers' logits.
    public var needsTeacherLogits: Bool { loss != .ce }
    /// Whether the objective uses teacher features (then the teacher runs online every step).
    public var needsTeacherFeatures: Bool { !hints.isEmpty || !attention.isEmpty }

    /// Checks every value; the error names the setting and the value.
    public func validate() throws(DistillationError) {
        try hintonKD.validate()
        try decoupledKD.validate()
        try attentionTransfer.validate()
        guard hintWeight >= 0, hintWeight.isFinite else { throw .invalidSetting("hint weight must be >= 0, got \(hintWeight)") }
        guard loss != .ce || needsTeacherFeatures else {
            throw .invalidSetting("the ce loss uses no teacher: add a hint or attention pair, or train without a teacher")
        }
    }
}

/// A distillation objective for a `Trainer`: teacher logits (online or cached), the response loss,
/// FitNets hints and attention transfer, each logged as a separate loss term.
///
/// ```swift
/// let distiller = try Distiller(settings: settings, student: trainer.model, inputShape: [28, 28, 1],
///                               teachers: TeacherEnsemble(checkpoints: [teacherURL]))
/// distiller.install(on: trainer, stepsPerEpoch: loader.batchesPerEpoch)
/// try distiller.capturingStudentFeatures {
///     try trainer.trainEpoch(batches: loader.epoch(0), steps: loader.batchesPerEpoch, testBatches: [Batch]?.none, observer: nil)
/// }
/// ```
///
/// Layer paths are checked at init, by one forward pass of each model on a zero image: a path
/// that names no capturable layer, or pairs whose heights and widths differ, throw before training.
public final class Distiller {
    public let settings: DistillationSettings
    /// The teachers (feature losses use the first one's features).
    public let teachers: TeacherEnsemble
    /// The cached teacher logits; nil when the teachers run online.
    public private(set) var cache: TeacherCache?
    /// The FitNets adapters (trained with the student).
    public let adapters: DistillationAdapters
    private let studentRecorder: FeatureRecorder?
    private let teacherRecorder: FeatureRecorder?

    /// A distiller for `student` (taking `inputShape` images), with the teachers running online.
    /// `seed` initializes the adapters.
    public init(settings: DistillationSettings, student: any Layer, inputShape: [Int], teachers: TeacherEnsemble,
                seed: UInt64 = 0) throws(DistillationError) {
        try settings.validate()
        let pairs = settings.hints + settings.attention
        var hints: [FitNetsHint] = []
        if !pairs.isEmpty {
            let teacher = teachers.members[0].model
            let studentShapes = FeatureRecorder.capturableShapes(of: student, inputShape: inputShape)
            let teacherShapes = FeatureRecorder.capturableShapes(of: teacher, inputShape: inputShape)
            let (studentPaths, teacherPaths) = (Self.modulePaths(student), Self.modulePaths(teacher))
            var generator = SeededGenerator(seed: seed)
            for (index, pair) in pairs.enumerated() {
                let s = try LayerPaths.shape(of: pair.student, in: studentShapes, modulePaths: studentPaths, model: "student")
                let t = try LayerPaths.shape(of: pair.teacher, in: teacherShapes, modulePaths: teacherPaths, model: "teacher")
                let kind = index < settings.hints.count ? "hint" : "attention"
                guard s.count == 3, t.count == 3, s[0] == t[0], s[1] == t[1] else {
                    throw .shapeMismatch("\(kind) \(pair): the student's \(pair.student) outputs \(s) and the teacher's "
                        + "\(pair.teacher) outputs \(t) per image; the pair needs feature maps [H, W, C] of the same height and width")
                }
                if kind == "hint" {
                    hints.append(FitNetsHint(pair: pair, studentChannels: s[2], teacherChannels: t[2], generator: &generator))
                }
            }
        }
        self.settings = settings
        self.teachers = teachers
        adapters = DistillationAdapters(hints: hints)
        studentRecorder = pairs.isEmpty ? nil : FeatureRecorder(model: student, paths: Set(pairs.map(\.student)))
        teacherRecorder = pairs.isEmpty ? nil : FeatureRecorder(model: teachers.members[0].model, paths: Set(pairs.map(\.teacher)))
    }

    /// Takes the teacher logits from `cache` instead of running the teachers (only for logit losses:
    /// feature losses need the teacher online).
    public func useCache(_ cache: TeacherCache) throws(DistillationError) {
        guard !settings.needsTeacherFeatures else {
            throw .invalidSetting("feature losses need the teacher's features every step: the teacher runs online, without a logits cache")
        }
        guard cache.logits.rank == 2, cache.logits.shape[1] == teachers.classes else {
            throw .cache("\(cache.url.path) holds logits \(cache.logits.shape), the teachers predict \(teachers.classes) classes")
        }
        self.cache = cache
    }

    /// Makes `trainer` optimize this objective and train the adapters with its model (which must be
    /// the student given at init). `stepsPerEpoch` converts steps to epochs for the DKD warmup.
    public func install(on trainer: Trainer, stepsPerEpoch: Int) {
        trainer.auxiliaryModules = adapters.hints.isEmpty ? [] : [(name: "distillation", module: adapters)]
        let smoothing = trainer.config.labelSmoothing
        trainer.objective = { [unowned trainer] logits, batch in
            try self.loss(studentLogits: logits, batch: batch, labelSmoothing: smoothing,
                      epochProgress: Double(trainer.globalStep) / Double(max(stepsPerEpoch, 1)))
        }
    }

    /// Runs `body` (the training loop) with the student's feature recorder active: feature losses
    /// read the student's layers from the forward passes made inside it.
    public func capturingStudentFeatures<R>(_ body: () throws -> R) rethrows -> R {
        guard let studentRecorder else { return try body() }
        return try studentRecorder.capture(body)
    }

    /// The objective for the student's `studentLogits` on `batch`: the sum of the weighted terms,
    /// and each term's value by name. `epochProgress` (epochs done, fractional) drives the DKD warmup.
    /// Throws when a feature loss finds no captured student feature (the forward pass ran outside
    /// `capturingStudentFeatures`).
    public func loss(studentLogits: Tensor, batch: Batch, labelSmoothing: Float = 0,
                     epochProgress: Double = .infinity) throws(DistillationError) -> (loss: Tensor, terms: [String: Float]) {
        var teacherLogits: Tensor?
        if let cache {
            teacherLogits = cache.logits(for: batch.indices)
        } else {
            teacherRecorder?.removeAll()
            teacherLogits = teachers.logits(batch.images, recorder: teacherRecorder)
        }
        var terms: [LossTerm]
        switch settings.loss {
        case .ce:
            terms = [LossTerm("ce", crossEntropy(logits: studentLogits, labels: batch.labels, labelSmoothing: labelSmoothing))]
        case .kd:
            terms = settings.hintonKD.terms(studentLogits: studentLogits, teacherLogits: teacherLogits!, labels: batch.labels,
                                            labelSmoothing: labelSmoothing)
        case .dkd:
            terms = settings.decoupledKD.terms(studentLogits: studentLogits, teacherLogits: teacherLogits!, labels: batch.labels,
                                               labelSmoothing: labelSmoothing, epochProgress: epochProgress)
        }
        for hint in adapters.hints {
            let (s, t) = try features(of: hint.pair)
            terms.append(LossTerm("hint[\(hint.pair)]", hint(studentFeature: s, teacherFeature: t) * settings.hintWeight))
        }
        for pair in settings.attention {
            let (s, t) = try features(of: pair)
            terms.append(LossTerm("at[\(pair)]", settings.attentionTransfer(studentFeature: s, teacherFeature: t)))
        }
        studentRecorder?.removeAll()
        let total = terms.dropFirst().reduce(terms[0].value) { $0 + $1.value }
        return (total, Dictionary(terms.map { ($0.name, $0.value.item) }, uniquingKeysWith: +))
    }

    /// The captured student and teacher features of a pair, from this step's forward passes.
    private func features(of pair: LayerPair) throws(DistillationError) -> (student: Tensor, teacher: Tensor) {
        guard let student = studentRecorder?.features[pair.student] else {
            throw .notCaptured("the student's \(pair.student) was not captured in this step: run training inside Distiller.capturingStudentFeatures { }")
        }
        guard let teacher = teacherRecorder?.features[pair.teacher] else {
            throw .notCaptured("the teacher's \(pair.teacher) was not captured in this step: feature losses need the teacher online")
        }
        return (student, teacher)
    }

    private static func modulePaths(_ model: Module) -> Set<String> {
        var paths: Set<String> = []
        model.visitModules { path, _ in paths.insert(path) }
        return paths
    }
}
