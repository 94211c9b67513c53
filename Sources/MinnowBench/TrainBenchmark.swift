import MinnowModels
import MinnowNN
import MinnowQuantization
import MinnowTensor

/// Training throughput of one model: images per second at a batch size.
public struct TrainTiming: Codable, Sendable {
    public let model: String
    public let batch: Int
    public let imagesPerSecond: TimingStats
}

/// Times full training steps (forward, cross-entropy, backward, SGD with momentum 0.9 and weight
/// decay 5e-4) of `config`'s model on a fixed random batch, as the peers' `bench_train.py` does.
public func benchmarkTraining(_ config: ModelConfig, name: String, batch: Int, steps: Int, repeats: Int) throws -> TrainTiming {
    let model = try ModelZoo.build(config)
    model.train()
    var generator = SeededGenerator(seed: 2)
    let x = Tensor.randomNormal([batch] + config.inputShape, generator: &generator)
    let labels = (0..<batch).map { $0 % config.classes }
    let optimizer = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4)
    let stats = measure(warmup: 3, iterations: steps, repeats: repeats) {
        model.zeroGrad()
        crossEntropy(logits: model(x), labels: labels).backward()
        optimizer.step(model)
    }
    let msPerStep = stats
    let rates = TimingStats([Double(batch) * 1000 / msPerStep.median, Double(batch) * 1000 / msPerStep.max,
                             Double(batch) * 1000 / msPerStep.min])
    return TrainTiming(model: name, batch: batch, imagesPerSecond: rates)
}

/// The cost of quantization-aware training: a plain fp32 training step and a QAT step
/// (`QuantizedModel`: fake-quantized weights and activations, batch norms folded with batch
/// statistics, observers moving) of the same model on the same batch, timed in alternation.
public struct QATTiming: Codable, Sendable {
    public let model: String
    public let method: String
    public let batch: Int
    public let floatMs: TimingStats, qatMs: TimingStats

    /// QAT step time over fp32 step time (medians).
    public var ratio: Double { qatMs.median / floatMs.median }
}

/// Times `repeats` alternating runs of `steps` fp32 and QAT training steps (SGD momentum 0.9,
/// weight decay 5e-4, cross-entropy) of `config`'s model on a fixed random batch.
public func benchmarkQAT(_ config: ModelConfig, name: String, method: QuantizationScheme.Method, batch: Int, steps: Int,
                         repeats: Int) throws -> QATTiming {
    var generator = SeededGenerator(seed: 2)
    let x = Tensor.randomNormal([batch] + config.inputShape, generator: &generator)
    let labels = (0..<batch).map { $0 % config.classes }
    let float = try ModelZoo.build(config), student = try ModelZoo.build(config)
    let quantized = try QuantizedModel(model: student, inputShape: config.inputShape, scheme: QuantizationScheme(method: method))
    try quantized.calibrate([x])
    let models: [any Layer] = [float, quantized]
    let optimizers = models.map { _ in SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4) }
    var samples: [[Double]] = [[], []]
    for (index, model) in models.enumerated() {
        model.train()
        _ = measure(warmup: 3, iterations: 1, repeats: 1) { step(model, optimizers[index]) }
    }
    for _ in 0..<repeats {
        for (index, model) in models.enumerated() {
            samples[index].append(measure(warmup: 0, iterations: steps, repeats: 1) { step(model, optimizers[index]) }.median)
        }
    }
    func step(_ model: any Layer, _ optimizer: SGD) {
        model.zeroGrad()
        crossEntropy(logits: model(x), labels: labels).backward()
        optimizer.step(model)
    }
    return QATTiming(model: name, method: method.rawValue, batch: batch, floatMs: TimingStats(samples[0]), qatMs: TimingStats(samples[1]))
}
