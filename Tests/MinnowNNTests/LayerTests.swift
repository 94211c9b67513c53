import MinnowNN
import MinnowTensor
import MinnowTestSupport
import XCTest

final class LayerTests: XCTestCase {
    var generator = SeededGenerator(seed: 11)

    func testConv2DLayerShapesAndGradients() {
        let conv = Conv2D(3, 8, kernelSize: 3, stride: 2, generator: &generator)
        XCTAssertEqual(conv.filter.shape, [3, 3, 3, 8])
        XCTAssertEqual(conv.bias?.shape, [8])
        let x = Tensor.randomNormal([2, 9, 9, 3], generator: &generator)
        XCTAssertEqual(conv(x).shape, [2, 5, 5, 8])
        conv(x).sum().backward()
        XCTAssertEqual(conv.filter.grad?.shape, [3, 3, 3, 8])
        XCTAssertEqual(conv.bias!.grad!.scalars.first!, 50, accuracy: 1e-4, "bias gradient of a sum is the output count per channel")
        let depthwise = DepthwiseConv2D(channels: 6, kernelSize: 3, generator: &generator)
        XCTAssertEqual(depthwise.filter.shape, [3, 3, 1, 6])
        XCTAssertNil(depthwise.bias)
    }

    func testLinearLayer() {
        let layer = Linear(inputFeatures: 4, outputFeatures: 3, generator: &generator)
        XCTAssertEqual(layer.weight.shape, [4, 3])
        let x = Tensor.randomNormal([5, 4], generator: &generator)
        let expected = matmul(x, layer.weight.value) + layer.bias!.value
        assertClose(layer(x), expected, rtol: 1e-6, atol: 1e-6, "y = xW + b")
    }

    func testBatchNormLayerUpdatesRunningStatsOnlyInTraining() {
        let bn = BatchNorm(channels: 2)
        let x = Tensor(shape: [4, 2], scalars: [1, 10, 3, 10, 5, 14, 7, 14])
        bn.eval()
        _ = bn(x)
        XCTAssertEqual(bn.runningMean.value.scalars, [0, 0], "evaluation leaves running statistics alone")
        bn.train()
        let y = bn(x)
        XCTAssertEqual(bn.runningMean.value.scalars[0], 0.4, accuracy: 1e-6)   // 0.9 * 0 + 0.1 * 4
        XCTAssertEqual(bn.runningVariance.value.scalars[0], 0.9 + 0.1 * 20 / 3, accuracy: 1e-5)   // unbiased variance
        XCTAssertEqual(y.mean(axes: [0]).scalars[0], 0, accuracy: 1e-5)
    }

    func testDropoutLayerIsIdentityInEvaluation() {
        let dropout = Dropout(rate: 0.5, seed: 1)
        let x = Tensor.ones([4, 100])
        dropout.eval()
        XCTAssertEqual(dropout(x).scalars, x.scalars)
        dropout.train()
        let kept = dropout(x).scalars.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { $0 == 2 }, "kept units are scaled by 1/(1-rate)")
        XCTAssertGreaterThan(kept.count, 120)
        XCTAssertLessThan(kept.count, 280)
    }

    func testSequentialAndPoolingLayers() {
        let model = Sequential([
            Conv2D(1, 4, kernelSize: 3, generator: &generator), Activation(.relu), MaxPool2D(kernelSize: 2),
            AvgPool2D(kernelSize: 2), GlobalAvgPool2D(), Flatten(),
        ])
        XCTAssertEqual(model(Tensor.zeros([2, 8, 8, 1])).shape, [2, 4])
        XCTAssertEqual(model.namedParameters().map(\.path), ["0.filter", "0.bias"])
    }

    func testSummaryCountsMACs() {
        let model = Sequential([Conv2D(1, 4, kernelSize: 3, generator: &generator), GlobalAvgPool2D(),
                                Linear(inputFeatures: 4, outputFeatures: 2, generator: &generator)])
        let summary = ModelSummary(model: model, inputShape: [1, 6, 6, 1])
        XCTAssertEqual(summary.rows.map(\.kind), ["Conv2D", "GlobalAvgPool2D", "Linear"])
        XCTAssertEqual(summary.totalMACs, 6 * 6 * 4 * 9 + 4 * 2)
        XCTAssertEqual(summary.totalParameters, 40 + 10)
        XCTAssertTrue(summary.description.contains("total: 50 parameters"))
    }
}
