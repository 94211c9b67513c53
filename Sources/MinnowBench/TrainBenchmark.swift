import MinnowModels
import MinnowNN
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
