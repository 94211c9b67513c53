import MinnowDistillation
import MinnowTensor
import MinnowTestSupport
import XCTest

/// Golden values from Tests/Fixtures/generate_distillation.py (PyTorch, the papers' reference code)
/// and finite-difference gradient checks for every distillation loss.
final class LossTests: XCTestCase {
    func labels(_ tensor: Tensor) -> [Int] { tensor.scalars.map { Int($0) } }

    func testHintonKDMatchesPyTorch() throws {
        let fixture = try Fixture("distillation")
        for (name, kd) in [("kd_t4", HintonKD(temperature: 4, alpha: 0.9)), ("kd_t1", HintonKD(temperature: 1, alpha: 0.5))] {
            let student = try fixture["\(name).student"].requiringGrad()
            let terms = try kd.terms(studentLogits: student, teacherLogits: fixture["\(name).teacher"],
                                 labels: labels(fixture["\(name).labels"]))
            XCTAssertEqual(terms.map(\.name), ["ce", "kd"])
            try assertClose(terms[0].value, fixture["\(name).ce"], "\(name) ce")
            try assertClose(terms[1].value, fixture["\(name).kd"], "\(name) kd")
            let loss = terms[0].value + terms[1].value
            try assertClose(loss, fixture["\(name).loss"], "\(name) loss")
            loss.backward()
            try assertClose(student.grad!, fixture["\(name).grad_student"], "\(name) gradient")
        }
    }

    func testDecoupledKDMatchesReferenceCode() throws {
        let fixture = try Fixture("distillation")
        let (student, teacher, labels) = try (fixture["dkd.student"].requiringGrad(), fixture["dkd.teacher"], labels(fixture["dkd.labels"]))
        try assertClose(DecoupledKD.targetClassKL(studentLogits: student, teacherLogits: teacher, labels: labels, temperature: 4),
                        fixture["dkd.tckd"], "TCKD")
        try assertClose(DecoupledKD.nonTargetClassKL(studentLogits: student, teacherLogits: teacher, labels: labels, temperature: 4),
                        fixture["dkd.nckd"], "NCKD")
        let terms = DecoupledKD(temperature: 4, alpha: 1, beta: 8).terms(studentLogits: student, teacherLogits: teacher, labels: labels)
        XCTAssertEqual(terms.map(\.name), ["ce", "tckd", "nckd"])
        let loss = terms.dropFirst().reduce(terms[0].value) { $0 + $1.value }
        try assertClose(loss, fixture["dkd.loss"], "DKD loss")
        loss.backward()
        try assertClose(student.grad!, fixture["dkd.grad_student"], "DKD gradient")
    }

    func testAttentionTransferMatchesReferenceCode() throws {
        let fixture = try Fixture("distillation")
        let student = try fixture["at.student"].requiringGrad()
        let loss = try AttentionTransfer(beta: 1000)(studentFeature: student, teacherFeature: fixture["at.teacher"])
        try assertClose(loss, fixture["at.loss"], "AT loss")
        loss.backward()
        try assertClose(student.grad!, fixture["at.grad_student"], "AT gradient")
    }

    func testFitNetsHintMatchesPyTorch() throws {
        let fixture = try Fixture("distillation")
        let inputs = try ["student", "filter", "bias"].map { try fixture["fitnets.\($0)"].requiringGrad() }
        let loss = try FitNetsHint.loss(studentFeature: inputs[0], teacherFeature: fixture["fitnets.teacher"], filter: inputs[1], bias: inputs[2])
        try assertClose(loss, fixture["fitnets.loss"], "FitNets loss")
        loss.backward()
        for (name, input) in zip(["student", "filter", "bias"], inputs) {
            try assertClose(input.grad!, fixture["fitnets.grad_\(name)"], "FitNets gradient of \(name)")
        }
    }

    // MARK: Gradient checks

    func randomLogits(_ seed: UInt64, scale: Float = 2) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor.randomNormal([5, 7], generator: &generator) * scale
    }

    func testHintonKDGradient() {
        let teacher = randomLogits(2, scale: 3), labels = [0, 3, 6, 2, 2]
        let kd = HintonKD(temperature: 3, alpha: 0.7)
        GradientCheck.check([randomLogits(1)]) { xs in
            kd.terms(studentLogits: xs[0], teacherLogits: teacher, labels: labels, labelSmoothing: 0.1).map(\.value).reduce(Tensor(0), +)
        }
    }

    func testDecoupledKDGradient() {
        let teacher = randomLogits(4, scale: 3), labels = [1, 1, 5, 0, 6]
        let dkd = DecoupledKD(temperature: 2, alpha: 1, beta: 8)
        GradientCheck.check([randomLogits(3)]) { xs in
            dkd.terms(studentLogits: xs[0], teacherLogits: teacher, labels: labels).map(\.value).reduce(Tensor(0), +)
        }
    }

    func testAttentionTransferGradient() {
        var generator = SeededGenerator(seed: 5)
        let student = Tensor.randomNormal([2, 3, 3, 4], generator: &generator)
        let teacher = Tensor.randomNormal([2, 3, 3, 6], generator: &generator)
        GradientCheck.check([student], step: 1e-3) { xs in
            AttentionTransfer(beta: 10)(studentFeature: xs[0], teacherFeature: teacher)
        }
    }

    func testFitNetsHintGradient() {
        var generator = SeededGenerator(seed: 6)
        let student = Tensor.randomNormal([2, 3, 3, 4], generator: &generator)
        let teacher = Tensor.randomNormal([2, 3, 3, 5], generator: &generator)
        let filter = Tensor.randomNormal([1, 1, 4, 5], generator: &generator) * 0.5
        let bias = Tensor.randomNormal([5], generator: &generator) * 0.1
        GradientCheck.check([student, filter, bias]) { xs in
            FitNetsHint.loss(studentFeature: xs[0], teacherFeature: teacher, filter: xs[1], bias: xs[2])
        }
    }

    // MARK: Settings

    func testDKDWarmupRampsTheDistillationTerms() {
        let (student, teacher, labels) = (randomLogits(7), randomLogits(8), [0, 1, 2, 3, 4])
        let dkd = DecoupledKD(warmupEpochs: 4)
        let full = dkd.terms(studentLogits: student, teacherLogits: teacher, labels: labels, epochProgress: 10)
        let quarter = dkd.terms(studentLogits: student, teacherLogits: teacher, labels: labels, epochProgress: 1)
        XCTAssertEqual(quarter[0].value.item, full[0].value.item, "CE is not ramped")
        XCTAssertEqual(quarter[1].value.item, full[1].value.item / 4, accuracy: 1e-6)
        XCTAssertEqual(quarter[2].value.item, full[2].value.item / 4, accuracy: 1e-6)
    }

    func testInvalidSettingsAreRejected() {
        func message(_ settings: DistillationSettings) -> String {
            do { try settings.validate() } catch { return error.description }
            return "accepted"
        }
        XCTAssertTrue(message(.init(temperature: 0)).contains("temperature must be positive"), message(.init(temperature: 0)))
        XCTAssertTrue(message(.init(temperature: -2)).contains("-2"))
        XCTAssertTrue(message(.init(alpha: 1.5)).contains("alpha must be in [0, 1], got 1.5"), message(.init(alpha: 1.5)))
        XCTAssertTrue(message(.init(loss: .ce)).contains("uses no teacher"))
        XCTAssertTrue(message(.init(dkdBeta: -1)).contains("DKD weights"))
        XCTAssertEqual(message(.init(loss: .dkd)), "accepted")
        XCTAssertThrowsError(try LayerPair(parsing: "features.3")) { error in
            XCTAssertTrue("\(error)".contains("studentPath:teacherPath"), "\(error)")
        }
        XCTAssertEqual(try LayerPair(parsing: "features.3:layers.1"), LayerPair(student: "features.3", teacher: "layers.1"))
    }
}
