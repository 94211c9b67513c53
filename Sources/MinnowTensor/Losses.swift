import RealModule

extension Shapes {
    /// Checks `crossEntropy`: logits `[N, C]` with `N, C >= 1`, one label per row in `0..<C`,
    /// label smoothing in [0, 1].
    public static func crossEntropy(logits: [Int], labels: [Int], labelSmoothing: Float) throws(ShapeError) {
        guard logits.count == 2, logits[0] >= 1, logits[1] >= 1 else {
            throw ShapeError("crossEntropy: logits must be [N, C] with N, C >= 1, got \(logits)")
        }
        guard labels.count == logits[0] else {
            throw ShapeError("crossEntropy: \(labels.count) labels for logits \(logits) (need one per row)")
        }
        if let (sample, label) = labels.enumerated().first(where: { !(0..<logits[1]).contains($0.element) }) {
            throw ShapeError("crossEntropy: label \(label) (sample \(sample)) is out of range for \(logits[1]) classes (logits \(logits))")
        }
        guard labelSmoothing >= 0 && labelSmoothing <= 1 else {
            throw ShapeError("crossEntropy: labelSmoothing \(labelSmoothing) is outside [0, 1] (logits \(logits))")
        }
    }

    /// Checks `klDivergence`: student and teacher logits of the same shape `[N, C]`, `N >= 1`,
    /// and a positive, finite temperature.
    public static func klDivergence(student: [Int], teacher: [Int], temperature: Float) throws(ShapeError) {
        guard student.count == 2, student[0] >= 1, student == teacher else {
            throw ShapeError("klDivergence: student and teacher logits must both be [N, C] with N >= 1, got \(student) and \(teacher)")
        }
        guard temperature > 0 && temperature.isFinite else {
            throw ShapeError("klDivergence: temperature must be positive and finite, got \(temperature) (logits \(student))")
        }
    }

    /// Checks `mseLoss`: prediction and target of the same shape (no broadcasting).
    public static func mseLoss(prediction: [Int], target: [Int]) throws(ShapeError) {
        guard prediction == target else {
            throw ShapeError("mseLoss: prediction \(prediction) and target \(target) must have the same shape")
        }
    }
}

/// Mean cross-entropy of `logits` `[N, C]` against integer `labels`, as
/// `torch.nn.functional.cross_entropy(logits, labels, label_smoothing: labelSmoothing)`.
///
/// The target distribution of row `n` is `(1 - eps) * onehot(labels[n]) + eps / C` (Szegedy et al.,
/// 2016, "Rethinking the Inception Architecture"), and the loss is the batch mean of
/// `-sum(target * logSoftmax(logits))`. Log-softmax and the negative log-likelihood are fused:
/// the gradient is `(softmax(logits) - target) / N`.
public func crossEntropy(logits: Tensor, labels: [Int], labelSmoothing: Float = 0) -> Tensor {
    checked { () throws(ShapeError) in
        try Shapes.crossEntropy(logits: logits.shape, labels: labels, labelSmoothing: labelSmoothing)
    }
    let (n, c) = (logits.shape[0], logits.shape[1])
    let (onTarget, everywhere) = (1 - labelSmoothing, labelSmoothing / Float(c))
    let logProbabilities = logits.softmaxValues(axis: 1, log: true)
    let total: Double = logProbabilities.withUnsafePointer { lp in
        var total = 0.0
        for (row, label) in labels.enumerated() {
            let rowValues = lp + row * c
            var rowSum = 0.0
            for k in 0..<c { rowSum += Double(rowValues[k]) }
            total += Double(onTarget) * Double(rowValues[label]) + Double(everywhere) * rowSum
        }
        return total
    }
    let value = Tensor(Float(-total / Double(n)))
    return Tensor.record("crossEntropy", value, inputs: [logits]) { g in
        let factor = g.item / Float(n)
        return [logProbabilities.withUnsafePointer { lp in
            Tensor(shape: [n, c]) { dx in
                for (row, label) in labels.enumerated() {
                    for k in 0..<c {
                        let target = everywhere + (k == label ? onTarget : 0)
                        dx[row * c + k] = factor * (Float.exp(lp[row * c + k]) - target)
                    }
                }
            }
        }]
    }
}

/// The knowledge-distillation term of Hinton et al., 2015, "Distilling the Knowledge in a Neural
/// Network": `T² * KL(softmax(teacher / T) || softmax(student / T))`, averaged over the batch.
///
/// Equals `F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction: "batchmean") * T * T`.
/// The gradient flows to the student only (the teacher is a fixed target):
/// `T * (softmax(s / T) - softmax(t / T)) / N`.
public func klDivergence(studentLogits: Tensor, teacherLogits: Tensor, temperature: Float) -> Tensor {
    checked { () throws(ShapeError) in
        try Shapes.klDivergence(student: studentLogits.shape, teacher: teacherLogits.shape, temperature: temperature)
    }
    let (n, count) = (studentLogits.shape[0], studentLogits.count)
    let logStudent = studentLogits.softmaxValues(axis: 1, log: true, scale: 1 / temperature)
    let logTeacher = teacherLogits.softmaxValues(axis: 1, log: true, scale: 1 / temperature)
    let total: Double = logStudent.withUnsafePointer { ls in
        logTeacher.withUnsafePointer { lt in
            var total = 0.0
            for i in 0..<count { total += Double(Float.exp(lt[i])) * (Double(lt[i]) - Double(ls[i])) }
            return total
        }
    }
    let value = Tensor(Float(Double(temperature * temperature) * total / Double(n)))
    return Tensor.record("klDivergence", value, inputs: [studentLogits]) { g in
        let factor = g.item * temperature / Float(n)
        return [logStudent.withUnsafePointer { ls in
            logTeacher.withUnsafePointer { lt in
                Tensor(shape: logStudent.shape) { dx in
                    for i in 0..<count { dx[i] = factor * (Float.exp(ls[i]) - Float.exp(lt[i])) }
                }
            }
        }]
    }
}

/// Mean of the squared differences of two tensors of the same shape.
public func mseLoss(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    checked { () throws(ShapeError) in try Shapes.mseLoss(prediction: prediction.shape, target: target.shape) }
    return (prediction - target).squared().mean()
}
