import MinnowQuantization
import MinnowTensor
import QuantMath
import XCTest

/// Observers choose the ranges that quantization parameters are made from.
final class ObserverTests: XCTestCase {
    func testMinMaxSeesEveryBatchAndIgnoresNaN() throws {
        var observer = MinMaxObserver()
        observer.observe(Tensor(shape: [3], scalars: [0.5, -2, .nan]))
        observer.observe(Tensor(shape: [2, 2], scalars: [1, 3.25, 0, -1]))
        XCTAssertEqual(try observer.range().minimum, -2)
        XCTAssertEqual(try observer.range().maximum, 3.25)
        XCTAssertEqual(try observer.parameters(), .asymmetric(minimum: -2, maximum: 3.25))
        XCTAssertEqual(try observer.parameters(symmetric: true), .symmetric(minimum: -2, maximum: 3.25))
    }

    /// PyTorch's moving average: the first batch sets the range, later ones move it by c of the way.
    func testMovingAverageFollowsPyTorchsFormula() throws {
        var observer = MovingAverageMinMaxObserver(averagingConstant: 0.25)
        observer.observe(Tensor(shape: [2], scalars: [-1, 1]))
        observer.observe(Tensor(shape: [2], scalars: [-5, 9]))
        observer.observe(Tensor(shape: [2], scalars: [0, 1]))
        // min: -1 → -1 + 0.25(-5 + 1) = -2 → -2 + 0.25(0 + 2) = -1.5; max: 1 → 3 → 3 + 0.25(1 - 3) = 2.5
        XCTAssertEqual(try observer.range().minimum, -1.5)
        XCTAssertEqual(try observer.range().maximum, 2.5)
    }

    func testPerChannelRangesFollowTheAxis() throws {
        var observer = PerChannelMinMaxObserver(axis: 3)
        // An HWIO filter [1, 1, 2, 3]: output channel c holds elements c and 3 + c.
        observer.observe(Tensor(shape: [1, 1, 2, 3], scalars: [1, -2, 0, -4, 0.5, 0]))
        XCTAssertEqual(observer.minimums, [-4, -2, 0])
        XCTAssertEqual(observer.maximums, [1, 0.5, 0])
        let parameters = try observer.parameters()
        XCTAssertEqual(parameters[0], .symmetric(minimum: -4, maximum: 1))
        XCTAssertTrue(parameters[2].scale > 0 && parameters[2].scale.isFinite, "an all-zero channel gets a valid scale")
    }

    /// One outlier stretches a min/max range; the percentile observer clips it.
    func testPercentileClipsOutliers() throws {
        var generator = SeededGenerator(seed: 5)
        var values = Tensor.randomNormal([100_000], generator: &generator).scalars
        values[17] = 1000
        var percentile = PercentileObserver(percentile: 99.9)
        var minMax = MinMaxObserver()
        for chunk in stride(from: 0, to: values.count, by: 10_000) {
            let batch = Tensor(shape: [10_000], scalars: Array(values[chunk..<(chunk + 10_000)]))
            percentile.observe(batch)
            minMax.observe(batch)
        }
        XCTAssertEqual(try minMax.range().maximum, 1000)
        let (low, high) = try percentile.range()
        // The central 99.9% of a standard normal lies within ±3.29; bins are 2048/2048 = 1 wide here.
        XCTAssertEqual(low, -3.29, accuracy: 1.1)
        XCTAssertEqual(high, 3.29, accuracy: 1.1)
        XCTAssertEqual(percentile.bound, 1024, "doubled to cover the outlier")
    }

    /// Calibration on no values is an error, not a scale of NaN.
    func testNoObservationsIsAnError() {
        XCTAssertThrowsError(try MinMaxObserver().parameters()) { error in
            XCTAssertEqual(error as? QuantizationError, .noObservations("a min/max observer"))
        }
        XCTAssertThrowsError(try PercentileObserver().range())
        XCTAssertThrowsError(try MovingAverageMinMaxObserver().range())
        XCTAssertThrowsError(try PerChannelMinMaxObserver(axis: 0).parameters())
        var onlyNaN = MinMaxObserver()
        onlyNaN.observe(Tensor(shape: [1], scalars: [.nan]))
        XCTAssertThrowsError(try onlyNaN.range())
    }
}
