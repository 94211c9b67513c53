import MinnowNN
import MinnowQuantization
import MinnowTensor
import XCTest

/// A folded convolution equals the convolution followed by its batch norm in evaluation mode.
final class BatchNormFoldingTests: XCTestCase {
    func testFoldingEqualsConvolutionThenBatchNorm() throws {
        var generator = SeededGenerator(seed: 6)
        let cases: [(String, Conv2D)] = [
            ("dense 3x3 without bias", Conv2D(3, 8, kernelSize: 3, stride: 2, useBias: false, generator: &generator)),
            ("1x1 with bias", Conv2D(8, 5, kernelSize: 1, generator: &generator)),
            ("depthwise 3x3", DepthwiseConv2D(channels: 6, kernelSize: 3, generator: &generator)),
            ("grouped", Conv2D(4, 6, kernelSize: 3, groups: 2, generator: &generator)),
        ]
        for (name, conv) in cases {
            let bn = BatchNorm(channels: conv.outputChannels)
            bn.scale.assign(Tensor.randomUniform([conv.outputChannels], low: 0.5, high: 2, generator: &generator))
            bn.offset.assign(Tensor.randomUniform([conv.outputChannels], low: -1, high: 1, generator: &generator))
            bn.runningMean.value = Tensor.randomUniform([conv.outputChannels], low: -0.5, high: 0.5, generator: &generator)
            bn.runningVariance.value = Tensor.randomUniform([conv.outputChannels], low: 0.2, high: 3, generator: &generator)
            bn.eval()
            let x = Tensor.randomNormal([2, 9, 9, conv.inputChannels], generator: &generator)
            let expected = withoutGrad { bn(conv(x)) }
            let folded = try BatchNormFolding.fold(conv, bn)
            let actual = withoutGrad { folded(x) }
            XCTAssertEqual(actual.shape, expected.shape, name)
            let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-5, name)
            XCTAssertNotNil(folded.bias, name)
        }
        XCTAssertThrowsError(try BatchNormFolding.fold(Conv2D(3, 8, kernelSize: 1, generator: &generator), BatchNorm(channels: 4))) { error in
            XCTAssertTrue("\(error)".contains("8 output channels, the batch norm 4"), "\(error)")
        }
    }
}
