import MinnowTensor
import MinnowTestSupport
import QuantMath
import XCTest

/// Fake quantization against PyTorch's `fake_quantize_per_tensor_affine` and
/// `fake_quantize_per_channel_affine` (Tests/Fixtures/generate_fake_quant.py), forward and
/// straight-through backward, bit for bit: the goldens include exact ties (k + 0.5 steps) and
/// values clamped on both sides.
final class FakeQuantizeTests: XCTestCase {
    func bits(_ tensor: Tensor) -> [UInt32] { tensor.scalars.map(\.bitPattern) }

    func testPerTensorMatchesPyTorch() throws {
        let fixture = try Fixture("fake_quant")
        for name in ["tensor_a", "tensor_b", "tensor_c"] {
            let config = try fixture["\(name).config"].scalars
            let parameters = QuantizationParameters(scale: config[0], zeroPoint: Int32(config[1]))
            let x = try fixture["\(name).x"].requiringGrad()
            let y = fakeQuantize(x, parameters)
            y.backward(seed: try fixture["\(name).gy"])
            XCTAssertEqual(bits(y), bits(try fixture["\(name).y"]), "\(name): forward")
            XCTAssertEqual(bits(try XCTUnwrap(x.grad)), bits(try fixture["\(name).grad_x"]), "\(name): straight-through gradient")
        }
    }

    func testPerChannelMatchesPyTorch() throws {
        let fixture = try Fixture("fake_quant")
        for name in ["channel_nhwc", "channel_hwio", "channel_rows"] {
            let scales = try fixture["\(name).scale"].scalars, zeroPoints = try fixture["\(name).zero_point"].scalars
            let parameters = zip(scales, zeroPoints).map { QuantizationParameters(scale: $0, zeroPoint: Int32($1)) }
            let x = try fixture["\(name).x"].requiringGrad()
            let y = fakeQuantize(x, perChannel: parameters, axis: Int(try fixture["\(name).axis"].scalars[0]))
            y.backward(seed: try fixture["\(name).gy"])
            XCTAssertEqual(bits(y), bits(try fixture["\(name).y"]), "\(name): forward")
            XCTAssertEqual(bits(try XCTUnwrap(x.grad)), bits(try fixture["\(name).grad_x"]), "\(name): straight-through gradient")
        }
    }

    /// The values are the codes QuantMath produces, dequantized: fake and integer arithmetic agree.
    func testValuesAreQuantMathCodes() {
        let parameters = QuantizationParameters.asymmetric(minimum: -0.7, maximum: 2.3)
        var generator = SeededGenerator(seed: 4)
        let x = Tensor.randomUniform([1000], low: -2, high: 4, generator: &generator)
        let y = fakeQuantize(x, parameters)
        XCTAssertEqual(y.scalars, x.scalars.map { parameters.dequantize(parameters.quantize($0)) })
    }
}

/// A fused activation's clamp of the codes is the activation followed by fake quantization.
final class FusedFakeQuantizeTests: XCTestCase {
    func testClampedCodesEqualActivationThenFakeQuantization() {
        var generator = SeededGenerator(seed: 9)
        let x = Tensor.randomUniform([4096], low: -3, high: 9, generator: &generator)
        let parameters = QuantizationParameters.asymmetric(minimum: 0, maximum: 7.5)
        XCTAssertEqual(fakeQuantize(x, parameters, codes: activationRange(.relu6, output: parameters)).scalars,
                       fakeQuantize(x.relu6(), parameters).scalars)
        XCTAssertEqual(fakeQuantize(x, parameters, codes: activationRange(.relu, output: parameters)).scalars,
                       fakeQuantize(x.relu(), parameters).scalars)
    }
}
