import MinnowTensor
import MinnowTestSupport
import XCTest

final class NormalizationTests: XCTestCase {
    var generator = SeededGenerator(seed: 5)

    func random(_ shape: [Int], mean: Float = 0, standardDeviation: Float = 1) -> Tensor {
        Tensor.randomNormal(shape, mean: mean, standardDeviation: standardDeviation, generator: &generator)
    }

    /// Batch norm written with composite ops (autodiff through them), as a reference.
    func reference(_ x: Tensor, scale: Tensor, offset: Tensor, epsilon: Float = 1e-5) -> Tensor {
        let axes = Array(0..<(x.rank - 1))
        let centered = x - x.mean(axes: axes)
        let variance = centered.squared().mean(axes: axes)
        return centered / (variance + epsilon).sqrt() * scale + offset
    }

    func testTrainingStepUpdatesRunningStatisticsLikePyTorch() {
        let x = Tensor(shape: [4, 1], scalars: [1, 2, 3, 4])
        var runningMean = Tensor.zeros([1]), runningVariance = Tensor.ones([1])
        let y = batchNorm(x, scale: Tensor(shape: [1], scalars: [2]), offset: Tensor(shape: [1], scalars: [1]),
                          runningMean: &runningMean, runningVariance: &runningVariance, training: true)
        // Batch mean 2.5, biased variance 1.25 (normalizes), unbiased variance 5/3 (running statistic).
        XCTAssertEqual(runningMean.item, 0.25, accuracy: 1e-6)
        XCTAssertEqual(runningVariance.item, 0.9 + 0.1 * 5 / 3, accuracy: 1e-6)
        let sigma = (Float(1.25) + 1e-5).squareRoot()
        assertClose(y, Tensor(shape: [4, 1], scalars: [1, 2, 3, 4].map { 2 * ($0 - 2.5) / sigma + 1 }))
    }

    func testEvaluationUsesRunningStatisticsAndLeavesThem() {
        let x = Tensor(shape: [2, 2], scalars: [3, 0, 5, 1])
        var runningMean = Tensor(shape: [2], scalars: [1, -1]), runningVariance = Tensor(shape: [2], scalars: [4, 0.25])
        let y = batchNorm(x, scale: Tensor(shape: [2], scalars: [1, 2]), offset: Tensor(shape: [2], scalars: [0, 3]),
                          runningMean: &runningMean, runningVariance: &runningVariance, training: false, epsilon: 0)
        XCTAssertEqual(y.scalars, [1, 7, 2, 11])
        XCTAssertEqual(runningMean.scalars, [1, -1])
        XCTAssertEqual(runningVariance.scalars, [4, 0.25])
    }

    func testTrainingMatchesCompositeReferenceWithLargeOffset() {
        // A large common offset must not cancel the variance away.
        let x = random([3, 4, 5, 6], mean: 1000, standardDeviation: 0.5)
        let scale = random([6]), offset = random([6])
        var runningMean = Tensor.zeros([6]), runningVariance = Tensor.ones([6])
        let y = batchNorm(x, scale: scale, offset: offset, runningMean: &runningMean, runningVariance: &runningVariance,
                          training: true, momentum: 1)
        let xs = x.scalars.map(Double.init)
        for k in 0..<6 {
            let channel = stride(from: k, to: xs.count, by: 6).map { xs[$0] }
            let mean = channel.reduce(0, +) / Double(channel.count)
            let unbiased = channel.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(channel.count - 1)
            XCTAssertEqual(Double(runningMean.scalars[k]), mean, accuracy: 1e-3)
            XCTAssertEqual(Double(runningVariance.scalars[k]), unbiased, accuracy: 1e-3 * unbiased)
        }
        let centered = x - Tensor(shape: [6], scalars: runningMean.scalars)
        assertClose(y, reference(centered, scale: scale, offset: offset), rtol: 1e-3, atol: 2e-3)
    }

    func testTrainingGradients() {
        for shape in [[6, 3], [2, 3, 3, 2]] {
            let c = shape.last!
            GradientCheck.check([random(shape), random([c]), random([c])]) { xs in
                var runningMean = Tensor.zeros([c]), runningVariance = Tensor.ones([c])
                return batchNorm(xs[0], scale: xs[1], offset: xs[2], runningMean: &runningMean,
                                 runningVariance: &runningVariance, training: true)
            }
        }
    }

    func testEvaluationGradients() {
        let c = 3
        let runningMean = random([c]), runningVariance = random([c]).abs() + 0.5
        for shape in [[4, 3], [2, 3, 2, 3]] {
            GradientCheck.check([random(shape), random([c]), random([c])]) { xs in
                var mean = runningMean, variance = runningVariance
                return batchNorm(xs[0], scale: xs[1], offset: xs[2], runningMean: &mean,
                                 runningVariance: &variance, training: false)
            }
        }
    }

    /// Large enough to split the reductions and the elementwise passes over the thread pool.
    func testLargeBatchMatchesCompositeReference() {
        let c = 64
        let x = random([8, 16, 16, c], mean: 2, standardDeviation: 3)
        let scale = random([c]), offset = random([c]), seed = random([8, 16, 16, c])
        var runningMean = Tensor.zeros([c]), runningVariance = Tensor.ones([c])
        let (leaf, scaleLeaf, offsetLeaf) = (x.requiringGrad(), scale.requiringGrad(), offset.requiringGrad())
        let y = batchNorm(leaf, scale: scaleLeaf, offset: offsetLeaf, runningMean: &runningMean,
                          runningVariance: &runningVariance, training: true)
        y.backward(seed: seed)
        let (referenceLeaf, referenceScale, referenceOffset) = (x.requiringGrad(), scale.requiringGrad(), offset.requiringGrad())
        let expected = reference(referenceLeaf, scale: referenceScale, offset: referenceOffset)
        expected.backward(seed: seed)
        assertClose(y, expected, rtol: 1e-3, atol: 1e-4, "output")
        assertClose(leaf.grad!, referenceLeaf.grad!, rtol: 1e-2, atol: 1e-4, "x gradient")
        assertClose(scaleLeaf.grad!, referenceScale.grad!, rtol: 1e-3, atol: 1e-2, "scale gradient")
        assertClose(offsetLeaf.grad!, referenceOffset.grad!, rtol: 1e-3, atol: 1e-2, "offset gradient")
    }

    func testShapeErrors() {
        func check(_ input: [Int], scale: [Int] = [3], training: Bool = true) throws -> (rows: Int, channels: Int) {
            try Shapes.batchNorm(input: input, scale: scale, offset: [3], runningMean: [3], runningVariance: [3],
                                 training: training, momentum: 0.1, epsilon: 1e-5)
        }
        XCTAssertEqual(try check([2, 4, 4, 3]).rows, 32)
        XCTAssertEqual(try check([1, 3], training: false).rows, 1)
        XCTAssertThrowsError(try check([2, 4, 4, 3], scale: [4])) {
            XCTAssertTrue("\($0)".contains("scale") && "\($0)".contains("[4]") && "\($0)".contains("[2, 4, 4, 3]"), "\($0)")
        }
        XCTAssertThrowsError(try check([3])) { XCTAssertTrue("\($0)".contains("rank"), "\($0)") }
        XCTAssertThrowsError(try check([1, 3])) { XCTAssertTrue("\($0)".contains("more than one value"), "\($0)") }
        XCTAssertThrowsError(try Shapes.batchNorm(input: [4, 3], scale: [3], offset: [3], runningMean: [3],
                                                  runningVariance: [3], training: true, momentum: 1.5, epsilon: 1e-5))
    }
}
