import MinnowData
import MinnowModels
import MinnowNN
@testable import MinnowPruning
import MinnowTensor
import MinnowTraining
import XCTest

/// Pruning inside training: the trainer continues on the smaller model with its optimizer state
/// sliced along, at the schedule's steps; the sparsity penalty is part of the loss until the last event.
final class PruningDriverTests: XCTestCase {
    func testIterativePruningInsideTrainingShrinksTheModelAndItsOptimizerState() throws {
        var generator = SeededGenerator(seed: 5)
        let config = TrainingConfig(model: ModelConfig(architecture: .mobilenetV2, width: 0.5, inputShape: [12, 12, 1], classes: 4),
                                    epochs: 2, batchSize: 8, learningRate: 0.01, schedule: .constant)
        let trainer = try Trainer(config: config)
        let batches = (0..<4).map { i in
            Batch(images: Tensor.randomNormal([8, 12, 12, 1], generator: &generator), labels: (0..<8).map { ($0 + i) % 4 },
                  indices: Array(0..<8))
        }
        let schedule = try PruningSchedule(kind: .iterative, start: 1, steps: 2, every: 3)
        let settings = try PruningSettings(criterion: .taylor, target: .macs(0.6), roundTo: 4, schedule: schedule, importanceBatches: 2,
                                           sparsity: 1e-3, model: trainer.model, inputShape: [12, 12, 1])
        let driver = PruningDriver(settings: settings, inputShape: [12, 12, 1], registry: .zoo) { _ in Array(batches.prefix(2)) }
        driver.install(on: trainer)
        let original = trainer.model
        for _ in 0..<2 {
            _ = try trainer.trainEpoch(batches: batches, steps: batches.count, testBatches: Optional<[Batch]>.none, observer: nil)
        }
        XCTAssertEqual(driver.events.map(\.step), [1, 4])
        XCTAssertFalse(trainer.model === original, "the trainer continues on the pruned model")
        let macs = try ModelGraph.trace(trainer.model, inputShape: [12, 12, 1]).totalMACs
        XCTAssertLessThanOrEqual(Double(macs), 0.6 * Double(settings.baseline.macs))
        XCTAssertEqual(macs, driver.events.last?.after.macs)
        let parameters = Dictionary(uniqueKeysWithValues: trainer.model.namedParameters().map { ($0.path, $0.parameter.shape) })
        XCTAssertFalse(trainer.optimizer.slots.isEmpty)
        for (path, slots) in trainer.optimizer.slots {
            for (_, state) in slots { XCTAssertEqual(state.shape, parameters[path], "optimizer slot of \(path) fits the pruned parameter") }
        }
        // The penalty is in the loss before the last event (step 4), not after it.
        XCTAssertNotNil(trainer.history[0].lossTerms?["bn_sparsity"])
        XCTAssertNil(trainer.history[1].lossTerms?["bn_sparsity"])
        XCTAssertTrue(trainer.history.allSatisfy { $0.trainLoss.isFinite })
    }
}
