import MinnowTensor

/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay,
/// with PyTorch's update rule (`torch.optim.SGD`, dampening 0):
/// `g += wd * p; b = mu * b + g (b = g at the first step); g = nesterov ? g + mu * b : b; p -= lr * g`.
public final class SGD: Optimizer {
    public var learningRate: Float
    /// Momentum factor `mu` (schedules such as one-cycle may change it).
    public var momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public var slots: [String: [String: Tensor]] = [:]
    public var stepCount = 0

    public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        require(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: [(path: String, parameter: Parameter)]) {
        stepCount += 1
        let (lr, mu, wd, nesterov) = (learningRate, momentum, weightDecay, nesterov)
        for (path, parameter) in parameters {
            guard let grad = parameter.grad else { continue }
            let hasBuffer = slots[path]?["momentum"] != nil
            var buffer = slots[path]?["momentum"] ?? Tensor.zeros(parameter.shape)
            grad.withUnsafePointer { g in
                buffer.withUnsafeMutablePointer { b in
                    parameter.update { p, n in
                        for i in 0..<n {
                            var d = g[i] + wd * p[i]
                            if mu != 0 {
                                b[i] = hasBuffer ? mu * b[i] + d : d
                                d = nesterov ? d + mu * b[i] : b[i]
                            }
                            p[i] -= lr * d
                        }
                    }
                }
            }
            if mu != 0 { slots[path, default: [:]]["momentum"] = buffer }
        }
    }
}
