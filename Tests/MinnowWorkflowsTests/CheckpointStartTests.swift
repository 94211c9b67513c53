import Foundation
import MinnowData
import MinnowModels
import MinnowTestSupport
import MinnowTraining
import MinnowWorkflows
import XCTest

/// A checkpoint whose run held out validation images: the workflows that start from it
/// (calibration for PTQ and QAT, Taylor importance for pruning) draw only from the rest.
final class CheckpointStartTests: XCTestCase {
    func testCalibrationAndImportanceImagesAvoidTheRunsValidationSplit() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-start-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        try SyntheticData.writeFashionMNIST(to: data, train: 200, test: 32)
        let split = ValidationSplit(count: 50, seed: 4)
        let config = TrainingConfig(model: ModelConfig(architecture: .cnn, width: 0.125), epochs: 1, batchSize: 32)
        let run = try TrainingRun(config: config, data: .fashionMNIST, dataDirectory: data, validation: split,
                                  checkpoints: CheckpointPolicy(bestMetric: .validationTop1), directory: folder.appendingPathComponent("run"))
        try run.start(observer: nil)
        let start = try CheckpointStart(checkpoint: run.folder.best, dataDirectory: data)
        XCTAssertEqual(start.heldOut, split)
        XCTAssertEqual(start.train.count, 200, "the full split stays (step counts subtract the new run's own split)")
        func rows(_ dataset: Dataset) -> Set<[UInt8]> {
            Set((0..<dataset.count).map { Array(dataset.pixels[($0 * dataset.imageBytes)..<(($0 + 1) * dataset.imageBytes)]) })
        }
        let validation = rows(try split.split(start.train).validation)
        XCTAssertEqual(start.trainingPool.count, 150)
        XCTAssertTrue(rows(start.trainingPool).isDisjoint(with: validation))
        let calibration = start.calibrationBatches(1_000)
        XCTAssertEqual(calibration.map { $0.shape[0] }.reduce(0, +), 150, "all of the pool, none of the held-out images")
        let pool = Set(start.trainingPool.images(normalization: FashionMNIST.normalization).scalars.chunked(784))
        XCTAssertTrue(calibration.flatMap { $0.scalars.chunked(784) }.allSatisfy { pool.contains($0) })
    }
}

private extension Array where Element == Float {
    func chunked(_ size: Int) -> [[Float]] { stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min(count, $0 + size)]) } }
}
