@testable import MinnowTensor
import MinnowTestSupport
import XCTest

final class CoreOpTests: XCTestCase {
    var generator = SeededGenerator(seed: 7)

    func random(_ shape: [Int]) -> Tensor { Tensor.randomNormal(shape, generator: &generator) }

    func testBroadcastArithmeticValues() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3], scalars: [10, 20, 30])
        XCTAssertEqual((a + b).scalars, [11, 22, 33, 14, 25, 36])
        XCTAssertEqual((a * Tensor(shape: [2, 1], scalars: [2, 3])).scalars, [2, 4, 6, 12, 15, 18])
        XCTAssertEqual((a - 1).scalars, [0, 1, 2, 3, 4, 5])
        XCTAssertEqual((a / 2).scalars, [0.5, 1, 1.5, 2, 2.5, 3])
    }

    func testArithmeticFastPathsMatchGeneralBroadcast() {
        // Row broadcast on either side, scalars on either side, large enough to split over threads.
        let a = random([64, 33, 40]), row = random([40]), column = random([33, 1]), scalar = Tensor(2.5)
        for (x, y) in [(a, row), (row, a), (a, scalar), (scalar, a), (a, column), (column, a)] {
            let expected = Tensor.broadcastValues(x, y, op: "reference") { $0 - $1 }
            assertClose(x - y, expected, rtol: 0, atol: 0, "subtract \(x.shape) \(y.shape)")
            let quotient = Tensor.broadcastValues(x, y, op: "reference") { $0 / $1 }
            assertClose(x / y, quotient, rtol: 0, atol: 0, "divide \(x.shape) \(y.shape)")
            let product = Tensor.broadcastValues(x, y, op: "reference") { $0 * $1 }
            assertClose(x * y, product, rtol: 0, atol: 0, "multiply \(x.shape) \(y.shape)")
        }
    }

    func testBroadcastGradients() {
        GradientCheck.check([random([2, 3, 4]), random([3, 1])]) { $0[0] + $0[1] }
        GradientCheck.check([random([2, 3, 4]), random([4])]) { $0[0] - $0[1] }
        GradientCheck.check([random([2, 3, 4]), random([2, 1, 4])]) { $0[0] * $0[1] }
        GradientCheck.check([random([2, 3]), random([3]).abs() + 1]) { $0[0] / $0[1] }
        GradientCheck.check([random([3, 4]), random([3, 4])]) { $0[0].maximum($0[1]) }
        GradientCheck.check([random([3, 4])]) { -$0[0] * 3 }
    }

    func testUnaryGradients() {
        GradientCheck.check([random([3, 4])]) { $0[0].exp() }
        GradientCheck.check([random([3, 4]).abs() + 0.5]) { $0[0].log() }
        GradientCheck.check([random([3, 4]).abs() + 0.5]) { $0[0].sqrt() }
        GradientCheck.check([random([3, 4]).abs() + 0.5]) { $0[0].pow(1.5) }
        GradientCheck.check([random([3, 4])]) { $0[0].squared() }
        GradientCheck.check([Tensor(shape: [4], scalars: [-2, -0.5, 0.5, 2])]) { $0[0].abs() }
        GradientCheck.check([Tensor(shape: [4], scalars: [-2, -0.5, 0.5, 2])]) { $0[0].clamped(-1, 1) }
    }

    func testReductions() {
        let x = Tensor(shape: [2, 3], scalars: [1, 5, 3, 4, 2, 6])
        XCTAssertEqual(x.sum(axes: [1]).scalars, [9, 12])
        XCTAssertEqual(x.sum(axes: [0], keepDims: true).shape, [1, 3])
        XCTAssertEqual(x.mean().item, 3.5)
        XCTAssertEqual(x.max(axis: 1).scalars, [5, 6])
        XCTAssertEqual(x.argmax(axis: 1).scalars, [1, 2])
        XCTAssertEqual(x.argmax(axis: 0).scalars, [1, 0, 1])
        GradientCheck.check([random([2, 3, 4])]) { $0[0].sum(axes: [0, 2]) }
        GradientCheck.check([random([2, 3, 4])]) { $0[0].mean(axes: [-1], keepDims: true) }
        GradientCheck.check([random([2, 3, 4])]) { $0[0].max(axis: 1) }
        GradientCheck.check([random([2, 3])]) { $0[0].broadcasted(to: [4, 2, 3]) }
    }

    func testMovement() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(x.transposed().scalars, [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(x.reshaped([3, -1]).shape, [3, 2])
        XCTAssertEqual(Tensor.concatenate([x, x], axis: 1).scalars, [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
        XCTAssertEqual(x.sliced(axis: 1, 1..<3).scalars, [2, 3, 5, 6])
        XCTAssertEqual(x.padded([(0, 0), (1, 0)]).scalars, [0, 1, 2, 3, 0, 4, 5, 6])
        XCTAssertEqual(x.gathered(rows: [1, 0, 1]).scalars, [4, 5, 6, 1, 2, 3, 4, 5, 6])
        GradientCheck.check([random([2, 3, 4])]) { $0[0].permuted([2, 0, 1]) }
        GradientCheck.check([random([2, 3, 4])]) { $0[0].reshaped([6, 4]).transposed() }
        GradientCheck.check([random([2, 3]), random([2, 2])]) { Tensor.concatenate([$0[0], $0[1]], axis: 1) }
        GradientCheck.check([random([2, 5, 3])]) { $0[0].sliced(axis: 1, 1..<4) }
        GradientCheck.check([random([2, 3, 3])]) { $0[0].padded([(0, 0), (1, 2), (2, 1)]) }
        GradientCheck.check([random([4, 3])]) { $0[0].gathered(rows: [3, 1, 3]) }
    }

    func testMatmul() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
        XCTAssertEqual(matmul(a, b).scalars, [58, 64, 139, 154])
        GradientCheck.check([random([3, 4]), random([4, 5])]) { matmul($0[0], $0[1]) }
        GradientCheck.check([random([2, 3, 4]), random([2, 4, 5])]) { matmul($0[0], $0[1]) }
        GradientCheck.check([random([2, 3, 4]), random([4, 5])]) { matmul($0[0], $0[1]) }
        GradientCheck.check([random([4, 3]), random([5, 4])]) { matmul($0[0], $0[1], transposeA: true, transposeB: true) }
        GradientCheck.check([random([2, 4, 3]), random([5, 4])]) { matmul($0[0], $0[1], transposeA: true, transposeB: true) }
    }

    func testLargeGemmMatchesNaiveProduct() {
        // Large enough that the wrapper splits the work over the thread pool.
        for (m, n, k) in [(300, 40, 70), (12, 20, 5000), (30, 400, 90)] {
            let a = random([m, k]), b = random([k, n])
            let c = matmul(a, b).scalars
            let av = a.scalars, bv = b.scalars
            for (i, j) in [(0, 0), (m - 1, n - 1), (m / 2, n / 3)] {
                var expected: Double = 0
                for p in 0..<k { expected += Double(av[i * k + p]) * Double(bv[p * n + j]) }
                XCTAssertEqual(Double(c[i * n + j]), expected, accuracy: 1e-3 * max(1, abs(expected)))
            }
        }
    }

    func testAutogradAccumulatesAndFrees() {
        let x = Tensor(shape: [3], scalars: [1, 2, 3]).requiringGrad()
        let y = (x * x + x).sum()   // x used twice: both paths accumulate
        y.backward()
        XCTAssertEqual(x.grad?.scalars, [3, 5, 7])
        (x * 2).sum().backward()     // a second graph accumulates into the same leaf
        XCTAssertEqual(x.grad?.scalars, [5, 7, 9])
        x.zeroGrad()
        XCTAssertNil(x.grad)
        let z = withoutGrad { x * 3 }
        XCTAssertFalse(z.requiresGrad)
        XCTAssertFalse((x * 3).detached().requiresGrad)
    }

    func testCopyOnWrite() {
        let a = Tensor(shape: [2], scalars: [1, 2])
        var b = a
        b[[0]] = 9
        XCTAssertEqual(a.scalars, [1, 2])
        XCTAssertEqual(b.scalars, [9, 2])
    }

    func testShapeErrorsNameBothShapes() {
        XCTAssertThrowsError(try Shapes.broadcast([2, 3], [4, 3], op: "add")) { error in
            XCTAssertTrue("\(error)".contains("[2, 3]") && "\(error)".contains("[4, 3]"), "\(error)")
        }
        XCTAssertThrowsError(try Shapes.matmul([2, 3], [4, 5])) { error in
            XCTAssertTrue("\(error)".contains("[2, 3]") && "\(error)".contains("[4, 5]"), "\(error)")
        }
        XCTAssertThrowsError(try Shapes.matmul([3], [3, 5])) { error in
            XCTAssertTrue("\(error)".contains("rank"), "\(error)")
        }
        XCTAssertThrowsError(try Shapes.reshape([2, 3], to: [4, -1])) { error in
            XCTAssertTrue("\(error)".contains("[2, 3]") && "\(error)".contains("[4, -1]"), "\(error)")
        }
        XCTAssertThrowsError(try Shapes.axis(3, rank: 2, op: "sum", shape: [2, 3]))
    }
}
