import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowDistillation
import MinnowHDF5
import MinnowModels
import MinnowNN
import MinnowTensor
import XCTest

final class TeacherTests: XCTestCase {
    func images(_ count: Int) -> Tensor {
        var generator = SeededGenerator(seed: 9)
        return Tensor.randomNormal([count] + TestModels.inputShape, generator: &generator)
    }

    func testEnsembleAveragesLogitsInEvaluationMode() throws {
        let (a, b) = (try TestModels.teacher(seed: 1), try TestModels.teacher(seed: 2))
        let ensemble = try TeacherEnsemble(models: [a, b])
        XCTAssertFalse(a.model.isTraining)
        let x = images(3)
        let expected = withoutGrad { (a.model(x) + b.model(x)) * 0.5 }
        let logits = ensemble.logits(x)
        XCTAssertFalse(logits.requiresGrad)
        XCTAssertTrue(logits.isClose(to: expected), "\(logits) vs \(expected)")
    }

    func testTeachersMustFitEachOtherAndTheData() throws {
        XCTAssertThrowsError(try TeacherEnsemble(models: [try TestModels.teacher(), try TestModels.teacher(classes: 5)])) { error in
            XCTAssertTrue("\(error)".contains("teacher 2 takes [8, 8, 1] images with 5 classes"), "\(error)")
        }
        let ensemble = try TeacherEnsemble(models: [try TestModels.teacher(classes: 5)])
        XCTAssertThrowsError(try ensemble.checkFits(imageShape: [8, 8, 1], classes: 4, dataset: "quadrants")) { error in
            XCTAssertEqual("\(error)", "distillation: teacher: the teacher takes [8, 8, 1] images with 5 classes; "
                + "the data set quadrants has [8, 8, 1] images with 4 classes")
        }
        XCTAssertThrowsError(try TeacherEnsemble(checkpoints: [URL(fileURLWithPath: "/nonexistent/best.h5")])) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/best.h5: no such file"), "\(error)")
        }
    }

    /// A teacher loaded from a checkpoint is the saved model: same logits, same fingerprint.
    func testCheckpointTeacherMatchesTheSavedModel() throws {
        let directory = try TestModels.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (model, config) = try TestModels.teacher()
        let url = directory.appendingPathComponent("teacher.h5")
        try ModelCheckpoint.save(model, config: config, to: url)
        let loaded = try TeacherEnsemble(checkpoints: [url])
        let inMemory = try TeacherEnsemble(models: [(model, config)])
        XCTAssertEqual(loaded.fingerprint, inMemory.fingerprint)
        XCTAssertEqual(loaded.members[0].source, url)
        XCTAssertTrue(loaded.logits(images(2)).isClose(to: inMemory.logits(images(2))))
    }

    func testCacheIsComputedOnceAndMatchesTheOnlineTeacher() throws {
        let directory = try TestModels.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let teachers = try TeacherEnsemble(models: [try TestModels.teacher()])
        let data = TestModels.dataset(count: 100, seed: 1)
        let first = try TeacherCache.open(teachers: teachers, dataset: data, normalization: TestModels.normalization,
                                          directory: directory, batchSize: 32)
        XCTAssertEqual(first.status, .computed)
        XCTAssertEqual(first.logits.shape, [100, 4])
        let second = try TeacherCache.open(teachers: teachers, dataset: data, normalization: TestModels.normalization,
                                           directory: directory)
        XCTAssertEqual(second.status, .loaded)
        XCTAssertEqual(second.logits.scalars, first.logits.scalars)
        // Rows are the teacher's logits of the unaugmented images, by data-set index.
        let indices = [7, 99, 0, 42]
        let online = teachers.logits(data.subset(indices: indices).images(normalization: TestModels.normalization))
        XCTAssertTrue(second.logits(for: indices).isClose(to: online, rtol: 1e-4, atol: 1e-5))
    }

    /// Changing the teacher, the data (pixels or labels) or the normalization selects another cache file.
    func testCacheKeyChangesWithTeacherDataAndNormalization() throws {
        let directory = try TestModels.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let teachers = try TeacherEnsemble(models: [try TestModels.teacher()])
        let data = TestModels.dataset(count: 40, seed: 1)
        func open(_ teachers: TeacherEnsemble, _ data: Dataset, _ normalization: Normalization = TestModels.normalization) throws -> TeacherCache {
            try TeacherCache.open(teachers: teachers, dataset: data, normalization: normalization, directory: directory)
        }
        let base = try open(teachers, data)
        var pixels = data.pixels
        pixels[5] &+= 1
        var labels = data.labels
        labels[3] = (labels[3] + 1) % 4
        let variants = [
            try open(try TeacherEnsemble(models: [try TestModels.teacher(seed: 2)]), data),
            try open(teachers, Dataset(name: data.name, pixels: pixels, labels: data.labels, imageShape: data.imageShape, classCount: 4)),
            try open(teachers, Dataset(name: data.name, pixels: data.pixels, labels: labels, imageShape: data.imageShape, classCount: 4)),
            try open(teachers, data, Normalization(mean: [0.4], std: [0.25])),
            try open(try TeacherEnsemble(models: [try TestModels.teacher(), try TestModels.teacher(seed: 2)]), data),
        ]
        for variant in variants {
            XCTAssertEqual(variant.status, .computed)
            XCTAssertNotEqual(variant.key, base.key)
        }
        XCTAssertEqual(Set(variants.map(\.key)).count, variants.count)
        XCTAssertEqual(try open(teachers, data).status, .loaded)
    }

    func testDamagedCacheIsRecomputed() throws {
        let directory = try TestModels.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let teachers = try TeacherEnsemble(models: [try TestModels.teacher()])
        let data = TestModels.dataset(count: 20, seed: 1)
        let cache = try TeacherCache.open(teachers: teachers, dataset: data, normalization: TestModels.normalization, directory: directory)
        try Data("not hdf5".utf8).write(to: cache.url)
        let reopened = try TeacherCache.open(teachers: teachers, dataset: data, normalization: TestModels.normalization, directory: directory)
        guard case .recomputed(let reason) = reopened.status else { return XCTFail("\(reopened.status)") }
        XCTAssertTrue(reason.contains("not an HDF5 file"), reason)
        XCTAssertEqual(reopened.logits.scalars, cache.logits.scalars)
    }
}
