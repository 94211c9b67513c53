import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowModels
import MinnowNN
import MinnowTensor
import MinnowTestSupport
import MinnowTraining
import XCTest

/// Exact resume: training N epochs in one go equals training some, checkpointing, and continuing
/// in a fresh trainer, bit for bit (with the same thread count).
final class ResumeTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Records every step's loss.
    private final class StepLosses: TrainingObserver {
        var losses: [Float] = []
        func epochStarted(epoch: Int, epochs: Int, steps: Int) {}
        func stepFinished(step: Int, steps: Int, loss: Float, learningRate: Float) { losses.append(loss) }
        func epochFinished(_ record: EpochRecord) {}
    }

    /// Every parameter, buffer and optimizer slot of `trainer`, as bit patterns by name.
    private func state(_ trainer: Trainer) -> [String: [UInt32]] {
        var result: [String: [UInt32]] = [:]
        for (path, parameter) in trainer.model.namedParameters() { result["model/" + path] = parameter.value.scalars.map(\.bitPattern) }
        for (path, buffer) in trainer.model.namedBuffers() { result["buffers/" + path] = buffer.value.scalars.map(\.bitPattern) }
        for (path, slots) in trainer.optimizer.slots {
            for (slot, tensor) in slots { result["optimizer/\(path)/\(slot)"] = tensor.scalars.map(\.bitPattern) }
        }
        return result
    }

    /// The 8x8 quadrant task; epoch `e` visits the batches in a rotated order.
    private func epochBatches(_ epoch: Int) -> [Batch] {
        let data = TrainingTests.quadrantData(count: 256, seed: 3)
        let batches = stride(from: 0, to: 256, by: 32).map { start in
            let rows = Array(start..<(start + 32))
            return Batch(images: data.images.gathered(rows: rows), labels: rows.map { data.labels[$0] }, indices: rows)
        }
        return Array(batches[epoch...] + batches[..<epoch])
    }

    private func trainEpoch(_ trainer: Trainer, observer: StepLosses) throws -> EpochRecord {
        let batches = epochBatches(trainer.completedEpochs)
        return try trainer.trainEpoch(batches: batches, steps: batches.count, testBatches: epochBatches(0), observer: observer)
    }

    /// 2 epochs in one go == 1 epoch, a checkpoint, a fresh trainer restored from it, 1 more epoch:
    /// the same step losses, records, weights, BatchNorm statistics, optimizer slots and step
    /// counts. MobileNetV2 has Dropout (generator state) and BatchNorm; SGD with one-cycle
    /// momentum and Adam cover both optimizers' slots.
    func testTwoEpochsEqualOneEpochCheckpointAndOneMore() throws {
        for optimizer in [TrainingConfig.OptimizerKind.sgd, .adamw] {
            let config = TrainingConfig(
                model: ModelConfig(architecture: .mobilenetV2, width: 0.25, dropout: 0.2, inputShape: [8, 8, 1], classes: 4),
                epochs: 2, batchSize: 32, optimizer: optimizer, learningRate: optimizer == .sgd ? 0.05 : 0.003,
                nesterov: optimizer == .sgd, seed: 5)

            let uninterrupted = try Trainer(config: config)
            let stepsA = StepLosses()
            let recordsA = [try trainEpoch(uninterrupted, observer: stepsA), try trainEpoch(uninterrupted, observer: stepsA)]

            let first = try Trainer(config: config)
            let stepsB = StepLosses()
            let recordB1 = try trainEpoch(first, observer: stepsB)
            let url = folder.appendingPathComponent("\(optimizer.rawValue).h5")
            let history = String(decoding: try JSONEncoder().encode(first.history), as: UTF8.self)
            try ModelCheckpoint.save(first.model, config: config.model, to: url, optimizer: first.optimizer,
                                     training: TrainingState(epoch: first.completedEpochs, step: first.globalStep, threads: 2),
                                     metricsHistoryJSON: history)

            let resumed = try Trainer(config: config)
            try resumed.restore(from: ModelCheckpoint.open(url))
            XCTAssertEqual(resumed.completedEpochs, 1)
            XCTAssertEqual(resumed.globalStep, 8)
            XCTAssertEqual(resumed.history.map(\.trainLoss), [recordB1.trainLoss])
            let recordB2 = try trainEpoch(resumed, observer: stepsB)

            let firstStep = zip(stepsA.losses, stepsB.losses).enumerated().first { $1.0.bitPattern != $1.1.bitPattern }?.offset
            XCTAssertEqual(stepsB.losses.count, stepsA.losses.count)
            XCTAssertNil(firstStep, "\(optimizer): step losses differ first at step \(firstStep ?? -1) (the checkpoint is after step 8)")
            XCTAssertEqual([recordB1.trainLoss, recordB2.trainLoss], recordsA.map(\.trainLoss))
            XCTAssertEqual(recordB2.test, recordsA[1].test)
            XCTAssertEqual(resumed.history.count, 2)
            XCTAssertEqual(resumed.optimizer.stepCount, uninterrupted.optimizer.stepCount)
            let (expected, actual) = (state(uninterrupted), state(resumed))
            XCTAssertEqual(Set(actual.keys), Set(expected.keys))
            let differing = expected.keys.filter { expected[$0] != actual[$0] }.sorted()
            XCTAssertTrue(differing.isEmpty, "\(optimizer): \(differing.count) tensors differ, first \(differing.first ?? "")")
        }
    }

    /// A recipe whose optimizer or model differs from the checkpoint's is refused, naming the file.
    func testRestoreRefusesAnotherRecipe() throws {
        let model = ModelConfig(architecture: .cnn, width: 0.25, inputShape: [8, 8, 1], classes: 4)
        let trainer = try Trainer(config: TrainingConfig(model: model, epochs: 2, batchSize: 32))
        let url = folder.appendingPathComponent("sgd.h5")
        try ModelCheckpoint.save(trainer.model, config: model, to: url, optimizer: trainer.optimizer,
                                 training: TrainingState(epoch: 0, step: 0, threads: 1), metricsHistoryJSON: "[]")
        let adam = try Trainer(config: TrainingConfig(model: model, epochs: 2, optimizer: .adam))
        XCTAssertThrowsError(try adam.restore(from: ModelCheckpoint.open(url))) { error in
            XCTAssertTrue("\(error)".hasPrefix(url.path) && "\(error)".contains("optimizer sgd"), "\(error)")
        }
        var wider = model
        wider.width = 0.5
        let other = try Trainer(config: TrainingConfig(model: wider, epochs: 2))
        XCTAssertThrowsError(try other.restore(from: ModelCheckpoint.open(url))) { error in
            XCTAssertTrue("\(error)".hasPrefix(url.path) && "\(error)".contains("/description: the checkpoint's model is not this trainer's"),
                          "\(error)")
        }
    }

    // MARK: Run folders

    private func makeRun(_ directory: URL, epochs: Int, policy: CheckpointPolicy) throws -> TrainingRun {
        let config = TrainingConfig(model: ModelConfig(architecture: .cnn, width: 0.25), epochs: epochs, batchSize: 64,
                                    learningRate: 0.05, seed: 3)
        return try TrainingRun(config: config, data: .fashionMNIST, dataDirectory: folder.appendingPathComponent("data"),
                               checkpoints: policy, directory: directory, commandLine: ["test"])
    }

    /// A digest of the checkpoint's parameters: equal digests mean bit-identical weights (short failure messages).
    private func parameters(_ url: URL) throws -> [Int] {
        try ModelCheckpoint.loadModel(from: url).model.parameters.map { parameter in
            var hasher = Hasher()
            for value in parameter.value.scalars { hasher.combine(value.bitPattern) }
            return hasher.finalize()
        }
    }

    private func epoch(of url: URL) throws -> Int {
        try ModelCheckpoint.loadTraining(from: ModelCheckpoint.open(url), into: Module()).epoch
    }

    /// A run folder with checkpoints every 2 epochs, the last 2 kept, the best by test loss, each
    /// holding the weights an independent run had at that epoch; then a copy of it resumed from its
    /// epoch-4 checkpoint ends with the same weights and history.
    func testRunFolderPolicyAndResumeFromAnEarlierCheckpoint() throws {
        try SyntheticData.writeFashionMNIST(to: folder.appendingPathComponent("data"), train: 256, test: 64)
        let original = folder.appendingPathComponent("run")
        let policy = CheckpointPolicy(every: 2, keepLast: 2, bestMetric: .testLoss)
        let history = try makeRun(original, epochs: 5, policy: policy).start(observer: nil)
        let runFolder = RunFolder(original)
        XCTAssertEqual(runFolder.epochCheckpoints().map(\.epoch), [4, 5], "every 2 epochs and the last; the newest 2 kept")
        XCTAssertEqual(try epoch(of: runFolder.last), 5)
        XCTAssertEqual(try epoch(of: runFolder.checkpoint(epoch: 4)), 4)
        let bestEpoch = history.min { $0.test!.loss < $1.test!.loss }!.epoch
        XCTAssertEqual(try epoch(of: runFolder.best), bestEpoch)
        // last.h5 and epoch-0005.h5 are one file (a hard link), so comparing them proves nothing: each
        // kept checkpoint is compared with the one an independent run (every epoch, all kept) wrote.
        let independent = RunFolder(folder.appendingPathComponent("independent"))
        try makeRun(independent.url, epochs: 5, policy: CheckpointPolicy(every: 1, keepLast: 5)).start(observer: nil)
        for epoch in [4, 5] {
            XCTAssertEqual(try parameters(runFolder.checkpoint(epoch: epoch)), try parameters(independent.checkpoint(epoch: epoch)),
                           "epoch-000\(epoch).h5")
        }
        XCTAssertEqual(try parameters(runFolder.best), try parameters(independent.checkpoint(epoch: bestEpoch)), "best.h5")
        XCTAssertNotEqual(try parameters(runFolder.checkpoint(epoch: 4)), try parameters(runFolder.checkpoint(epoch: 5)))
        let best = try XCTUnwrap(ModelCheckpoint.bestMetric(in: ModelCheckpoint.open(runFolder.best)))
        XCTAssertEqual(best, BestMetric(name: "test_loss", value: Float(history[bestEpoch - 1].test!.loss), epoch: bestEpoch))

        let copy = folder.appendingPathComponent("copy")
        try FileManager.default.copyItem(at: original, to: copy)
        let run = try TrainingRun.resume(from: RunFolder(copy).checkpoint(epoch: 4), dataDirectory: folder.appendingPathComponent("data"))
        XCTAssertEqual(run.manifest.checkpoints, policy)
        XCTAssertEqual(run.trainer.completedEpochs, 4)
        let resumedHistory = try run.start(observer: nil)
        XCTAssertEqual(resumedHistory.map(\.trainLoss), history.map(\.trainLoss))
        XCTAssertEqual(resumedHistory.map(\.test), history.map(\.test))
        XCTAssertEqual(try parameters(RunFolder(copy).last), try parameters(runFolder.last))
        let lines = try String(contentsOf: RunFolder(copy).metrics, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 5, "metrics.jsonl holds each epoch once")
    }

    /// A checkpoint evaluates to the numbers its run recorded for that epoch, on the data set its
    /// provenance names; other test data get a note; images go through the model as in training.
    func testCheckpointEvaluationAndPrediction() throws {
        let data = folder.appendingPathComponent("data")
        try SyntheticData.writeFashionMNIST(to: data, train: 128, test: 64)
        let run = try makeRun(folder.appendingPathComponent("run"), epochs: 1, policy: CheckpointPolicy())
        let history = try run.start(observer: nil)
        let evaluation = try CheckpointEvaluation(checkpoint: run.folder.last, dataDirectory: data, batchSize: 20)
        XCTAssertEqual(evaluation.dataset, .fashionMNIST)
        XCTAssertEqual(evaluation.result.top1, history[0].test!.top1)
        XCTAssertEqual(evaluation.result.loss, history[0].test!.loss, accuracy: 1e-6)
        XCTAssertNil(evaluation.note)
        let other = folder.appendingPathComponent("other")
        try SyntheticData.writeFashionMNIST(to: other, train: 128, test: 64, seed: 9)
        XCTAssertNotNil(try CheckpointEvaluation(checkpoint: run.folder.last, dataDirectory: other).note)

        let images = try FashionMNIST.load(split: .test, directory: data).subset(first: 5).images(normalization: FashionMNIST.normalization)
        run.trainer.model.eval()
        XCTAssertEqual(try CheckpointPrediction.logits(checkpoint: run.folder.last, images: images, batchSize: 5).scalars,
                       withoutGrad { run.trainer.model(images) }.scalars)
        XCTAssertThrowsError(try CheckpointPrediction.logits(checkpoint: run.folder.last, images: Tensor.zeros([2, 5, 5, 1]))) { error in
            XCTAssertTrue("\(error)".contains("do not fit the model"), "\(error)")
        }
    }

    /// Checkpoints record the data's fingerprints; resuming on other training data is refused,
    /// naming the checkpoint and both fingerprints.
    func testResumeOnOtherDataIsRefused() throws {
        let data = folder.appendingPathComponent("data")
        try SyntheticData.writeFashionMNIST(to: data, train: 128, test: 64)
        let directory = folder.appendingPathComponent("run")
        let run = try makeRun(directory, epochs: 1, policy: CheckpointPolicy())
        try run.start(observer: nil)
        let recorded = try ModelCheckpoint.loadProvenance(from: ModelCheckpoint.open(RunFolder(directory).last)).dataFingerprints
        XCTAssertEqual(recorded, run.dataFingerprints)
        XCTAssertEqual(Set(recorded.keys), ["train", "test"])
        XCTAssertNoThrow(try TrainingRun.resume(from: directory, dataDirectory: data))
        try SyntheticData.writeFashionMNIST(to: data, train: 128, test: 64, seed: 9)
        XCTAssertThrowsError(try TrainingRun.resume(from: directory, dataDirectory: data)) { error in
            XCTAssertTrue("\(error)".contains("was trained on data with fingerprint \(recorded["train"]!)"), "\(error)")
            XCTAssertTrue("\(error)".contains("the run can only continue on the same data"), "\(error)")
        }
    }

    /// A folder whose run wrote no checkpoint yet starts its recipe over; a complete run has nothing left.
    func testResumeWithoutCheckpointStartsOverAndCompleteRunIsKept() throws {
        try SyntheticData.writeFashionMNIST(to: folder.appendingPathComponent("data"), train: 128, test: 64)
        let directory = folder.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let fresh = try makeRun(directory, epochs: 1, policy: CheckpointPolicy())
        try JSONEncoder().encode(fresh.manifest).write(to: RunFolder(directory).config)
        let restarted = try TrainingRun.resume(from: directory, dataDirectory: folder.appendingPathComponent("data"))
        XCTAssertNil(restarted.resumedFrom)
        try restarted.start(observer: nil)
        let complete = try TrainingRun.resume(from: directory, dataDirectory: folder.appendingPathComponent("data"))
        XCTAssertEqual(complete.trainer.completedEpochs, 1)
        XCTAssertEqual(try complete.start(observer: nil).count, 1)
    }

    /// Temporary files of writers that no longer run are removed; a running writer's are kept.
    func testStaleTemporaryFilesOfDeadWritersAreRemoved() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        for name in [".last.h5.tmp-\(dead)", ".best.h5.tmp-\(getppid())", "notes.tmp-\(dead)"] {
            FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: Data([1]))
        }
        XCTAssertEqual(RunFolder(folder).removeStaleTemporaries(), [".last.h5.tmp-\(dead)"])
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertEqual(left, [".best.h5.tmp-\(getppid())", "notes.tmp-\(dead)"])
    }

    /// Manifests written before checkpoint policies existed still load, with the default policy.
    func testOlderManifestGetsTheDefaultPolicy() throws {
        let manifest = TrainingRun.Manifest(training: TrainingConfig(model: ModelConfig(architecture: .cnn)), dataset: .fashionMNIST)
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(manifest)) as? [String: Any])
        object["checkpoints"] = nil
        let decoded = try JSONDecoder().decode(TrainingRun.Manifest.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(decoded.checkpoints, CheckpointPolicy())
    }
}
