import MinnowModels
import MinnowNN
import MinnowTensor
import MinnowTestSupport
import XCTest

/// No op keeps memory alive across training steps: 1,000 steps of a model that uses every layer
/// kind (conv, depthwise, BN, ReLU6, residual add, pooling, dropout, linear, cross-entropy) must
/// not grow the resident set after warm-up.
final class MemoryTests: XCTestCase {
    func testResidentMemoryIsFlatOver1000TrainingSteps() throws {
        let config = ModelConfig(architecture: .mobilenetV2, width: 0.25, inputShape: [12, 12, 1], classes: 10)
        let trace = try trainingMemoryTrace(config, batch: 8, steps: 1000, every: 100)
        let afterWarmup = trace[1].usage.residentBytes
        let end = trace.last!.usage.residentBytes
        // A leak of one 8x12x12x16 activation (74 KB) per step would add about 59 MB over these 800 steps.
        XCTAssertLessThan(end - afterWarmup, 4 << 20,
                          "resident memory grew from \(afterWarmup) to \(end) bytes between steps 200 and 1000")
        XCTAssertLessThan(trace.last!.usage.peakResidentBytes - trace[1].usage.peakResidentBytes, 4 << 20, "peak RSS grew")
    }
}

/// Runs `steps` training steps of `config`'s model and samples resident memory every `every`
/// steps, to show that memory stays flat (no op leaks tensors or graph nodes across steps).
private func trainingMemoryTrace(_ config: ModelConfig, batch: Int, steps: Int, every: Int) throws -> [(step: Int, usage: MemoryUsage)] {
    let model = try ModelZoo.build(config)
    var generator = SeededGenerator(seed: 3)
    let x = Tensor.randomNormal([batch] + config.inputShape, generator: &generator)
    let labels = (0..<batch).map { $0 % config.classes }
    let optimizer = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4)
    var trace: [(Int, MemoryUsage)] = []
    for step in 1...steps {
        model.zeroGrad()
        crossEntropy(logits: model(x), labels: labels).backward()
        optimizer.step(model)
        if step % every == 0 { trace.append((step, MemoryUsage.now())) }
    }
    return trace
}
