import MinnowTensor
import QuantMath
import XCTest

/// QuantMath against stated reference values and exhaustive or property checks: the arithmetic
/// that both Minnow's integer evaluation and its runtime use.
final class QuantMathTests: XCTestCase {
    // MARK: Parameters, quantize, dequantize

    /// Every int8 and int4 code survives dequantize → quantize, for several scales and zero points.
    func testEveryCodeRoundTrips() {
        for type in QuantizedType.allCases {
            for scale: Float in [1 / 255, 0.0039, 0.1, 3.7, QuantizationParameters.minimumScale] {
                for zeroPoint in [type.minimum, 0, type.maximum / 3, type.maximum] {
                    let parameters = QuantizationParameters(scale: scale, zeroPoint: zeroPoint, type: type)
                    for code in type.minimum...type.maximum {
                        XCTAssertEqual(parameters.quantize(parameters.dequantize(code)), code, "\(type) scale \(scale) zp \(zeroPoint)")
                    }
                    XCTAssertEqual(parameters.dequantize(zeroPoint), 0, "real 0 is exact")
                }
            }
        }
    }

    /// Rounding is half to even on `value * (1 / scale)`, and out-of-range values clamp.
    func testQuantizeRoundsHalfToEvenAndClamps() {
        let parameters = QuantizationParameters(scale: 0.5, zeroPoint: 3)
        XCTAssertEqual([0.25, 0.75, -0.25, -0.75, 1.25].map(parameters.quantize), [3, 5, 3, 1, 5])  // 0.5→0, 1.5→2, -0.5→0, -1.5→-2, 2.5→2
        XCTAssertEqual(parameters.quantize(1000), 127)
        XCTAssertEqual(parameters.quantize(-1000), -128)
        XCTAssertEqual(parameters.quantize(.infinity), 127)
        XCTAssertEqual(parameters.quantize(.nan), 3)
        XCTAssertTrue(parameters.isInRange(62))
        XCTAssertFalse(parameters.isInRange(63))
        XCTAssertEqual(QuantizationParameters(scale: 1, zeroPoint: 0, type: .int4).quantize(100), 7)
    }

    /// Asymmetric parameters equal those of PyTorch's `MinMaxObserver(dtype=torch.qint8)` (values
    /// printed by torch 2.13.0 for these ranges); symmetric ones are TFLite's (`a / 127`).
    func testRangesGiveTheStatedParameters() {
        for (minimum, maximum, scale, zeroPoint): (Float, Float, Float, Int32) in [
            (-1, 1, 0.007843137718737125, -1), (0, 6, 0.0235294122248888, -128), (2, 5, 0.019607843831181526, -128),
            (0, 0, 1.1920928955078125e-07, -128), (-0.3, 0.7, 0.003921568859368563, -52),
        ] {
            XCTAssertEqual(QuantizationParameters.asymmetric(minimum: minimum, maximum: maximum),
                           QuantizationParameters(scale: scale, zeroPoint: zeroPoint), "[\(minimum), \(maximum)]")
        }
        let shifted = QuantizationParameters.asymmetric(minimum: 2, maximum: 5)  // widened to contain 0
        XCTAssertEqual(shifted, .asymmetric(minimum: 0, maximum: 5))
        let weights = QuantizationParameters.symmetric(minimum: -0.5, maximum: 2.54)
        XCTAssertEqual(weights.scale, 0.02, accuracy: 1e-9)
        XCTAssertEqual(weights.zeroPoint, 0)
        XCTAssertEqual(weights.quantize(-2.54), -127)
        XCTAssertEqual(QuantizationParameters.symmetric(minimum: -3.5, maximum: 1, type: .int4).scale, 0.5)
    }

    /// A range collapsed to a point (an all-zero channel) and non-finite bounds give a valid scale.
    func testDegenerateRangesGiveValidParameters() {
        for parameters in [QuantizationParameters.asymmetric(minimum: 0, maximum: 0), .symmetric(minimum: 0, maximum: 0),
                           .asymmetric(minimum: .nan, maximum: .infinity), .symmetric(minimum: -.infinity, maximum: .nan)] {
            XCTAssertTrue(parameters.scale.isFinite && parameters.scale > 0, "\(parameters)")
            XCTAssertTrue((parameters.type.minimum...parameters.type.maximum).contains(parameters.zeroPoint), "\(parameters)")
            XCTAssertEqual(parameters.dequantize(parameters.quantize(0)), 0)
        }
    }

    // MARK: Fixed-point multipliers

    func testMultipliersOfStatedReals() {
        XCTAssertEqual(FixedPointMultiplier(0.5), FixedPointMultiplier(multiplier: 1 << 30, shift: 0))
        XCTAssertEqual(FixedPointMultiplier(0.25), FixedPointMultiplier(multiplier: 1 << 30, shift: -1))
        XCTAssertEqual(FixedPointMultiplier(1.0), FixedPointMultiplier(multiplier: 1 << 30, shift: 1))
        XCTAssertEqual(FixedPointMultiplier(0.75), FixedPointMultiplier(multiplier: 1_610_612_736, shift: 0))
        XCTAssertEqual(FixedPointMultiplier(1 - 0x1p-40), FixedPointMultiplier(multiplier: 1 << 30, shift: 1), "rounds up to 2^31: renormalized")
        XCTAssertEqual(FixedPointMultiplier(0x1p-40), FixedPointMultiplier(multiplier: 0, shift: 0), "too small: 0")
        XCTAssertEqual(FixedPointMultiplier(0x1p40), FixedPointMultiplier(multiplier: .max, shift: 30), "too large: saturates")
        XCTAssertEqual(FixedPointMultiplier(0), FixedPointMultiplier(multiplier: 0, shift: 0))
        XCTAssertEqual(FixedPointMultiplier(-1), FixedPointMultiplier(multiplier: 0, shift: 0))
        XCTAssertEqual(FixedPointMultiplier(.nan), FixedPointMultiplier(multiplier: 0, shift: 0))
    }

    /// For reals across the whole usable range, the multiplier is normalized and within half a
    /// Q31 step of the real.
    func testMultipliersAreNearest() {
        var generator = SeededGenerator(seed: 1)
        for _ in 0..<100_000 {
            let real = Double(sign: .plus, exponent: Int(generator.next() % 60) - 31, significand: 1 + Double(generator.next() % (1 << 52)) / 0x1p52)
            let m = FixedPointMultiplier(real)
            guard m.shift <= 30, real < 0x1p30 else { continue }
            XCTAssertTrue((1 << 30)...Int32.max ~= m.multiplier, "\(real): \(m)")
            let step = Double(sign: .plus, exponent: Int(m.shift) - 31, significand: 1)
            XCTAssertLessThanOrEqual(abs(m.real - real), step / 2, "\(real): \(m)")
        }
    }

    // MARK: Requantization

    /// `x * m * 2^(shift-31)` rounded to nearest, ties up, checked exactly with 128-bit integers:
    /// every int16 accumulator for a spread of multipliers and shifts, and random full-range ones.
    func testMultiplyByQuantizedMultiplierRoundsToNearestTiesUp() {
        var generator = SeededGenerator(seed: 2)
        func check(_ x: Int32, _ m: FixedPointMultiplier) {
            let result = multiplyByQuantizedMultiplier(x, m)
            let shift = Int128(31 - m.shift), exact = Int128(x) * Int128(m.multiplier)
            let error = (Int128(result) << shift) - exact  // 2^k * r - v must lie in (-2^(k-1), 2^(k-1)]
            let half = Int128(1) << (shift - 1)
            if result == .max || result == .min { return }  // saturated
            XCTAssertTrue(error > -half && error <= half, "x \(x), \(m): \(result)")
        }
        var multipliers = [FixedPointMultiplier(multiplier: 1 << 30, shift: 0), FixedPointMultiplier(multiplier: .max, shift: 30),
                           FixedPointMultiplier(multiplier: 1 << 30, shift: -31), FixedPointMultiplier(multiplier: 1_234_567_890, shift: -7)]
        for _ in 0..<16 {
            multipliers.append(FixedPointMultiplier(multiplier: Int32(1 << 30) + Int32(generator.next() % (1 << 30)),
                                                    shift: Int32(generator.next() % 62) - 31))
        }
        for m in multipliers {
            for x in Int32(Int16.min)...Int32(Int16.max) { check(x, m) }
            for x in [Int32.min, Int32.min + 1, -1, 0, 1, Int32.max - 1, Int32.max] { check(x, m) }
        }
        for _ in 0..<200_000 {
            check(Int32(truncatingIfNeeded: generator.next()),
                  FixedPointMultiplier(multiplier: Int32(truncatingIfNeeded: generator.next() & 0x7FFF_FFFF), shift: Int32(generator.next() % 62) - 31))
        }
    }

    func testRequantizeAddsTheZeroPointAndClamps() {
        let half = FixedPointMultiplier(0.5)
        XCTAssertEqual(requantize(100, multiplier: half, outputZeroPoint: 10, minimum: -128, maximum: 127), 60)
        XCTAssertEqual(requantize(3, multiplier: half, outputZeroPoint: 0, minimum: -128, maximum: 127), 2, "1.5 ties up")
        XCTAssertEqual(requantize(-3, multiplier: half, outputZeroPoint: 0, minimum: -128, maximum: 127), -1, "-1.5 ties up")
        XCTAssertEqual(requantize(1000, multiplier: half, outputZeroPoint: 0, minimum: -128, maximum: 127), 127)
        XCTAssertEqual(requantize(.min, multiplier: FixedPointMultiplier(multiplier: .max, shift: 30), outputZeroPoint: 127,
                                  minimum: -128, maximum: 127), -128, "saturates, never traps")
    }

    /// ReLU and ReLU6 fold into the clamp: the codes of real 0 and real 6.
    func testActivationRanges() {
        let output = QuantizationParameters(scale: 0.05, zeroPoint: -20)
        XCTAssertEqual(activationRange(.identity, output: output).minimum, -128)
        XCTAssertEqual(activationRange(.relu, output: output).minimum, -20)
        XCTAssertEqual(activationRange(.relu6, output: output).maximum, 100)  // -20 + 6 / 0.05
        // Scale 20/255, zero point -128: real 6 is 76.5 steps up, which rounds half to even to 76.
        XCTAssertEqual(activationRange(.relu6, output: .asymmetric(minimum: 0, maximum: 20)).maximum, -52)
    }

    // MARK: int4 packing

    func testInt4PackingIsExhaustivelyLossless() {
        var codes: [Int8] = []
        for low in -8...7 { for high in -8...7 { codes += [Int8(low), Int8(high)] } }
        let packed = packInt4(codes)
        XCTAssertEqual(packed.count, codes.count / 2)
        XCTAssertEqual(unpackInt4(packed, count: codes.count), codes)
        XCTAssertEqual(packInt4([-1, 7, 3]), [0x7F, 0x03])
        XCTAssertEqual(unpackInt4([0x7F, 0x03], count: 3), [-1, 7, 3])
    }
}
