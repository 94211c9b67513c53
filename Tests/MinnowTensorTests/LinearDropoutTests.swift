import MinnowTensor
import MinnowTestSupport
import XCTest

final class LinearDropoutTests: XCTestCase {
    var generator = SeededGenerator(seed: 3)

    func random(_ shape: [Int]) -> Tensor { Tensor.randomNormal(shape, generator: &generator) }

    func testLinearValues() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let weight = Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 1, -1])
        let bias = Tensor(shape: [2], scalars: [10, 20])
        XCTAssertEqual(linear(x, weight: weight, bias: bias).scalars, [14, 19, 20, 19])
        XCTAssertEqual(linear(x, weight: weight, bias: nil).scalars, [4, -1, 10, -1])
        // Leading axes are folded into the batch: [2, 1, 3] -> [2, 1, 2], same rows.
        let y = linear(x.reshaped([2, 1, 3]), weight: weight, bias: bias)
        XCTAssertEqual(y.shape, [2, 1, 2])
        XCTAssertEqual(y.scalars, [14, 19, 20, 19])
    }

    func testLinearGradients() {
        GradientCheck.check([random([4, 3]), random([3, 5]), random([5])]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        GradientCheck.check([random([4, 3]), random([3, 5])]) { linear($0[0], weight: $0[1], bias: nil) }
        GradientCheck.check([random([2, 3, 4]), random([4, 2]), random([2])]) { linear($0[0], weight: $0[1], bias: $0[2]) }
    }

    func testLinearShapeErrors() {
        XCTAssertEqual(try Shapes.linear(input: [2, 7, 3], weight: [3, 5], bias: [5]), [2, 7, 5])
        XCTAssertThrowsError(try Shapes.linear(input: [2, 4], weight: [3, 5], bias: nil)) {
            XCTAssertTrue("\($0)".contains("[2, 4]") && "\($0)".contains("[3, 5]"), "\($0)")
        }
        XCTAssertThrowsError(try Shapes.linear(input: [2, 3], weight: [3, 5], bias: [3])) {
            XCTAssertTrue("\($0)".contains("bias") && "\($0)".contains("[3]"), "\($0)")
        }
        XCTAssertThrowsError(try Shapes.linear(input: [2, 3], weight: [3], bias: nil))
    }

    func testDropoutIsIdentityWhenNotTrainingOrRateZero() {
        let x = random([3, 4])
        var rng = SeededGenerator(seed: 9)
        XCTAssertEqual(dropout(x, rate: 0.5, training: false, generator: &rng).scalars, x.scalars)
        XCTAssertEqual(dropout(x, rate: 0, training: true, generator: &rng).scalars, x.scalars)
        XCTAssertEqual(rng, SeededGenerator(seed: 9), "no random draws when dropout is off")
    }

    func testDropoutMaskScalesKeptUnits() {
        let x = Tensor.ones([100, 100])
        var rng = SeededGenerator(seed: 1)
        let y = dropout(x, rate: 0.3, training: true, generator: &rng).scalars
        let kept = y.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 })
        XCTAssertEqual(Double(kept.count) / 10_000, 0.7, accuracy: 0.02)
        XCTAssertNotEqual(rng, SeededGenerator(seed: 1))

        var first = SeededGenerator(seed: 42), second = SeededGenerator(seed: 42)
        XCTAssertEqual(dropout(x, rate: 0.5, training: true, generator: &first).scalars,
                       dropout(x, rate: 0.5, training: true, generator: &second).scalars)
        XCTAssertEqual(dropout(x, rate: 1, training: true, generator: &first).scalars, [Float](repeating: 0, count: 10_000))
    }

    func testDropoutGradientUsesTheSameMask() {
        GradientCheck.check([random([4, 6])]) { xs in
            var rng = SeededGenerator(seed: 77)
            return dropout(xs[0], rate: 0.4, training: true, generator: &rng)
        }
        XCTAssertThrowsError(try Shapes.dropout([2, 3], rate: 1.5)) {
            XCTAssertTrue("\($0)".contains("1.5") && "\($0)".contains("[2, 3]"), "\($0)")
        }
    }
}
