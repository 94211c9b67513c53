import MinnowModels
import MinnowNN

/// A complete training recipe: what to train, on what, and how. Saved in every run folder.
public struct TrainingConfig: ForwardCompatible, Equatable, Sendable {
    public static let requiredKeys: Set<String> = ["model"]
    public enum OptimizerKind: String, Codable, Sendable, CaseIterable { case sgd, adam, adamw }
    public enum ScheduleKind: String, Codable, Sendable, CaseIterable { case constant, step, cosine, onecycle }

    public var model: ModelConfig
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerKind
    /// Base (or, for one-cycle, maximum) learning rate.
    public var learningRate: Float
    public var momentum: Float
    public var nesterov: Bool
    public var weightDecay: Float
    public var schedule: ScheduleKind
    /// Warmup steps for the cosine schedule.
    public var warmupSteps: Int
    /// Step schedule: multiply by `stepGamma` every `stepEpochs` epochs.
    public var stepEpochs: Int
    public var stepGamma: Float
    /// Clip the global gradient norm to this value (nil: no clipping).
    public var clipNorm: Float?
    public var labelSmoothing: Float
    /// Seed of data order, augmentation and dropout (the model's init seed is `model.seed`).
    public var seed: UInt64

    public init(model: ModelConfig, epochs: Int = 3, batchSize: Int = 128, optimizer: OptimizerKind = .sgd,
                learningRate: Float = 0.1, momentum: Float = 0.9, nesterov: Bool = true, weightDecay: Float = 5e-4,
                schedule: ScheduleKind = .onecycle, warmupSteps: Int = 0, stepEpochs: Int = 1, stepGamma: Float = 0.1,
                clipNorm: Float? = nil, labelSmoothing: Float = 0, seed: UInt64 = 0) {
        self.model = model
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.schedule = schedule
        self.warmupSteps = warmupSteps
        self.stepEpochs = stepEpochs
        self.stepGamma = stepGamma
        self.clipNorm = clipNorm
        self.labelSmoothing = labelSmoothing
        self.seed = seed
    }

    /// Decodes a recipe; every field but `model` takes its `init` default when an older file lacks it.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Self(model: try c.decode(ModelConfig.self, forKey: .model))
        self.init(model: d.model, epochs: try c.decode(.epochs, or: d.epochs), batchSize: try c.decode(.batchSize, or: d.batchSize),
                  optimizer: try c.decode(.optimizer, or: d.optimizer), learningRate: try c.decode(.learningRate, or: d.learningRate),
                  momentum: try c.decode(.momentum, or: d.momentum), nesterov: try c.decode(.nesterov, or: d.nesterov),
                  weightDecay: try c.decode(.weightDecay, or: d.weightDecay), schedule: try c.decode(.schedule, or: d.schedule),
                  warmupSteps: try c.decode(.warmupSteps, or: d.warmupSteps), stepEpochs: try c.decode(.stepEpochs, or: d.stepEpochs),
                  stepGamma: try c.decode(.stepGamma, or: d.stepGamma), clipNorm: try c.decode(.clipNorm, or: d.clipNorm),
                  labelSmoothing: try c.decode(.labelSmoothing, or: d.labelSmoothing), seed: try c.decode(.seed, or: d.seed))
    }

    /// Checks every field; the error names the field and the value.
    public func validate() throws(TrainingError) {
        func fail(_ message: String) -> TrainingError { TrainingError.invalidConfig(message) }
        guard epochs > 0 else { throw fail("epochs must be positive, got \(epochs)") }
        guard batchSize > 0 else { throw fail("batch size must be positive, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw fail("learning rate must be positive, got \(learningRate)") }
        guard momentum >= 0, momentum < 1 else { throw fail("momentum must be in [0, 1), got \(momentum)") }
        guard !nesterov || optimizer != .sgd || momentum > 0 else { throw fail("Nesterov momentum needs momentum > 0") }
        guard weightDecay >= 0 else { throw fail("weight decay must be >= 0, got \(weightDecay)") }
        guard labelSmoothing >= 0, labelSmoothing < 1 else { throw fail("label smoothing must be in [0, 1), got \(labelSmoothing)") }
        guard clipNorm.map({ $0 > 0 }) ?? true else { throw fail("clip norm must be positive, got \(clipNorm!)") }
        guard warmupSteps >= 0, stepEpochs > 0, stepGamma > 0 else { throw fail("warmup steps must be >= 0, step epochs and gamma positive") }
    }

    /// The optimizer this recipe names.
    public func makeOptimizer() -> Optimizer {
        switch optimizer {
        case .sgd: SGD(learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        case .adam: Adam(learningRate: learningRate, weightDecay: weightDecay)
        case .adamw: Adam(learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
        }
    }

    /// The learning-rate schedule for `stepsPerEpoch` optimizer steps per epoch.
    public func makeSchedule(stepsPerEpoch: Int) -> any LearningRateSchedule {
        let total = epochs * stepsPerEpoch
        switch schedule {
        case .constant: return ConstantSchedule(rate: learningRate)
        case .step: return StepSchedule(base: learningRate, stepSize: stepEpochs * stepsPerEpoch, gamma: stepGamma)
        case .cosine: return CosineSchedule(base: learningRate, totalSteps: total, warmupSteps: warmupSteps)
        case .onecycle: return OneCycleSchedule(maxRate: learningRate, totalSteps: total, cyclesMomentum: optimizer == .sgd)
        }
    }
}

/// Why training could not start or had to stop.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(String)
    /// The loss became NaN or infinite; training stopped before applying that step.
    case nonFiniteLoss(epoch: Int, step: Int, loss: Float, lastCheckpoint: String?)
    case io(String)
    /// Inputs that do not fit the model (images of another shape, a data set of other classes).
    case mismatch(String)

    public var description: String {
        switch self {
        case .invalidConfig(let message): "invalid training config: \(message)"
        case .nonFiniteLoss(let epoch, let step, let loss, let checkpoint):
            "loss is \(loss) at epoch \(epoch), global step \(step): training stopped before that update; "
                + (checkpoint.map { "last good checkpoint kept at \($0)" } ?? "no checkpoint had been written yet")
        case .io(let message), .mismatch(let message): message
        }
    }
}
