import MinnowBench
import MinnowModels
import MinnowNN
import MinnowTensor
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
