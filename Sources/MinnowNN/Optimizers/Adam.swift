import MinnowTensor
import RealModule

/// Adam (Kingma & Ba, 2015) with PyTorch's update rule (`torch.optim.Adam`, L2 weight decay added
/// to the gradient) or, with `decoupledWeightDecay`, AdamW (Loshchilov & Hutter, 2019:
/// `p -= lr * wd * p` before the Adam step, as `torch.optim.AdamW`).
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    public let weightDecay: Float
    public let decoupledWeightDecay: Bool
    public var slots: [String: [String: Tensor]] = [:]
    public var stepCount = 0

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW: Adam with decoupled weight decay (PyTorch's default decay 0.01).
    public static func adamW(learningRate: Float = 1e-3, weightDecay: Float = 0.01) -> Adam {
        Adam(learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public func step(_ parameters: [(path: String, parameter: Parameter)]) {
        stepCount += 1
        let t = Float(stepCount)
        let correction1 = 1 - Float.pow(beta1, t), correction2 = 1 - Float.pow(beta2, t)
        let (lr, b1, b2, eps, wd, decoupled) = (learningRate, beta1, beta2, epsilon, weightDecay, decoupledWeightDecay)
        for (path, parameter) in parameters {
            guard let grad = parameter.grad else { continue }
            var m = slots[path]?["exp_avg"] ?? Tensor.zeros(parameter.shape)
            var v = slots[path]?["exp_avg_sq"] ?? Tensor.zeros(parameter.shape)
            grad.withUnsafePointer { g in
                m.withUnsafeMutablePointer { m in
                    v.withUnsafeMutablePointer { v in
                        parameter.update { p, n in
                            for i in 0..<n {
                                var d = g[i]
                                if decoupled { p[i] -= lr * wd * p[i] } else { d += wd * p[i] }
                                m[i] = b1 * m[i] + (1 - b1) * d
                                v[i] = b2 * v[i] + (1 - b2) * d * d
                                let denominator = (v[i] / correction2).squareRoot() + eps
                                p[i] -= lr / correction1 * m[i] / denominator
                            }
                        }
                    }
                }
            }
            slots[path, default: [:]]["exp_avg"] = m
            slots[path, default: [:]]["exp_avg_sq"] = v
        }
    }
}
