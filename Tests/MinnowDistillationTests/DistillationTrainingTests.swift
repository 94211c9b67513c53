import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowDistillation
import MinnowHDF5
import MinnowModels
import MinnowNN
import MinnowTensor
import MinnowTraining
import MinnowTestSupport
import XCTest

final class DistillationTrainingTests: XCTestCase {
    let data = TestModels.dataset(count: 256, seed: 3)

    func makeTrainer() throws -> (Trainer, DataLoader) {
        let config = TrainingConfig(model: TestModels.studentConfig(), epochs: 1, batchSize: 32, learningRate: 0.05,
                                    schedule: .constant, seed: 4)
        let loader = DataLoader(dataset: data, batchSize: 32, normalization: TestModels.normalization, seed: 4, dropLast: true)
        return (try Trainer(config: config), loader)
    }

    func trainOneEpoch(_ trainer: Trainer, _ loader: DataLoader, _ distiller: Distiller) throws -> EpochRecord {
        distiller.install(on: trainer, stepsPerEpoch: loader.batchesPerEpoch)
        return try distiller.capturingStudentFeatures {
            try trainer.trainEpoch(batches: loader.epoch(0), steps: loader.batchesPerEpoch, testBatches: [Batch]?.none, observer: nil)
        }
    }

    /// The cache changes where the teacher logits come from, not what training computes.
    func testCachedAndOnlineTeachersTrainTheSame() throws {
        let directory = try TestModels.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let teachers = try TeacherEnsemble(models: [try TestModels.teacher()])
        var records: [EpochRecord] = []
        for cached in [false, true] {
            let (trainer, loader) = try makeTrainer()
            let distiller = try Distiller(settings: .init(loss: .kd), student: trainer.model, inputShape: TestModels.inputShape,
                                          teachers: teachers)
            if cached {
                try distiller.useCache(TeacherCache.open(teachers: teachers, dataset: data, normalization: TestModels.normalization,
                                                         directory: directory))
            }
            records.append(try trainOneEpoch(trainer, loader, distiller))
        }
        XCTAssertEqual(records[0].trainLoss, records[1].trainLoss, accuracy: 1e-4 * records[0].trainLoss)
        XCTAssertEqual(Set(records[1].lossTerms!.keys), ["ce", "kd"])
        let terms = records[1].lossTerms!
        XCTAssertEqual(terms["ce"]! + terms["kd"]!, records[1].trainLoss, accuracy: 1e-4 * records[1].trainLoss)
    }

    /// Hints and attention transfer train the student and the adapters; the adapters are saved with the
    /// student's checkpoint, which still loads as a plain model.
    func testFeatureLossesTrainAndSaveTheAdapters() throws {
        let (trainer, loader) = try makeTrainer()
        let settings = DistillationSettings(loss: .dkd, hints: [LayerPair(student: "features.3", teacher: "layers.1")],
                                            attention: [LayerPair(student: "features.1", teacher: "stem")])
        let distiller = try Distiller(settings: settings, student: trainer.model, inputShape: TestModels.inputShape,
                                      teachers: TeacherEnsemble(models: [try TestModels.teacher()]))
        XCTAssertThrowsError(try distiller.useCache(TeacherCache.open(
            teachers: distiller.teachers, dataset: data, normalization: TestModels.normalization,
            directory: FileManager.default.temporaryDirectory.appendingPathComponent("minnow-unused-\(UUID())"))))
        let adapter = distiller.adapters.hints[0].adapter
        XCTAssertEqual(adapter.filter.shape, [1, 1, 8, 16])
        let before = adapter.filter.value.scalars
        let record = try trainOneEpoch(trainer, loader, distiller)
        XCTAssertEqual(Set(record.lossTerms!.keys), ["ce", "tckd", "nckd", "hint[features.3:layers.1]", "at[features.1:stem]"])
        XCTAssertEqual(record.lossTerms!.values.reduce(0, +), record.trainLoss, accuracy: 1e-4 * record.trainLoss)
        XCTAssertNotEqual(adapter.filter.value.scalars, before, "the adapter trained")
        XCTAssertTrue(trainer.trainedParameters.contains { $0.path == "distillation.hints.0.adapter.filter" })

        let directory = try TestModels.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("student.h5")
        try ModelCheckpoint.save(trainer.model, config: trainer.config.model, to: url, optimizer: trainer.optimizer,
                                 auxiliary: trainer.auxiliaryModules)
        XCTAssertEqual(try ModelCheckpoint.loadModel(from: url).model.parameterCount, trainer.model.parameterCount)
        var generator = SeededGenerator(seed: 99)
        let restored = DistillationAdapters(hints: [FitNetsHint(pair: settings.hints[0], studentChannels: 8, teacherChannels: 16,
                                                                generator: &generator)])
        try ModelCheckpoint.loadAuxiliary(into: restored, named: "distillation", from: try ModelCheckpoint.open(url))
        XCTAssertEqual(restored.hints[0].adapter.filter.value.scalars, adapter.filter.value.scalars)
    }

    /// A feature loss used outside `capturingStudentFeatures` stops the epoch with a typed error
    /// before any step is applied, instead of stopping the process.
    func testFeatureLossOutsideCaptureThrowsBeforeTheStep() throws {
        let (trainer, loader) = try makeTrainer()
        let settings = DistillationSettings(hints: [LayerPair(student: "features.3", teacher: "layers.1")])
        let distiller = try Distiller(settings: settings, student: trainer.model, inputShape: TestModels.inputShape,
                                      teachers: TeacherEnsemble(models: [try TestModels.teacher()]))
        distiller.install(on: trainer, stepsPerEpoch: loader.batchesPerEpoch)
        let before = trainer.trainedParameters.map { $0.parameter.value.scalars }
        XCTAssertThrowsError(try trainer.trainEpoch(batches: loader.epoch(0), steps: loader.batchesPerEpoch,
                                                    testBatches: [Batch]?.none, observer: nil)) { error in
            XCTAssertEqual(error as? DistillationError, .notCaptured(
                "the student's features.3 was not captured in this step: run training inside Distiller.capturingStudentFeatures { }"))
        }
        XCTAssertEqual(trainer.trainedParameters.map { $0.parameter.value.scalars }, before, "no step was applied")
        XCTAssertEqual(trainer.globalStep, 0)
    }

    // MARK: Runs on synthetic Fashion-MNIST-format data (a subset, one or two epochs)

    /// A temporary folder holding a synthetic data set in `data/` (these tests are about the runs'
    /// mechanics, not about the real images).
    func fashionMNIST() throws -> URL {
        let directory = try TestModels.temporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        try SyntheticData.writeFashionMNIST(to: data(in: directory), train: 640, test: 128)
        return directory
    }

    func data(in directory: URL) -> URL { directory.appendingPathComponent("data") }

    func saveTeacher(in directory: URL, classes: Int = 10) throws -> URL {
        let config = ModelConfig(architecture: .resnet, width: 0.25, depth: 8, classes: classes, seed: 1)
        let url = directory.appendingPathComponent("teacher-\(classes).h5")
        try ModelCheckpoint.save(try ModelZoo.build(config), config: config, to: url)
        return url
    }

    func run(_ directory: URL, teacher: URL, settings: DistillationSettings = .init(), name: String = "run",
             augmentation: TrainingRun.AugmentationSettings = .init(), epochs: Int = 1,
             checkpoints: CheckpointPolicy = .init()) throws -> DistillationRun {
        let config = TrainingConfig(model: ModelConfig(architecture: .mobilenetV2, width: 0.25), epochs: epochs, batchSize: 64,
                                    learningRate: 0.05)
        return try DistillationRun(config: config, settings: settings, teachers: [teacher], data: .fashionMNIST,
                                   dataDirectory: data(in: directory), trainSubset: 512,
                                   augmentation: augmentation, checkpoints: checkpoints, directory: directory.appendingPathComponent(name),
                                   cacheDirectory: directory.appendingPathComponent("cache"), commandLine: ["test"])
    }

    func testDistillationRunWritesItsFolderAndReusesTheCache() throws {
        let directory = try fashionMNIST()
        let teacher = try saveTeacher(in: directory)
        let first = try run(directory, teacher: teacher)
        XCTAssertTrue(first.manifest.teacherLogits.hasPrefix("cache: "), first.manifest.teacherLogits)
        XCTAssertTrue(first.manifest.teacherLogits.hasSuffix("(computed)"), first.manifest.teacherLogits)
        let history = try first.start(observer: nil)
        XCTAssertEqual(Set(history[0].lossTerms!.keys), ["ce", "kd"])
        let folder = first.training.directory
        let metrics = try String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertTrue(metrics.contains("\"lossTerms\":{\"ce\":"), metrics)
        let manifest = try String(contentsOf: folder.appendingPathComponent("distillation.json"), encoding: .utf8)
        XCTAssertTrue(manifest.contains("\"temperature\" : 4"), manifest)
        XCTAssertEqual(try ModelCheckpoint.loadModel(from: folder.appendingPathComponent("last.h5")).config.width, 0.25)

        XCTAssertTrue(try run(directory, teacher: teacher, name: "again").manifest.teacherLogits.hasSuffix("(loaded)"))
        let augmented = try run(directory, teacher: teacher, name: "augmented", augmentation: .init(cropPadding: 2))
        XCTAssertTrue(augmented.manifest.teacherLogits.hasPrefix("online: augmentation is on"), augmented.manifest.teacherLogits)
    }

    func testBadInputStopsBeforeTraining() throws {
        let directory = try fashionMNIST()
        let teacher = try saveTeacher(in: directory)
        XCTAssertThrowsError(try run(directory, teacher: try saveTeacher(in: directory, classes: 5))) { error in
            XCTAssertTrue("\(error)".contains("takes [28, 28, 1] images with 5 classes; the data set fashion-mnist has [28, 28, 1] images with 10 classes"),
                          "\(error)")
        }
        XCTAssertThrowsError(try run(directory, teacher: teacher, settings: .init(hints: [LayerPair(student: "features.99", teacher: "layers.1")]))) { error in
            XCTAssertTrue("\(error)".contains("the student has no capturable layer 'features.99'"), "\(error)")
        }
        XCTAssertThrowsError(try run(directory, teacher: teacher, settings: .init(temperature: 0))) { error in
            XCTAssertTrue("\(error)".contains("temperature must be positive"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run").path), "no run folder was written")
    }

    /// Two epochs in one go equal one epoch, a resume from its checkpoint, and one more: the student,
    /// the FitNets adapter, the optimizer state (adapter slots included) and the history. The resume
    /// checks the teacher's fingerprint, and plain `TrainingRun.resume` refuses a distillation run.
    func testDistillationRunResumesExactly() throws {
        let directory = try fashionMNIST()
        let teacher = try saveTeacher(in: directory)
        let settings = DistillationSettings(loss: .dkd, hints: [LayerPair(student: "features.3", teacher: "layers.1")])
        let whole = try run(directory, teacher: teacher, settings: settings, name: "whole", epochs: 2)
        try whole.start(observer: nil)
        let split = try run(directory, teacher: teacher, settings: settings, name: "split", epochs: 2,
                            checkpoints: CheckpointPolicy(keepLast: 2))
        try split.start(observer: nil)
        let splitFolder = split.training.folder
        let resumed = try DistillationRun.resume(from: splitFolder.checkpoint(epoch: 1), dataDirectory: data(in: directory),
                                                 cacheDirectory: nil)
        XCTAssertEqual(resumed.training.trainer.completedEpochs, 1)
        XCTAssertEqual(resumed.manifest.settings, settings)
        try resumed.start(observer: nil)
        XCTAssertEqual(resumed.training.trainer.history, whole.training.trainer.history.map { record in
            var record = record  // wall times differ
            let mine = resumed.training.trainer.history[record.epoch - 1]
            (record.imagesPerSecond, record.trainSeconds, record.evalSeconds) = (mine.imagesPerSecond, mine.trainSeconds, mine.evalSeconds)
            return record
        })
        let a = whole.training.trainer, b = resumed.training.trainer
        for ((path, x), (_, y)) in zip(a.trainedParameters, b.trainedParameters) {
            XCTAssertEqual(x.value.scalars, y.value.scalars, path)
            XCTAssertEqual(a.optimizer.slots[path]?.mapValues(\.scalars), b.optimizer.slots[path]?.mapValues(\.scalars), path)
        }
        XCTAssertTrue(b.trainedParameters.contains { $0.path.hasPrefix("distillation.hints.0") })

        let other = directory.appendingPathComponent("other-teacher.h5")
        let config = ModelConfig(architecture: .resnet, width: 0.25, depth: 8, seed: 2)
        try ModelCheckpoint.save(try ModelZoo.build(config), config: config, to: other)
        XCTAssertThrowsError(try DistillationRun.resume(from: splitFolder.url, teachers: [other], dataDirectory: data(in: directory),
                                                        cacheDirectory: nil)) { error in
            XCTAssertTrue("\(error)".contains("not the same teacher"), "\(error)")
        }
        XCTAssertThrowsError(try TrainingRun.resume(from: splitFolder.url, dataDirectory: data(in: directory))) { error in
            XCTAssertTrue("\(error)".contains("is a distillation run"), "\(error)")
        }
    }
}
