import MinnowTensor
import MinnowTestSupport
import QuantMath
import XCTest

/// LSQ against PyTorch's `_fake_quantize_learnable_per_tensor_affine` and
/// `_fake_quantize_learnable_per_channel_affine` (Tests/Fixtures/generate_lsq.py): forward and
/// the gradient to `x` bit for bit, the gradient to the step within float rounding of the sums.
final class LearnedStepQuantizeTests: XCTestCase {
    func bits(_ tensor: Tensor) -> [UInt32] { tensor.scalars.map(\.bitPattern) }

    func check(_ y: Tensor, x: Tensor, step: Tensor, fixture: Fixture, name: String) throws {
        y.backward(seed: try fixture["\(name).gy"])
        XCTAssertEqual(bits(y), bits(try fixture["\(name).y"]), "\(name): forward")
        XCTAssertEqual(bits(try XCTUnwrap(x.grad)), bits(try fixture["\(name).grad_x"]), "\(name): gradient to x")
        let expected = try fixture["\(name).grad_scale"].scalars, got = try XCTUnwrap(step.grad).scalars
        XCTAssertEqual(got.count, expected.count)
        for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: 1e-4 * max(1, abs(e)), "\(name): gradient to the step") }
    }

    func testPerTensorMatchesPyTorch() throws {
        let fixture = try Fixture("lsq")
        for (name, type) in [("tensor_int8", QuantizedType.int8), ("tensor_asymmetric", .int8), ("tensor_int4", .int4)] {
            let config = try fixture["\(name).config"].scalars
            XCTAssertEqual(Int32(config[2]), type.minimum)
            let x = try fixture["\(name).x"].requiringGrad(), step = Tensor(shape: [1], scalars: [config[0]]).requiringGrad()
            let y = learnedStepQuantize(x, step: step, zeroPoints: [Int32(config[1])], type: type, axis: nil, gradientScale: config[4])
            try check(y, x: x, step: step, fixture: fixture, name: name)
        }
    }

    func testPerChannelMatchesPyTorch() throws {
        let fixture = try Fixture("lsq")
        for (name, type) in [("channel_hwio", QuantizedType.int8), ("channel_int4", .int4)] {
            let config = try fixture["\(name).config"].scalars
            let x = try fixture["\(name).x"].requiringGrad(), step = try fixture["\(name).scale"].requiringGrad()
            let zeroPoints = try fixture["\(name).zero_point"].scalars.map { Int32($0) }
            let y = learnedStepQuantize(x, step: step, zeroPoints: zeroPoints, type: type, axis: Int(config[0]), gradientScale: config[3])
            try check(y, x: x, step: step, fixture: fixture, name: name)
        }
    }

    /// A step driven to zero or below by an update still quantizes with a valid scale.
    func testNonPositiveStepUsesTheMinimumScale() {
        let y = learnedStepQuantize(Tensor(shape: [3], scalars: [0, 1e-7, -1]), step: Tensor(shape: [1], scalars: [-0.5]), zeroPoints: [0],
                                    axis: nil, gradientScale: 1)
        XCTAssertTrue(y.scalars.allSatisfy(\.isFinite))
        XCTAssertEqual(y.scalars[2], -128 * QuantizationParameters.minimumScale)
    }
}
