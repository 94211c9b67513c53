import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowModels
import MinnowTestSupport
@testable import MinnowTraining
import XCTest

/// The validation split: held-out images the same for every training seed and disjoint from the
/// training images; `best.h5` chosen on them; the metrics log carrying validation and test; resume.
final class ValidationSplitTests: XCTestCase {
    private var folder: URL!
    private var data: URL { folder.appendingPathComponent("data") }

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("validation-\(UUID().uuidString)")
        try SyntheticData.writeFashionMNIST(to: data, train: 320, test: 64)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private func makeRun(_ name: String, seed: UInt64, validation: ValidationSplit?, subset: Int? = nil,
                         policy: CheckpointPolicy) throws -> TrainingRun {
        let config = TrainingConfig(model: ModelConfig(architecture: .cnn, width: 0.25), epochs: 4, batchSize: 32,
                                    learningRate: 0.05, seed: seed)
        return try TrainingRun(config: config, data: .fashionMNIST, dataDirectory: data, trainSubset: subset, validation: validation,
                               checkpoints: policy, directory: folder.appendingPathComponent(name), commandLine: ["test"])
    }

    /// Pixels and label of every image, to compare sets of images.
    private func images(_ dataset: Dataset) -> Set<[UInt8]> {
        Set((0..<dataset.count).map { i in Array(dataset.pixels[(i * dataset.imageBytes)..<((i + 1) * dataset.imageBytes)]) + [UInt8(dataset.labels[i])] })
    }

    func testHeldOutImagesDependOnTheirSeedAloneAndNeverTrain() throws {
        let split = ValidationSplit(count: 64, seed: 7)
        let policy = CheckpointPolicy(bestMetric: .validationTop1)
        let a = try makeRun("a", seed: 1, validation: split, policy: policy)
        let b = try makeRun("b", seed: 2, validation: split, subset: 100, policy: policy)
        let validation = try XCTUnwrap(a.validationLoader).dataset
        XCTAssertEqual(validation.count, 64)
        XCTAssertEqual(a.trainLoader.dataset.count, 256)
        XCTAssertEqual(images(validation), images(try XCTUnwrap(b.validationLoader).dataset), "the same images for another training seed")
        XCTAssertTrue(images(validation).isDisjoint(with: images(a.trainLoader.dataset)))
        XCTAssertTrue(images(validation).isDisjoint(with: images(b.trainLoader.dataset)), "a train subset is drawn from what remains")
        let other = try makeRun("c", seed: 1, validation: ValidationSplit(count: 64, seed: 8), policy: policy)
        XCTAssertNotEqual(images(validation), images(try XCTUnwrap(other.validationLoader).dataset))
        XCTAssertNil(try makeRun("d", seed: 1, validation: nil, policy: CheckpointPolicy()).validationLoader)
    }

    func testBestIsChosenOnValidationAndTheLogCarriesBoth() throws {
        let run = try makeRun("run", seed: 3, validation: ValidationSplit(count: 64), policy: CheckpointPolicy(bestMetric: .validationLoss))
        let history = try run.start(observer: nil)
        XCTAssertTrue(history.allSatisfy { $0.validation?.count == 64 && $0.test?.count == 64 })
        let bestEpoch = history.min { $0.validation!.loss < $1.validation!.loss }!.epoch
        let best = try XCTUnwrap(ModelCheckpoint.bestMetric(in: ModelCheckpoint.open(run.folder.best)))
        XCTAssertEqual(best, BestMetric(name: "val_loss", value: Float(history[bestEpoch - 1].validation!.loss), epoch: bestEpoch))
        let logged = try String(contentsOf: run.folder.metrics, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(EpochRecord.self, from: Data($0.utf8))
        }
        XCTAssertEqual(logged.map(\.validation), history.map(\.validation))
        XCTAssertEqual(logged.map(\.test), history.map(\.test))
        let fingerprints = try ModelCheckpoint.loadProvenance(from: ModelCheckpoint.open(run.folder.last)).dataFingerprints
        XCTAssertEqual(Set(fingerprints.keys), ["train", "validation", "test"])
    }

    func testResumedRunKeepsItsSplitAndOlderManifestsHaveNone() throws {
        let split = ValidationSplit(count: 40, seed: 5)
        let run = try makeRun("run", seed: 3, validation: split, policy: CheckpointPolicy(bestMetric: .validationTop1))
        let uninterrupted = try run.start(observer: nil)
        let copy = folder.appendingPathComponent("copy")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        let short = try makeRun("copy", seed: 3, validation: split, policy: CheckpointPolicy(keepLast: 4, bestMetric: .validationTop1))
        try short.start(observer: nil)
        let resumed = try TrainingRun.resume(from: RunFolder(copy).checkpoint(epoch: 2), dataDirectory: data)
        XCTAssertEqual(resumed.manifest.validation, split)
        XCTAssertEqual(try resumed.start(observer: nil).map(\.validation), uninterrupted.map(\.validation))

        var manifest = try JSONSerialization.jsonObject(with: JSONEncoder().encode(run.manifest)) as! [String: Any]
        manifest["validation"] = nil
        let older = try JSONDecoder().decode(TrainingRun.Manifest.self, from: JSONSerialization.data(withJSONObject: manifest))
        XCTAssertNil(older.validation)
    }

    func testBadSplitsAreRefusedNamingTheOption() throws {
        for count in [0, 320, 321] {
            XCTAssertThrowsError(try makeRun("bad", seed: 0, validation: ValidationSplit(count: count), policy: CheckpointPolicy())) { error in
                XCTAssertTrue("\(error)".contains("--validation"), "\(error)")
            }
        }
        XCTAssertThrowsError(try makeRun("bad", seed: 0, validation: nil, policy: CheckpointPolicy(bestMetric: .validationTop1))) { error in
            XCTAssertTrue("\(error)".contains("needs a validation split"), "\(error)")
        }
    }
}
