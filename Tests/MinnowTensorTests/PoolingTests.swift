import MinnowTensor
import MinnowTestSupport
import XCTest

final class PoolingTests: XCTestCase {
    var generator = SeededGenerator(seed: 11)

    /// Distinct values 0.1 apart in random order: no ties within a finite-difference step.
    func distinct(_ shape: [Int]) -> Tensor {
        let n = Tensor.elementCount(shape)
        let values = (0..<n).map { Float($0) * 0.1 - Float(n) * 0.05 }.shuffled(using: &generator)
        return Tensor(shape: shape, scalars: values)
    }

    func testMaxPoolOnFourByFour() {
        let x = Tensor(shape: [1, 4, 4, 1], scalars: (1...16).map(Float.init))
        XCTAssertEqual(maxPool2d(x, kernelSize: (2, 2), stride: (2, 2)).scalars, [6, 8, 14, 16])
        XCTAssertEqual(maxPool2d(x, kernelSize: (3, 3), stride: (1, 1)).scalars, [11, 12, 15, 16])
    }

    func testMaxPoolPaddingNeverWins() {
        // All inputs negative: a zero from the padding would win if padding took part.
        let x = Tensor(shape: [1, 4, 4, 1], scalars: (1...16).map { -Float($0) })
        let y = maxPool2d(x, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1))
        XCTAssertEqual(y.shape, [1, 2, 2, 1])
        XCTAssertEqual(y.scalars, [-1, -2, -5, -6])
    }

    func testMaxPoolGradientGoesToFirstOfTiesAndAccumulates() {
        let ties = Tensor.ones([1, 2, 2, 2]).requiringGrad()
        maxPool2d(ties, kernelSize: (2, 2), stride: (2, 2)).sum().backward()
        XCTAssertEqual(ties.grad?.scalars, [1, 1, 0, 0, 0, 0, 0, 0])

        // The center is the maximum of all four overlapping 2x2 windows.
        var values = [Float](repeating: 0, count: 9)
        values[4] = 5
        let x = Tensor(shape: [1, 3, 3, 1], scalars: values).requiringGrad()
        maxPool2d(x, kernelSize: (2, 2), stride: (1, 1)).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [0, 0, 0, 0, 4, 0, 0, 0, 0])
    }

    func testAvgPoolCountsPaddingInTheDivisor() {
        let x = Tensor.ones([1, 3, 3, 1])
        let y = avgPool2d(x, kernelSize: (3, 3), stride: (1, 1), padding: (1, 1))
        assertClose(y, Tensor(shape: [1, 3, 3, 1], scalars: [4, 6, 4, 6, 9, 6, 4, 6, 4].map { $0 / 9 }))
        let z = avgPool2d(Tensor(shape: [1, 4, 4, 1], scalars: (1...16).map(Float.init)), kernelSize: (2, 2), stride: (2, 2))
        XCTAssertEqual(z.scalars, [3.5, 5.5, 11.5, 13.5])
    }

    func testGlobalAvgPool() {
        let x = Tensor(shape: [2, 2, 1, 2], scalars: [1, 10, 3, 30, 5, 50, 7, 70])
        let y = globalAvgPool2d(x)
        XCTAssertEqual(y.shape, [2, 2])
        XCTAssertEqual(y.scalars, [2, 20, 6, 60])
    }

    func testPoolingGradients() {
        let settings: [((Int, Int), (Int, Int), (Int, Int))] = [
            ((2, 2), (2, 2), (0, 0)), ((3, 3), (2, 2), (1, 1)), ((3, 2), (1, 2), (1, 1)), ((2, 3), (2, 1), (0, 1)),
        ]
        for (kernel, stride, padding) in settings {
            GradientCheck.check([distinct([2, 5, 6, 3])]) {
                maxPool2d($0[0], kernelSize: kernel, stride: stride, padding: padding)
            }
            GradientCheck.check([distinct([2, 5, 6, 3])]) {
                avgPool2d($0[0], kernelSize: kernel, stride: stride, padding: padding)
            }
        }
        GradientCheck.check([distinct([2, 3, 4, 5])]) { globalAvgPool2d($0[0]) }
    }

    /// Large enough to split over the thread pool; compared with a direct loop.
    func testLargePoolingMatchesReference() {
        let (n, h, w, c) = (8, 16, 15, 32)
        let x = Tensor.randomNormal([n, h, w, c], generator: &generator).requiringGrad()
        let seed = Tensor.randomNormal([n, 8, 8, c], generator: &generator)
        let maxOut = maxPool2d(x, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1))
        let avgOut = avgPool2d(x, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1))
        XCTAssertEqual(maxOut.shape, [n, 8, 8, c])
        maxOut.backward(seed: seed)
        let maxGrad = x.grad!.scalars
        x.zeroGrad()
        avgOut.backward(seed: seed)
        let avgGrad = x.grad!.scalars

        let xs = x.scalars, gs = seed.scalars, maxs = maxOut.scalars, avgs = avgOut.scalars
        var expectedMaxGrad = [Float](repeating: 0, count: xs.count), expectedAvgGrad = expectedMaxGrad
        for b in 0..<n { for oy in 0..<8 { for ox in 0..<8 { for k in 0..<c {
            let out = ((b * 8 + oy) * 8 + ox) * c + k
            var best = -Float.infinity, bestIndex = 0, sum: Float = 0
            for dy in 0..<3 { for dx in 0..<3 {
                let (iy, ix) = (oy * 2 - 1 + dy, ox * 2 - 1 + dx)
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                let index = ((b * h + iy) * w + ix) * c + k
                sum += xs[index]
                expectedAvgGrad[index] += gs[out] / 9
                if xs[index] > best { (best, bestIndex) = (xs[index], index) }
            } }
            XCTAssertEqual(maxs[out], best)
            XCTAssertEqual(avgs[out], sum / 9, accuracy: 1e-5)
            expectedMaxGrad[bestIndex] += gs[out]
        } } } }
        assertClose(Tensor(shape: x.shape, scalars: maxGrad), Tensor(shape: x.shape, scalars: expectedMaxGrad), "max grad")
        assertClose(Tensor(shape: x.shape, scalars: avgGrad), Tensor(shape: x.shape, scalars: expectedAvgGrad), "avg grad")
    }

    func testPoolShapeErrors() {
        XCTAssertEqual(try Shapes.pool2d([2, 7, 5, 3], kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), op: "maxPool2d"),
                       [2, 4, 3, 3])
        XCTAssertThrowsError(try Shapes.pool2d([4, 4, 3], kernelSize: (2, 2), stride: (2, 2), padding: (0, 0), op: "maxPool2d")) {
            XCTAssertTrue("\($0)".contains("[4, 4, 3]") && "\($0)".contains("NHWC"), "\($0)")
        }
        XCTAssertThrowsError(try Shapes.pool2d([1, 4, 4, 3], kernelSize: (3, 3), stride: (1, 1), padding: (2, 2), op: "avgPool2d")) {
            XCTAssertTrue("\($0)".contains("half the kernel") && "\($0)".contains("[1, 4, 4, 3]"), "\($0)")
        }
        XCTAssertThrowsError(try Shapes.pool2d([1, 2, 2, 3], kernelSize: (3, 3), stride: (1, 1), padding: (0, 0), op: "maxPool2d")) {
            XCTAssertTrue("\($0)".contains("smaller than the kernel"), "\($0)")
        }
        XCTAssertThrowsError(try Shapes.pool2d([1, 4, 4, 3], kernelSize: (2, 2), stride: (0, 1), padding: (0, 0), op: "maxPool2d"))
    }
}
