import RealModule

/// A learning-rate schedule: the rate (and optionally the momentum) for a given step,
/// counted from 0. Stateless, so resuming only needs the step number.
public protocol LearningRateSchedule: Sendable {
    /// Learning rate for `step`.
    func learningRate(at step: Int) -> Float
    /// Momentum for `step`, for schedules that cycle it (one-cycle); nil leaves it alone.
    func momentum(at step: Int) -> Float?
}

extension LearningRateSchedule {
    public func momentum(at step: Int) -> Float? { nil }

    /// Sets the optimizer's learning rate (and SGD momentum, where the schedule cycles it) for `step`.
    public func apply(to optimizer: Optimizer, step: Int) {
        optimizer.learningRate = learningRate(at: step)
        if let momentum = momentum(at: step), let sgd = optimizer as? SGD { sgd.momentum = momentum }
    }
}

/// A fixed rate.
public struct ConstantSchedule: LearningRateSchedule {
    public let rate: Float
    public init(rate: Float) { self.rate = rate }
    public func learningRate(at step: Int) -> Float { rate }
}

/// `base * gamma^(step / stepSize)`, as `torch.optim.lr_scheduler.StepLR` stepped per iteration.
public struct StepSchedule: LearningRateSchedule {
    public let base: Float, gamma: Float, stepSize: Int
    public init(base: Float, stepSize: Int, gamma: Float = 0.1) {
        self.base = base
        self.stepSize = max(1, stepSize)
        self.gamma = gamma
    }
    public func learningRate(at step: Int) -> Float { base * Float.pow(gamma, Float(step / stepSize)) }
}

/// Linear warmup from `base * warmupStartFactor` to `base` over `warmupSteps`, then cosine decay
/// to `minimum` at `totalSteps` (SGDR without restarts, Loshchilov & Hutter 2017).
public struct CosineSchedule: LearningRateSchedule {
    public let base: Float, minimum: Float, warmupSteps: Int, totalSteps: Int, warmupStartFactor: Float
    public init(base: Float, totalSteps: Int, warmupSteps: Int = 0, minimum: Float = 0, warmupStartFactor: Float = 0.01) {
        self.base = base
        self.totalSteps = max(1, totalSteps)
        self.warmupSteps = warmupSteps
        self.minimum = minimum
        self.warmupStartFactor = warmupStartFactor
    }
    public func learningRate(at step: Int) -> Float {
        if step < warmupSteps {
            let fraction = Float(step) / Float(warmupSteps)
            return base * (warmupStartFactor + (1 - warmupStartFactor) * fraction)
        }
        let progress = min(1, Float(step - warmupSteps) / Float(max(1, totalSteps - warmupSteps)))
        return minimum + (base - minimum) * 0.5 * (1 + Float.cos(Float.pi * progress))
    }
}

/// The one-cycle policy (Smith & Topin 2018) exactly as `torch.optim.lr_scheduler.OneCycleLR`
/// with its defaults: cosine annealing from `maxRate / divFactor` up to `maxRate` over
/// `pctStart` of the steps, then down to `maxRate / divFactor / finalDivFactor`, with momentum
/// cycled inversely between `maxMomentum` and `baseMomentum`.
public struct OneCycleSchedule: LearningRateSchedule {
    public let maxRate: Float, totalSteps: Int, pctStart: Float, divFactor: Float, finalDivFactor: Float
    public let baseMomentum: Float, maxMomentum: Float, cyclesMomentum: Bool

    public init(maxRate: Float, totalSteps: Int, pctStart: Float = 0.3, divFactor: Float = 25,
                finalDivFactor: Float = 1e4, baseMomentum: Float = 0.85, maxMomentum: Float = 0.95,
                cyclesMomentum: Bool = true) {
        self.maxRate = maxRate
        self.totalSteps = max(2, totalSteps)
        self.pctStart = pctStart
        self.divFactor = divFactor
        self.finalDivFactor = finalDivFactor
        self.baseMomentum = baseMomentum
        self.maxMomentum = maxMomentum
        self.cyclesMomentum = cyclesMomentum
    }

    private var warmupEnd: Float { pctStart * Float(totalSteps) - 1 }

    private func anneal(_ start: Float, _ end: Float, _ pct: Float) -> Float {
        end + (start - end) / 2 * (Float.cos(Float.pi * pct) + 1)
    }

    /// Position in the cycle: (phase 0 or 1, fraction of that phase done).
    private func phase(_ step: Int) -> (Int, Float) {
        let s = Float(min(step, totalSteps - 1))
        if s <= warmupEnd { return (0, warmupEnd > 0 ? s / warmupEnd : 1) }
        return (1, (s - warmupEnd) / (Float(totalSteps - 1) - warmupEnd))
    }

    public func learningRate(at step: Int) -> Float {
        let initial = maxRate / divFactor, final = initial / finalDivFactor
        let (phase, pct) = phase(step)
        return phase == 0 ? anneal(initial, maxRate, pct) : anneal(maxRate, final, pct)
    }

    public func momentum(at step: Int) -> Float? {
        guard cyclesMomentum else { return nil }
        let (phase, pct) = phase(step)
        return phase == 0 ? anneal(maxMomentum, baseMomentum, pct) : anneal(baseMomentum, maxMomentum, pct)
    }
}
