import Foundation
import MinnowData
import MinnowDistillation
import MinnowModels
import MinnowNN
import MinnowTensor
import MinnowTraining

/// Training-step times of one student, plain and distilled, measured in one run.
public struct DistillTiming: Codable, Sendable {
    public let student: String
    public let teacher: String
    public let batch: Int
    /// Milliseconds per step: cross-entropy only; Hinton KD with cached teacher logits; Hinton KD with the teacher run every step.
    public let plainMs: TimingStats
    public let cachedKDMs: TimingStats
    public let onlineKDMs: TimingStats
    /// The one-off teacher pass that fills the cache, over `cachedImages` images, in seconds.
    public let cachePassSeconds: Double
    public let cachedImages: Int
}

/// Times `Trainer` epochs of `steps` batches (the real loop: forward, objective, backward, SGD) for the
/// student with cross-entropy, with Hinton KD on cached teacher logits, and with Hinton KD running the
/// teacher online. The data are random 28x28 images already in memory (no loading cost), the teacher
/// has random weights (the time does not depend on them), and the three variants alternate within each
/// repeat so that machine load affects them alike. The cache goes to `cacheDirectory`.
public func benchmarkDistillation(student: ModelConfig, studentName: String, teacher: ModelConfig, teacherName: String,
                                  batch: Int, steps: Int, repeats: Int, cacheDirectory: URL) throws -> DistillTiming {
    var generator = SeededGenerator(seed: 3)
    let count = batch * steps
    let pixels = (0..<(count * 784)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    let labels = (0..<count).map { _ in Int(generator.next() % 10) }
    let dataset = Dataset(name: "random", pixels: pixels, labels: labels, imageShape: [28, 28, 1], classCount: 10)
    let normalization = FashionMNIST.normalization
    let loader = DataLoader(dataset: dataset, batchSize: batch, normalization: normalization, seed: 1, dropLast: true)
    let batches = Array(loader.epoch(0))

    let teachers = try TeacherEnsemble(models: [(try ModelZoo.build(teacher), teacher)])
    let clock = ContinuousClock()
    let start = clock.now
    let cache = try TeacherCache.open(teachers: teachers, dataset: dataset, normalization: normalization,
                                      directory: cacheDirectory)
    let cachePass = clock.now - start

    func makeTrainer(distilled: Bool, cached: Bool) throws -> Trainer {
        let trainer = try Trainer(config: TrainingConfig(model: student, batchSize: batch, learningRate: 0.01, schedule: .constant))
        if distilled {
            let distiller = try Distiller(settings: DistillationSettings(loss: .kd), student: trainer.model,
                                          inputShape: student.inputShape, teachers: teachers)
            if cached { try distiller.useCache(cache) }
            distiller.install(on: trainer, stepsPerEpoch: steps)
        }
        return trainer
    }
    let trainers = [try makeTrainer(distilled: false, cached: false), try makeTrainer(distilled: true, cached: true),
                    try makeTrainer(distilled: true, cached: false)]
    var samples: [[Double]] = [[], [], []]
    for trainer in trainers {
        _ = try trainer.trainEpoch(batches: batches.prefix(2), steps: 2, testBatches: [Batch]?.none, observer: nil)
    }
    for _ in 0..<repeats {
        for (index, trainer) in trainers.enumerated() {
            let record = try trainer.trainEpoch(batches: batches, steps: steps, testBatches: [Batch]?.none, observer: nil)
            samples[index].append(record.trainSeconds * 1000 / Double(steps))
        }
    }
    return DistillTiming(student: studentName, teacher: teacherName, batch: batch, plainMs: TimingStats(samples[0]),
                         cachedKDMs: TimingStats(samples[1]), onlineKDMs: TimingStats(samples[2]),
                         cachePassSeconds: Double(cachePass.components.seconds) + Double(cachePass.components.attoseconds) * 1e-18,
                         cachedImages: count)
}
