import Foundation
import MinnowData
import MinnowModels
import MinnowNN
import MinnowTensor
import MinnowTraining
import MinnowTestSupport
import XCTest

final class TrainingTests: XCTestCase {
    /// 8x8 images of 4 classes: a bright 3x3 square in one quadrant, on noise.
    static func quadrantData(count: Int, seed: UInt64) -> (images: Tensor, labels: [Int]) {
        var generator = SeededGenerator(seed: seed)
        var values = [Float](repeating: 0, count: count * 64)
        var labels: [Int] = []
        for n in 0..<count {
            let label = Int(generator.next() % 4)
            labels.append(label)
            for i in 0..<64 { values[n * 64 + i] = 0.3 * generator.nextNormal() }
            let (top, left) = (label / 2 * 4 + Int(generator.next() % 2), label % 2 * 4 + Int(generator.next() % 2))
            for y in top..<(top + 3) { for x in left..<(left + 3) { values[n * 64 + y * 8 + x] += 1.5 } }
        }
        return (Tensor(shape: [count, 8, 8, 1], scalars: values), labels)
    }

    func batches(_ data: (images: Tensor, labels: [Int]), size: Int) -> [Batch] {
        stride(from: 0, to: data.labels.count, by: size).map { start in
            let range = Array(start..<min(start + size, data.labels.count))
            return Batch(images: data.images.gathered(rows: range), labels: range.map { data.labels[$0] }, indices: range)
        }
    }

    /// End-to-end learning: a small CNN built from Minnow's ops fits a synthetic image task.
    func testSmallCNNFitsSyntheticTask() throws {
        let config = TrainingConfig(model: ModelConfig(architecture: .cnn, width: 0.25, inputShape: [8, 8, 1], classes: 4),
                                    epochs: 4, batchSize: 32, learningRate: 0.05, schedule: .constant)
        let trainer = try Trainer(config: config)
        let train = batches(Self.quadrantData(count: 1024, seed: 1), size: 32)
        let test = batches(Self.quadrantData(count: 512, seed: 2), size: 128)
        var record: EpochRecord?
        for _ in 0..<config.epochs {
            record = try trainer.trainEpoch(batches: train, steps: train.count, testBatches: test, observer: nil)
        }
        XCTAssertGreaterThan(record!.test!.top1, 0.95, "test accuracy \(record!.test!.top1)")
    }

    /// Same seed, same numbers: two runs give identical losses and weights.
    func testTrainingIsDeterministic() throws {
        func run() throws -> ([Double], [Float]) {
            let config = TrainingConfig(model: ModelConfig(architecture: .mobilenetV2, width: 0.25, inputShape: [8, 8, 1], classes: 4),
                                        epochs: 2, batchSize: 32, learningRate: 0.05, seed: 5)
            let trainer = try Trainer(config: config)
            let train = batches(Self.quadrantData(count: 256, seed: 3), size: 32)
            var losses: [Double] = []
            for _ in 0..<2 {
                losses.append(try trainer.trainEpoch(batches: train, steps: train.count, testBatches: [Batch]?.none, observer: nil).trainLoss)
            }
            return (losses, trainer.model.parameters.flatMap(\.value.scalars))
        }
        let (lossesA, weightsA) = try run()
        let (lossesB, weightsB) = try run()
        XCTAssertEqual(lossesA, lossesB)
        XCTAssertEqual(weightsA.count, weightsB.count)
        let firstDifference = weightsA.indices.first { weightsA[$0].bitPattern != weightsB[$0].bitPattern }
        XCTAssertNil(firstDifference, "weights differ first at \(firstDifference ?? -1)")
    }

    /// A NaN loss stops training before the update, naming the step.
    func testNonFiniteLossStopsWithTheStep() throws {
        let config = TrainingConfig(model: ModelConfig(architecture: .cnn, width: 0.25, inputShape: [8, 8, 1], classes: 4),
                                    epochs: 1, batchSize: 32)
        let trainer = try Trainer(config: config)
        var data = batches(Self.quadrantData(count: 96, seed: 1), size: 32)
        var poisoned = data[2].images
        poisoned[[0, 0, 0, 0]] = .nan
        data[2] = Batch(images: poisoned, labels: data[2].labels, indices: data[2].indices)
        let before = trainer.model.parameters.flatMap(\.value.scalars)
        XCTAssertThrowsError(try trainer.trainEpoch(batches: data, steps: 3, testBatches: [Batch]?.none, observer: nil)) { error in
            guard case TrainingError.nonFiniteLoss(_, let step, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(step, 2)
            XCTAssertTrue("\(error)".contains("step 2"), "\(error)")
        }
        XCTAssertNotEqual(trainer.model.parameters.flatMap(\.value.scalars), before, "the two good steps were applied")
        XCTAssertEqual(trainer.globalStep, 2)
    }

    func testInvalidConfigsAreRejected() {
        let model = ModelConfig(architecture: .cnn)
        XCTAssertThrowsError(try TrainingConfig(model: model, epochs: 0).validate())
        XCTAssertThrowsError(try TrainingConfig(model: model, learningRate: -1).validate())
        XCTAssertThrowsError(try TrainingConfig(model: model, labelSmoothing: 1).validate())
        XCTAssertThrowsError(try TrainingConfig(model: model, momentum: 0, nesterov: true).validate()) { error in
            XCTAssertTrue("\(error)".contains("Nesterov"), "\(error)")
        }
    }

    /// One epoch on a real Fashion-MNIST subset reaches accuracy far above chance (10%).
    func testOneEpochOnFashionMNISTSubset() throws {
        try Requirements.require(FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory.path),
                                 "Fashion-MNIST is not installed: \(FashionMNIST.installHint)")
        let train = try FashionMNIST.load(split: .train).randomSubset(count: 4000, seed: 1)
        let test = try FashionMNIST.load(split: .test).subset(first: 1000)
        let config = TrainingConfig(model: ModelConfig(architecture: .cnn, width: 0.5), epochs: 1, batchSize: 64,
                                    learningRate: 0.05)
        let trainer = try Trainer(config: config)
        let loader = DataLoader(dataset: train, batchSize: 64, normalization: FashionMNIST.normalization, seed: 1, dropLast: true)
        let testLoader = DataLoader(dataset: test, batchSize: 250, normalization: FashionMNIST.normalization, shuffle: false)
        let record = try trainer.trainEpoch(batches: loader.epoch(0), steps: loader.batchesPerEpoch,
                                            testBatches: testLoader.epoch(0), observer: nil)
        XCTAssertGreaterThan(record.test!.top1, 0.70, "test accuracy \(record.test!.top1)")
        XCTAssertEqual(record.test!.count, 1000)
    }
}
