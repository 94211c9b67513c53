import Foundation
import MinnowData
import MinnowDistillation
import MinnowModels
import MinnowNN
import MinnowPruning
import MinnowTensor
import MinnowTestSupport
import MinnowTraining
import MinnowWorkflows
import XCTest

/// Fine-tuning with an optional teacher, as a library call: a run stopped after its first epoch
/// and resumed from that checkpoint ends with exactly the tensors of the run that went on, with
/// and without a teacher; resuming refuses a run whose objective the caller does not carry on.
final class FineTuningTests: XCTestCase {
    var folder: URL!
    var data: URL { folder.appendingPathComponent("data") }

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-finetuning-\(UUID().uuidString)")
        try SyntheticData.writeFashionMNIST(to: data, train: 96, test: 32)
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    func model() throws -> (any Layer, TrainingConfig) {
        let modelConfig = ModelConfig(architecture: .cnn, width: 0.125)
        return (try ModelZoo.build(modelConfig), TrainingConfig(model: modelConfig, epochs: 2, batchSize: 32))
    }

    func start(_ name: String, teacher: URL?) throws -> FineTuning {
        let (model, config) = try model()
        return try FineTuning.start(model: model, setup: FineTuningSetup(config: config, teacher: teacher, data: .fashionMNIST, dataDirectory: data,
                                                                        checkpoints: CheckpointPolicy(keepLast: 2),
                                                                        directory: folder.appendingPathComponent(name)))
    }

    func parameters(_ run: TrainingRun) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: run.trainer.model.namedParameters().map { ($0.path, $0.parameter.value.scalars) })
    }

    func testResumeContinuesExactlyWithAndWithoutATeacher() throws {
        let plain = try start("plain", teacher: nil)
        XCTAssertNil(plain.distillation)
        try plain.train(observer: nil)
        let teacher = folder.appendingPathComponent("plain/last.h5")
        let distilled = try start("distilled", teacher: teacher)
        XCTAssertNotNil(distilled.distillation)
        try distilled.train(observer: nil)
        for (name, finished) in [("plain", plain), ("distilled", distilled)] {
            let copy = folder.appendingPathComponent("\(name)-copy")
            try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: copy)
            let resumed = try FineTuning.resume(from: copy.appendingPathComponent("epoch-0001.h5"), dataDirectory: data)
            XCTAssertEqual(resumed.distillation != nil, name == "distilled")
            XCTAssertEqual(resumed.run.resumedFrom?.state.epoch, 1)
            try resumed.train(observer: nil)
            XCTAssertEqual(parameters(resumed.run), parameters(finished.run), "\(name): resumed from epoch 1")
        }
    }

    func testResumeRefusesARunOfAnotherObjective() throws {
        let plain = try start("plain", teacher: nil)
        try plain.train(observer: nil)
        // A pruning run's settings beside the checkpoints: plain fine-tuning would drop its schedule.
        try Data("{}".utf8).write(to: folder.appendingPathComponent("plain/\(PruningRecord.file)"))
        XCTAssertThrowsError(try FineTuning.resume(from: folder.appendingPathComponent("plain"), dataDirectory: data)) { error in
            XCTAssertTrue("\(error)".contains("minnow prune --resume"), "\(error)")
        }
        XCTAssertNoThrow(try FineTuning.resume(from: folder.appendingPathComponent("plain"), dataDirectory: data, handling: [PruningRecord.declaration]))
        XCTAssertEqual(Set(TrainingObjectives.all.map(\.name)), [DistillationRun.declaration.name, PruningRecord.declaration.name])
    }

    /// A pruning run's record is read back as written; a folder without one, or with a damaged
    /// one, is an error naming the file; resuming a plain run as a pruning run is refused.
    func testPruningRecordIsReadOrTheFileNamed() throws {
        let plain = try start("plain", teacher: nil)
        try plain.train(observer: nil)
        let runFolder = folder.appendingPathComponent("plain")
        XCTAssertThrowsError(try PruningWorkflow.resume(from: runFolder, dataDirectory: data)) { error in
            XCTAssertTrue("\(error)".contains("\(PruningRecord.file): no such file"), "\(error)")
        }
        try Data("{".utf8).write(to: runFolder.appendingPathComponent(PruningRecord.file))
        XCTAssertThrowsError(try PruningWorkflow.record(in: runFolder)) { error in
            XCTAssertTrue("\(error)".contains("not a pruning record"), "\(error)")
        }
        let (model, _) = try model()
        let settings = try PruningSettings(criterion: .l1, target: .macs(0.7), roundTo: 2, schedule: PruningSchedule(kind: .oneshot), model: model,
                                           inputShape: [28, 28, 1])
        let record = PruningRecord(settings: settings, top1Before: 0.25, checkpoint: "start.h5")
        try PruningWorkflow.writeRecord(record, in: runFolder)
        let read = try PruningWorkflow.record(in: runFolder)
        XCTAssertEqual(read.settings, settings)
        XCTAssertEqual(read.top1Before, 0.25)
        XCTAssertEqual(read.checkpoint, "start.h5")
    }
}
