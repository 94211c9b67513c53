import MinnowTensor

/// An optimizer updates parameters from their gradients. Its per-parameter state ("slots",
/// e.g. momentum buffers) is keyed by the parameter's path, so it can be saved and restored.
public protocol Optimizer: AnyObject {
    /// The learning rate of the next step (schedules set it).
    var learningRate: Float { get set }
    /// Per-parameter state: `slots[path][slotName]`.
    var slots: [String: [String: Tensor]] { get set }
    /// Steps taken.
    var stepCount: Int { get set }
    /// Applies one update to every parameter that has a gradient.
    func step(_ parameters: [(path: String, parameter: Parameter)])
}

extension Optimizer {
    /// One update of every parameter of `model`.
    public func step(_ model: Module) { step(model.namedParameters()) }
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_`; returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var total: Double = 0
    for parameter in parameters {
        guard let grad = parameter.grad else { continue }
        grad.withUnsafePointer { g in for i in 0..<grad.count { total += Double(g[i]) * Double(g[i]) } }
    }
    let norm = Float(total.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for parameter in parameters { parameter.scaleGradient(by: coefficient) }
    }
    return norm
}

extension Parameter {
    /// Multiplies the accumulated gradient by `factor`.
    func scaleGradient(by factor: Float) {
        guard let grad else { return }
        value.setGrad(withoutGrad { grad.scaled(by: factor) })
    }
}
