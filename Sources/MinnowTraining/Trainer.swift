import Foundation
import MinnowData
import MinnowModels
import MinnowNN
import MinnowTensor

/// What happened in one epoch; written as one JSON line to the run's `metrics.jsonl`.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var globalStep: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var test: EvaluationResult?
    public var imagesPerSecond: Double
    public var trainSeconds: Double
    public var evalSeconds: Double
    public var learningRate: Float
    /// Mean of each named loss term over the epoch (for objectives with several terms).
    public var lossTerms: [String: Double]? = nil
    /// The epoch's result on the held-out validation images, when the run has a validation split.
    public var validation: EvaluationResult? = nil
}

/// Receives progress while a trainer runs (the CLI draws a progress bar or prints lines).
public protocol TrainingObserver: AnyObject {
    func epochStarted(epoch: Int, epochs: Int, steps: Int)
    func stepFinished(step: Int, steps: Int, loss: Float, learningRate: Float)
    func epochFinished(_ record: EpochRecord)
}

/// Runs a training recipe: the loop of forward, loss, backward, clipping, schedule and optimizer
/// steps, with per-epoch evaluation. Deterministic for a given config and thread count.
public final class Trainer {
    public let config: TrainingConfig
    /// The model; `replaceModel(_:)` swaps in an edited one (a pruned copy) between steps.
    public private(set) var model: any Layer
    /// The optimizer; replaced by `restore(from:)` with the checkpoint's.
    public internal(set) var optimizer: Optimizer
    /// Optimizer steps taken so far.
    public var globalStep = 0
    /// Epochs completed so far.
    public var completedEpochs = 0
    public var history: [EpochRecord] = []
    /// The training objective: the loss to minimize for the model's logits on a batch, and named terms to
    /// log. The default is cross-entropy with the recipe's label smoothing; another objective replaces it.
    /// An error it throws stops the epoch before the step is applied.
    public var objective: (_ logits: Tensor, _ batch: Batch) throws -> (loss: Tensor, terms: [String: Float])
    /// Trainable modules outside the model that train with it (an objective's adapters), by name: their
    /// parameters are zeroed, clipped and stepped with the model's, under the paths `name.path`.
    public var auxiliaryModules: [(name: String, module: Module)] = []
    /// Runs before every step, at `globalStep` (a pruning schedule); it may replace the model.
    public var beforeStep: ((Trainer) throws -> Void)?

    /// The parameters the optimizer updates: the model's, then the auxiliary modules'.
    public var trainedParameters: [(path: String, parameter: Parameter)] {
        model.namedParameters() + auxiliaryModules.flatMap { name, module in
            module.namedParameters().map { (path: "\(name).\($0.path)", parameter: $0.parameter) }
        }
    }

    /// A trainer for `config`, with a freshly built model unless one is given.
    public init(config: TrainingConfig, model: (any Layer)? = nil) throws {
        try config.validate()
        self.config = config
        self.model = try model ?? ModelZoo.build(config.model)
        optimizer = config.makeOptimizer()
        let smoothing = config.labelSmoothing
        objective = { logits, batch in
            (crossEntropy(logits: logits, labels: batch.labels, labelSmoothing: smoothing), [:])
        }
    }

    /// Continues training with `model` (an edited copy of the current one whose optimizer slots
    /// were already fitted to it, as `Surgery` does), in the current model's mode.
    public func replaceModel(_ model: any Layer) {
        model.train(self.model.isTraining)
        self.model = model
    }

    /// Trains one epoch on `batches` (`steps` of them), then evaluates on `testBatches` if given.
    /// Stops with `TrainingError.nonFiniteLoss` before applying a step whose loss is NaN or infinite.
    public func trainEpoch(
        batches: some Sequence<Batch>, steps: Int, testBatches: (some Sequence<Batch>)?,
        observer: TrainingObserver?, lastCheckpoint: String? = nil
    ) throws -> EpochRecord {
        try trainEpoch(batches: batches, steps: steps, validationBatches: [Batch]?.none, testBatches: testBatches,
                       observer: observer, lastCheckpoint: lastCheckpoint)
    }

    /// Trains one epoch on `batches` (`steps` of them), then evaluates on `validationBatches` and
    /// `testBatches`, each if given.
    /// Stops with `TrainingError.nonFiniteLoss` before applying a step whose loss is NaN or infinite.
    public func trainEpoch(
        batches: some Sequence<Batch>, steps: Int, validationBatches: (some Sequence<Batch>)?,
        testBatches: (some Sequence<Batch>)?, observer: TrainingObserver?, lastCheckpoint: String? = nil
    ) throws -> EpochRecord {
        let epoch = completedEpochs + 1
        let schedule = config.makeSchedule(stepsPerEpoch: steps)
        observer?.epochStarted(epoch: epoch, epochs: config.epochs, steps: steps)
        model.train()
        for (_, module) in auxiliaryModules { module.train() }
        var parameters = trainedParameters
        var meter = AccuracyMeter()
        let clock = ContinuousClock()
        let start = clock.now
        var step = 0
        var termSums: [String: Double] = [:]
        for batch in batches {
            if let beforeStep {
                let current = ObjectIdentifier(model)
                try beforeStep(self)
                if ObjectIdentifier(model) != current { parameters = trainedParameters }
            }
            schedule.apply(to: optimizer, step: globalStep)
            for (_, parameter) in parameters { parameter.zeroGrad() }
            let logits = model(batch.images)
            let (loss, terms) = try objective(logits, batch)
            let value = loss.item
            guard value.isFinite else {
                throw TrainingError.nonFiniteLoss(epoch: epoch, step: globalStep, loss: value, lastCheckpoint: lastCheckpoint)
            }
            loss.backward()
            if let clipNorm = config.clipNorm { clipGradientNorm(parameters.map(\.parameter), maxNorm: clipNorm) }
            optimizer.step(parameters)
            meter.add(logits: logits.detached(), labels: batch.labels, meanLoss: value)
            for (name, term) in terms { termSums[name, default: 0] += Double(term) }
            globalStep += 1
            step += 1
            observer?.stepFinished(step: step, steps: steps, loss: value, learningRate: optimizer.learningRate)
        }
        let trainSeconds = seconds(clock.now - start)
        let evalStart = clock.now
        let validation = validationBatches.map { evaluate(model, batches: $0, classes: config.model.classes) }
        let test = testBatches.map { evaluate(model, batches: $0, classes: config.model.classes) }
        let train = meter.result(classes: config.model.classes)
        completedEpochs = epoch
        let record = EpochRecord(
            epoch: epoch, globalStep: globalStep, trainLoss: train.loss, trainAccuracy: train.top1, test: test,
            imagesPerSecond: Double(train.count) / max(trainSeconds, 1e-9), trainSeconds: trainSeconds,
            evalSeconds: seconds(clock.now - evalStart), learningRate: optimizer.learningRate,
            lossTerms: termSums.isEmpty ? nil : termSums.mapValues { $0 / Double(max(step, 1)) }, validation: validation)
        history.append(record)
        observer?.epochFinished(record)
        return record
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}
