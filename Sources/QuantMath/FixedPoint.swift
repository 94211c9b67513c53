/// A real multiplier as a Q31 fixed-point number and a power of two: `real ≈ multiplier * 2^(shift - 31)`
/// with `multiplier` in `[2^30, 2^31)` (or 0 for a real 0). Integer kernels rescale an int32
/// accumulator by it with no floating point (see `requantize`), so a microcontroller without an
/// FPU computes what a desktop computes.
public struct FixedPointMultiplier: Sendable, Equatable {
    public var multiplier: Int32
    public var shift: Int32

    public init(multiplier: Int32, shift: Int32) {
        self.multiplier = multiplier
        self.shift = shift
    }

    /// The multiplier nearest to `real` (TFLite's `QuantizeMultiplier`): `real = q * 2^shift` with
    /// `q` in `[0.5, 1)`, `multiplier = round(q * 2^31)` (half away from zero), renormalized when
    /// that rounds up to `2^31`. `real` must be finite and `>= 0`; values below `2^-31` become 0
    /// (they would shift everything out), values of `2^31` or more saturate (no real layer has such a
    /// scale ratio; `QuantizationParameters` never makes one).
    public init(_ real: Double) {
        guard real.isFinite, real > 0 else {
            self.init(multiplier: 0, shift: 0)
            return
        }
        let exponent = real.exponent + 1  // real = significand * 2^exponent, significand in [0.5, 1)
        var q = (real * Double(sign: .plus, exponent: -exponent, significand: 1) * 2147483648).rounded(.toNearestOrAwayFromZero)
        var shift = Int32(clamping: exponent)
        if q == 2147483648 {
            q /= 2
            shift += 1
        }
        if shift < -31 {
            self.init(multiplier: 0, shift: 0)
        } else if shift > 30 {
            self.init(multiplier: Int32.max, shift: 30)
        } else {
            self.init(multiplier: Int32(q), shift: shift)
        }
    }

    /// The real value this multiplier stands for.
    public var real: Double { Double(multiplier) * Double(sign: .plus, exponent: Int(shift) - 31, significand: 1) }
}

/// `x * multiplier * 2^(shift - 31)` rounded to the nearest integer, ties toward +infinity, in one
/// rounding (TFLite's `TFLITE_SINGLE_ROUNDING` variant of `MultiplyByQuantizedMultiplier`), on a
/// 64-bit product: integer-only, and exact (docs/quantization.md says why single rounding). The
/// result saturates to Int32.
@inlinable
public func multiplyByQuantizedMultiplier(_ x: Int32, _ m: FixedPointMultiplier) -> Int32 {
    let totalShift = Int64(31 - m.shift)  // 1...62 for shifts in -31...30
    let product = Int64(x) * Int64(m.multiplier)
    let rounded = (product + (Int64(1) << (totalShift - 1))) >> totalShift
    return Int32(clamping: rounded)
}

/// Requantizes an int32 accumulator to an output code: rescale by `multiplier` (the ratio of the
/// input and output scales), add the output zero point, clamp to `[minimum, maximum]` (the type's
/// range, narrowed by a fused activation; see `activationRange`).
@inlinable
public func requantize(_ accumulator: Int32, multiplier: FixedPointMultiplier, outputZeroPoint: Int32,
                       minimum: Int32, maximum: Int32) -> Int32 {
    let scaled = multiplyByQuantizedMultiplier(accumulator, multiplier)
    let shifted = Int64(scaled) + Int64(outputZeroPoint)
    return Int32(Swift.min(Swift.max(shifted, Int64(minimum)), Int64(maximum)))
}

/// The output code range of a clamp activation (`ActivationFunction.isClamp`) for `output`
/// parameters: the identity keeps the type's range, ReLU clamps at the zero point (real 0), ReLU6
/// also at the code of real 6; all within the type's range. (A function that is no clamp keeps the
/// type's range here: it runs as a lookup table.)
public func activationRange(_ activation: ActivationFunction, output: QuantizationParameters) -> (minimum: Int32, maximum: Int32) {
    let (low, high) = (output.type.minimum, output.type.maximum)
    switch activation {
    case .relu: return (Swift.max(low, output.zeroPoint), high)
    case .relu6: return (Swift.max(low, output.zeroPoint), Swift.min(high, output.quantize(6)))
    case .identity, .leakyRelu, .hardswish, .sigmoid, .tanh, .silu: return (low, high)
    }
}

/// Packs signed 4-bit codes two per byte, the first in the low nibble; an odd count leaves the
/// last high nibble 0.
public func packInt4(_ codes: [Int8]) -> [UInt8] {
    stride(from: 0, to: codes.count, by: 2).map { index in
        let low = UInt8(bitPattern: codes[index]) & 0x0F
        let high = index + 1 < codes.count ? (UInt8(bitPattern: codes[index + 1]) & 0x0F) << 4 : 0
        return low | high
    }
}

/// The `count` signed 4-bit codes packed by `packInt4`.
public func unpackInt4(_ bytes: [UInt8], count: Int) -> [Int8] {
    (0..<count).map { index in
        let nibble = index % 2 == 0 ? bytes[index / 2] & 0x0F : bytes[index / 2] >> 4
        return Int8(bitPattern: nibble << 4) >> 4  // sign-extend
    }
}

// Codable for the host build (checkpoints, manifests); Embedded Swift has no Codable.
#if !hasFeature(Embedded)
extension FixedPointMultiplier: Codable {}
#endif
