import MinnowDistillation
import MinnowModels
import MinnowNN
import MinnowTensor
import XCTest

final class FeatureCaptureTests: XCTestCase {
    func testCapturableShapesFollowTheArchitecture() throws {
        let student = try ModelZoo.build(TestModels.studentConfig())
        let shapes = FeatureRecorder.capturableShapes(of: student, inputShape: TestModels.inputShape)
        XCTAssertEqual(shapes["features.0"], [8, 8, 8])
        XCTAssertEqual(shapes["features.3"], [4, 4, 8])
        XCTAssertEqual(shapes["features.3.depthwise"], [4, 4, 48])
        XCTAssertEqual(shapes["features.12"], [2, 2, 128])
        XCTAssertEqual(shapes["features.3.project"], [4, 4, 8], "every layer is capturable, a bare Conv2D inside a block too")
        let teacher = try TestModels.teacher().model
        let teacherShapes = FeatureRecorder.capturableShapes(of: teacher, inputShape: TestModels.inputShape)
        XCTAssertEqual(teacherShapes["stem"], [8, 8, 8])
        XCTAssertEqual(teacherShapes["layers.1"], [4, 4, 16])
        XCTAssertEqual(teacherShapes["layers.1.shortcut.0"], [4, 4, 16])
    }

    /// The dry run leaves the model as it was: mode and batch-norm statistics.
    func testCapturableShapesLeaveTheModelUnchanged() throws {
        let student = try ModelZoo.build(TestModels.studentConfig())
        let before = student.namedBuffers().flatMap(\.buffer.value.scalars)
        _ = FeatureRecorder.capturableShapes(of: student, inputShape: TestModels.inputShape)
        XCTAssertTrue(student.isTraining)
        XCTAssertEqual(student.namedBuffers().flatMap(\.buffer.value.scalars), before)
    }

    /// Captured features are the graph's own tensors: a loss on them trains the layers below.
    func testCapturedFeaturesCarryGradients() throws {
        let student = try ModelZoo.build(TestModels.studentConfig())
        let recorder = FeatureRecorder(model: student, paths: ["features.1"])
        var generator = SeededGenerator(seed: 1)
        let images = Tensor.randomNormal([2, 8, 8, 1], generator: &generator)
        _ = recorder.capture { student(images) }
        XCTAssertEqual(Array(recorder.features.keys), ["features.1"])
        recorder.features["features.1"]!.squared().mean().backward()
        let stemFilter = student.namedParameters().first { $0.path == "features.0.conv.filter" }!.parameter
        XCTAssertNotNil(stemFilter.grad)
        XCTAssertGreaterThan(stemFilter.grad!.scalars.map(abs).max()!, 0)
        _ = student(images)
        recorder.removeAll()
        _ = student(images)
        XCTAssertTrue(recorder.features.isEmpty, "nothing is recorded outside capture { }")
    }

    func distillerError(_ settings: DistillationSettings) throws -> DistillationError? {
        let student = try ModelZoo.build(TestModels.studentConfig())
        let teachers = try TeacherEnsemble(models: [try TestModels.teacher()])
        do {
            _ = try Distiller(settings: settings, student: student, inputShape: TestModels.inputShape, teachers: teachers)
        } catch {
            return error
        }
        return nil
    }

    func testUnknownLayerListsNearbyPaths() throws {
        let error = try XCTUnwrap(distillerError(.init(hints: [LayerPair(student: "features.30", teacher: "layers.1")])))
        guard case .unknownLayer(let model, let path, let detail, let nearby) = error else { return XCTFail("\(error)") }
        XCTAssertEqual(model, "student")
        XCTAssertEqual(path, "features.30")
        XCTAssertEqual(detail, "no module has this path")
        XCTAssertTrue(nearby.contains("features.3"), "\(nearby)")
        XCTAssertTrue(error.description.contains("nearby valid paths: "), error.description)

        let teacherError = try XCTUnwrap(distillerError(.init(attention: [LayerPair(student: "features.3", teacher: "layer.1")])))
        XCTAssertTrue(teacherError.description.contains("the teacher has no capturable layer 'layer.1'"), teacherError.description)
        XCTAssertTrue(teacherError.description.contains("layers.1"), teacherError.description)

        XCTAssertNil(try distillerError(.init(hints: [LayerPair(student: "features.3.project", teacher: "layers.1")])),
                     "a layer inside a block is capturable")
    }

    func testMismatchedPairShapesNameBothShapes() throws {
        let error = try XCTUnwrap(distillerError(.init(hints: [LayerPair(student: "features.12", teacher: "layers.0")])))
        XCTAssertEqual(error.description, "distillation: hint features.12:layers.0: the student's features.12 outputs [2, 2, 128] "
            + "and the teacher's layers.0 outputs [8, 8, 8] per image; the pair needs feature maps [H, W, C] of the same height and width")
        XCTAssertNil(try distillerError(.init(hints: [LayerPair(student: "features.3", teacher: "layers.1")],
                                              attention: [LayerPair(student: "features.1", teacher: "stem")])))
    }
}
