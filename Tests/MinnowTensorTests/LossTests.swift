import Foundation
import MinnowTensor
import MinnowTestSupport
import XCTest

final class LossTests: XCTestCase {
    var generator = SeededGenerator(seed: 17)

    func random(_ shape: [Int], standardDeviation: Float = 1) -> Tensor {
        Tensor.randomNormal(shape, standardDeviation: standardDeviation, generator: &generator)
    }

    func testSoftmaxValues() {
        assertClose(softmax(Tensor(shape: [1, 2], scalars: [0, logf(3)])), Tensor(shape: [1, 2], scalars: [0.25, 0.75]))
        // Large logits neither overflow nor lose the differences.
        let large = Tensor(shape: [2], scalars: [1000, 1001])
        assertClose(logSoftmax(large), Tensor(shape: [2], scalars: [-1.3132617, -0.3132617]))
        assertClose(softmax(large), Tensor(shape: [2], scalars: [0.26894142, 0.7310586]))
        let x = random([2, 3, 4])
        for axis in [0, 1, 2, -1] {
            let sums = softmax(x, axis: axis).sum(axes: [axis])
            assertClose(sums, Tensor.ones(sums.shape), "axis \(axis)")
            assertClose(logSoftmax(x, axis: axis).exp(), softmax(x, axis: axis), "axis \(axis)")
        }
    }

    func testSoftmaxGradients() {
        for axis in [0, 1, -1] {
            GradientCheck.check([random([2, 3, 4])]) { softmax($0[0], axis: axis) }
            GradientCheck.check([random([2, 3, 4])]) { logSoftmax($0[0], axis: axis) }
        }
    }

    func testCrossEntropyValues() {
        for smoothing: Float in [0, 0.1] {
            let uniform = crossEntropy(logits: Tensor.full([3, 10], 2.5), labels: [0, 4, 9], labelSmoothing: smoothing)
            XCTAssertEqual(uniform.item, logf(10), accuracy: 1e-5)
        }
        let logits = Tensor(shape: [1, 2], scalars: [0, logf(3)])
        XCTAssertEqual(crossEntropy(logits: logits, labels: [1]).item, 0.28768207, accuracy: 1e-6)
        // Smoothed target [0.1, 0.9] against probabilities [0.25, 0.75].
        XCTAssertEqual(crossEntropy(logits: logits, labels: [1], labelSmoothing: 0.2).item, 0.39754330, accuracy: 1e-6)
    }

    func testCrossEntropyGradientIsSoftmaxMinusTarget() {
        let logits = Tensor(shape: [2, 2], scalars: [0, logf(3), 0, 0]).requiringGrad()
        crossEntropy(logits: logits, labels: [1, 0], labelSmoothing: 0.2).backward()
        // (softmax - target) / N with targets [0.1, 0.9] and [0.9, 0.1].
        assertClose(logits.grad!, Tensor(shape: [2, 2], scalars: [0.075, -0.075, -0.2, 0.2]))
    }

    func testCrossEntropyGradients() {
        let labels = [2, 0, 4, 4]
        for smoothing: Float in [0, 0.15] {
            GradientCheck.check([random([4, 5], standardDeviation: 2)]) {
                crossEntropy(logits: $0[0], labels: labels, labelSmoothing: smoothing)
            }
        }
    }

    func testCrossEntropyArgumentErrors() {
        XCTAssertNoThrow(try Shapes.crossEntropy(logits: [2, 3], labels: [0, 2], labelSmoothing: 0))
        XCTAssertThrowsError(try Shapes.crossEntropy(logits: [2, 3], labels: [0, 5], labelSmoothing: 0)) {
            XCTAssertTrue("\($0)".contains("label 5") && "\($0)".contains("3 classes"), "\($0)")
        }
        XCTAssertThrowsError(try Shapes.crossEntropy(logits: [2, 3], labels: [-1, 0], labelSmoothing: 0)) {
            XCTAssertTrue("\($0)".contains("label -1"), "\($0)")
        }
        XCTAssertThrowsError(try Shapes.crossEntropy(logits: [2, 3], labels: [0], labelSmoothing: 0)) {
            XCTAssertTrue("\($0)".contains("1 labels") && "\($0)".contains("[2, 3]"), "\($0)")
        }
        XCTAssertThrowsError(try Shapes.crossEntropy(logits: [2, 3, 1], labels: [0, 0], labelSmoothing: 0))
        XCTAssertThrowsError(try Shapes.crossEntropy(logits: [2, 3], labels: [0, 0], labelSmoothing: 1.5))
    }

    func testKLDivergenceValues() {
        let student = Tensor(shape: [1, 2], scalars: [0, 0]), teacher = Tensor(shape: [1, 2], scalars: [0, logf(3)])
        // KL([0.25, 0.75] || [0.5, 0.5]).
        XCTAssertEqual(klDivergence(studentLogits: student, teacherLogits: teacher, temperature: 1).item, 0.13081204, accuracy: 1e-6)
        // At T = 2 the teacher softens to softmax([0, ln(3) / 2]); the term is scaled by T².
        XCTAssertEqual(klDivergence(studentLogits: student, teacherLogits: teacher, temperature: 2).item, 0.14536313, accuracy: 1e-6)
        let same = random([3, 4])
        XCTAssertEqual(klDivergence(studentLogits: same, teacherLogits: same, temperature: 4).item, 0, accuracy: 1e-6)
        // The batch mean: two copies of a row give the loss of one.
        let twice = klDivergence(studentLogits: Tensor.concatenate([student, student], axis: 0),
                                 teacherLogits: Tensor.concatenate([teacher, teacher], axis: 0), temperature: 1)
        XCTAssertEqual(twice.item, 0.13081204, accuracy: 1e-6)
    }

    func testKLDivergenceGradients() {
        for temperature: Float in [1, 4] {
            let teacher = random([3, 5], standardDeviation: 2)
            GradientCheck.check([random([3, 5], standardDeviation: 2)]) {
                klDivergence(studentLogits: $0[0], teacherLogits: teacher, temperature: temperature)
            }
        }
        let student = random([2, 3]).requiringGrad(), teacher = random([2, 3]).requiringGrad()
        klDivergence(studentLogits: student, teacherLogits: teacher, temperature: 2).backward()
        XCTAssertNotNil(student.grad)
        XCTAssertNil(teacher.grad, "the teacher is a fixed target")
    }

    func testKLDivergenceArgumentErrors() {
        XCTAssertThrowsError(try Shapes.klDivergence(student: [2, 3], teacher: [2, 3], temperature: 0)) {
            XCTAssertTrue("\($0)".contains("temperature") && "\($0)".contains("0.0"), "\($0)")
        }
        XCTAssertThrowsError(try Shapes.klDivergence(student: [2, 3], teacher: [2, 4], temperature: 1)) {
            XCTAssertTrue("\($0)".contains("[2, 3]") && "\($0)".contains("[2, 4]"), "\($0)")
        }
    }

    func testMSELoss() {
        let prediction = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), target = Tensor(shape: [2, 2], scalars: [1, 0, 0, 4])
        XCTAssertEqual(mseLoss(prediction, target).item, 13.0 / 4)
        GradientCheck.check([random([3, 4]), random([3, 4])]) { mseLoss($0[0], $0[1]) }
        XCTAssertThrowsError(try Shapes.mseLoss(prediction: [3, 4], target: [4, 3])) {
            XCTAssertTrue("\($0)".contains("[3, 4]") && "\($0)".contains("[4, 3]"), "\($0)")
        }
    }
}
