import Foundation
import MinnowTensor

/// One named, weighted term of a distillation objective; the objective's loss is the sum of its terms.
public struct LossTerm {
    /// The name logged for the term (`ce`, `kd`, `tckd`, `nckd`, `hint[a:b]`, `at[a:b]`).
    public let name: String
    /// The weighted value (a scalar in the autodiff graph).
    public let value: Tensor

    public init(_ name: String, _ value: Tensor) {
        self.name = name
        self.value = value
    }
}

/// Knowledge distillation with soft targets (Hinton, Vinyals & Dean, 2015, "Distilling the Knowledge
/// in a Neural Network", arXiv:1503.02531):
///
///     loss = alpha * T² * KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) * CE(s, labels)
///
/// for student logits `s`, teacher logits `t` and temperature `T`; the KL term is the batch mean
/// (`klDivergence`, equal to PyTorch's `F.kl_div(..., reduction="batchmean") * T * T`). The T² factor
/// keeps the soft-target gradients at the scale of the hard-label ones when T changes (§2 of the paper).
public struct HintonKD: Codable, Equatable, Sendable {
    /// Softmax temperature T > 0 (the paper's experiments use 1 to 20; 4 is common for small models).
    public var temperature: Float
    /// Weight of the soft-target term, in [0, 1]; the hard-label term gets `1 - alpha`.
    public var alpha: Float

    public init(temperature: Float = 4, alpha: Float = 0.9) {
        self.temperature = temperature
        self.alpha = alpha
    }

    /// Checks the temperature and alpha.
    public func validate() throws(DistillationError) {
        try checkTemperature(temperature)
        guard alpha >= 0, alpha <= 1 else { throw .invalidSetting("alpha must be in [0, 1], got \(alpha)") }
    }

    /// The terms `kd` (`alpha * T² KL`) and `ce` (`(1 - alpha) * CE`, with label smoothing if given).
    public func terms(studentLogits: Tensor, teacherLogits: Tensor, labels: [Int], labelSmoothing: Float = 0) -> [LossTerm] {
        [LossTerm("ce", crossEntropy(logits: studentLogits, labels: labels, labelSmoothing: labelSmoothing) * (1 - alpha)),
         LossTerm("kd", klDivergence(studentLogits: studentLogits, teacherLogits: teacherLogits, temperature: temperature) * alpha)]
    }
}

/// Decoupled knowledge distillation (Zhao, Cui, Song, Qiu & Liang, CVPR 2022, "Decoupled Knowledge
/// Distillation", arXiv:2203.08679), as in the authors' reference code (mdistiller `dkd_loss`):
///
///     loss = CE(s, labels) + warmup * (alpha * TCKD + beta * NCKD)
///     TCKD = T² * mean_n KL(b_t || b_s),  b = [p_target, 1 - p_target] of softmax(logits / T)
///     NCKD = T² * mean_n KL(p̂_t || p̂_s),  p̂ = softmax over the non-target classes of logits / T
///
/// Classical KD equals `TCKD + (1 - p_target_t) * NCKD`: the weight of the non-target term shrinks
/// exactly where the teacher is confident, which is most of a well-trained teacher's training set.
/// DKD frees that weight (beta = 8 in the paper), and gains on CIFAR-100 and ImageNet over KD with
/// the same cost per step (one more softmax): chosen here because Fashion-MNIST teachers are very
/// confident on their training images, the case DKD addresses. The non-target softmax subtracts
/// 1000 from the target logit as the reference code does; `warmup` ramps the distillation terms
/// linearly from 0 to 1 over `warmupEpochs` (the reference code uses 20 of 240 epochs on CIFAR).
public struct DecoupledKD: Codable, Equatable, Sendable {
    /// Softmax temperature T > 0 (4 in the paper's CIFAR-100 experiments).
    public var temperature: Float
    /// Weight of the target-class term TCKD (the paper's alpha, 1 by default).
    public var alpha: Float
    /// Weight of the non-target-class term NCKD (the paper's beta, 8 by default).
    public var beta: Float
    /// Epochs over which the TCKD and NCKD weights ramp up linearly from 0 (0: no ramp).
    public var warmupEpochs: Double

    public init(temperature: Float = 4, alpha: Float = 1, beta: Float = 8, warmupEpochs: Double = 0) {
        self.temperature = temperature
        self.alpha = alpha
        self.beta = beta
        self.warmupEpochs = warmupEpochs
    }

    /// Checks the temperature and the weights.
    public func validate() throws(DistillationError) {
        try checkTemperature(temperature)
        guard alpha >= 0, beta >= 0, alpha.isFinite, beta.isFinite else {
            throw .invalidSetting("DKD weights must be finite and >= 0, got alpha \(alpha), beta \(beta)")
        }
        guard warmupEpochs >= 0 else { throw .invalidSetting("DKD warmup epochs must be >= 0, got \(warmupEpochs)") }
    }

    /// The terms `ce`, `tckd` and `nckd` (weighted; `epochProgress` is the number of epochs done,
    /// fractional, for the warmup).
    public func terms(studentLogits: Tensor, teacherLogits: Tensor, labels: [Int], labelSmoothing: Float = 0,
                      epochProgress: Double = .infinity) -> [LossTerm] {
        let warmup = warmupEpochs > 0 ? Float(min(epochProgress / warmupEpochs, 1)) : 1
        return [LossTerm("ce", crossEntropy(logits: studentLogits, labels: labels, labelSmoothing: labelSmoothing)),
                LossTerm("tckd", Self.targetClassKL(studentLogits: studentLogits, teacherLogits: teacherLogits,
                                                    labels: labels, temperature: temperature) * (warmup * alpha)),
                LossTerm("nckd", Self.nonTargetClassKL(studentLogits: studentLogits, teacherLogits: teacherLogits,
                                                       labels: labels, temperature: temperature) * (warmup * beta))]
    }

    /// TCKD: `T² * mean_n KL([p_t, 1 - p_t] of the teacher || the same of the student)` at temperature T.
    public static func targetClassKL(studentLogits: Tensor, teacherLogits: Tensor, labels: [Int], temperature: Float) -> Tensor {
        checkLogits(studentLogits, teacherLogits, labels, temperature)
        let (target, other) = masks(labels: labels, classes: studentLogits.shape[1])
        let logStudent = logSoftmax(studentLogits * (1 / temperature), axis: 1)
        let studentTarget = (logStudent * target).sum(axes: [1])
        let studentOther = (logStudent.exp() * other).sum(axes: [1]).log()
        let teacher = withoutGrad { softmax(teacherLogits.detached() * (1 / temperature), axis: 1) }
        let teacherTarget = withoutGrad { (teacher * target).sum(axes: [1]) }
        let teacherOther = withoutGrad { (teacher * other).sum(axes: [1]) }
        // KL(b_t || b_s) = sum b_t log b_t - sum b_t log b_s; the first sum is a constant.
        let entropyPart = zip(teacherTarget.scalars, teacherOther.scalars).reduce(Float(0)) { $0 + xLogX($1.0) + xLogX($1.1) }
        let crossPart = (teacherTarget * studentTarget + teacherOther * studentOther).sum()
        let scale = temperature * temperature / Float(labels.count)
        return (entropyPart - crossPart) * scale
    }

    /// NCKD: `T² * mean_n KL(teacher || student)` over the non-target classes, each renormalized.
    public static func nonTargetClassKL(studentLogits: Tensor, teacherLogits: Tensor, labels: [Int], temperature: Float) -> Tensor {
        checkLogits(studentLogits, teacherLogits, labels, temperature)
        let (target, _) = masks(labels: labels, classes: studentLogits.shape[1])
        let logStudent = logSoftmax(studentLogits * (1 / temperature) - target * 1000, axis: 1)
        let logTeacher = withoutGrad { logSoftmax(teacherLogits.detached() * (1 / temperature) - target * 1000, axis: 1) }
        let teacher = withoutGrad { logTeacher.exp() }
        let entropyPart = withoutGrad { (teacher * logTeacher).sum() }.item
        let scale = temperature * temperature / Float(labels.count)
        return (entropyPart - (teacher * logStudent).sum()) * scale
    }

    /// One-hot masks of the target class and of the other classes, `[N, C]`.
    static func masks(labels: [Int], classes: Int) -> (target: Tensor, other: Tensor) {
        var target = [Float](repeating: 0, count: labels.count * classes)
        for (row, label) in labels.enumerated() { target[row * classes + label] = 1 }
        return (Tensor(shape: [labels.count, classes], scalars: target),
                Tensor(shape: [labels.count, classes], scalars: target.map { 1 - $0 }))
    }

    static func checkLogits(_ student: Tensor, _ teacher: Tensor, _ labels: [Int], _ temperature: Float) {
        checked { () throws(ShapeError) in
            try Shapes.klDivergence(student: student.shape, teacher: teacher.shape, temperature: temperature)
            try Shapes.crossEntropy(logits: student.shape, labels: labels, labelSmoothing: 0)
        }
    }
}

/// `x log x`, with `0 log 0 = 0`.
func xLogX(_ x: Float) -> Float { x > 0 ? x * log(x) : 0 }

func checkTemperature(_ temperature: Float) throws(DistillationError) {
    guard temperature > 0, temperature.isFinite else {
        throw .invalidSetting("temperature must be positive and finite, got \(temperature)")
    }
}
