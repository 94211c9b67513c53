import MinnowNN
import MinnowTensor

/// fp32 speed of one model: inference latency at batch 1, inference throughput at a large batch,
/// and the time of a training step.
public struct ModelTiming: Codable, Sendable {
    public let name: String
    public let macs: Int
    public let parameters: Int
    /// Milliseconds per batch-1 inference (evaluation mode, no gradients).
    public let latencyMs: TimingStats
    /// Milliseconds per inference of `inferenceBatch` images.
    public let batchMs: TimingStats
    /// Milliseconds per training step of `trainBatch` images (forward, cross-entropy, backward, SGD).
    public let trainStepMs: TimingStats
    public let inferenceBatch: Int, trainBatch: Int
}

/// Times every model on the same random inputs, the models in turn within each repeat (so that
/// a change of machine load affects them alike): batch-1 latency, batch throughput, training step.
public func benchmarkModels(_ models: [(name: String, model: any Layer, inputShape: [Int], classes: Int)], inferenceBatch: Int,
                            trainBatch: Int, repeats: Int) throws -> [ModelTiming] {
    var generator = SeededGenerator(seed: 4)
    var samples = Array(repeating: (latency: [Double](), batch: [Double](), train: [Double]()), count: models.count)
    for _ in 0..<repeats {
        for (index, entry) in models.enumerated() {
            let model = entry.model
            let one = Tensor.randomNormal([1] + entry.inputShape, generator: &generator)
            let many = Tensor.randomNormal([inferenceBatch] + entry.inputShape, generator: &generator)
            let trainImages = Tensor.randomNormal([trainBatch] + entry.inputShape, generator: &generator)
            let labels = (0..<trainBatch).map { $0 % entry.classes }
            model.eval()
            samples[index].latency.append(measure(warmup: 5, iterations: 50, repeats: 1) { _ = withoutGrad { model(one) } }.median)
            samples[index].batch.append(measure(warmup: 1, iterations: 3, repeats: 1) { _ = withoutGrad { model(many) } }.median)
            model.train()
            let optimizer = SGD(learningRate: 1e-6, momentum: 0.9, weightDecay: 5e-4)
            samples[index].train.append(measure(warmup: 2, iterations: 5, repeats: 1) {
                model.zeroGrad()
                crossEntropy(logits: model(trainImages), labels: labels).backward()
                optimizer.step(model)
            }.median)
        }
    }
    return try models.enumerated().map { index, entry in
        let graph = try ModelGraph.trace(entry.model, inputShape: entry.inputShape)
        return ModelTiming(name: entry.name, macs: graph.totalMACs, parameters: graph.parameterCount,
                           latencyMs: TimingStats(samples[index].latency), batchMs: TimingStats(samples[index].batch),
                           trainStepMs: TimingStats(samples[index].train), inferenceBatch: inferenceBatch, trainBatch: trainBatch)
    }
}
