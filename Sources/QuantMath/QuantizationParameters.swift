/// The integer formats Minnow quantizes to: signed 8-bit (weights and activations), signed 7-bit
/// (weights stored as int8 codes in [-64, 63]: on CPUs without VNNI the runtime multiplies them
/// as bytes, exactly, twice as many products per instruction as 8-bit ones) and signed 4-bit
/// (weights, packed two per byte).
public enum QuantizedType: Int, Sendable, CaseIterable {
    case int8 = 8
    case int7 = 7
    case int4 = 4

    /// The smallest code: -128, -64 or -8.
    public var minimum: Int32 { -(1 << (Int32(rawValue) - 1)) }
    /// The largest code: 127, 63 or 7.
    public var maximum: Int32 { (1 << (Int32(rawValue) - 1)) - 1 }
}

/// Affine quantization of a real range: `real = scale * (code - zeroPoint)` (Jacob et al. 2018,
/// "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only
/// Inference"). Real 0 is exactly representable (it is `zeroPoint`), so zero padding and ReLU
/// cost no error.
public struct QuantizationParameters: Sendable, Equatable {
    /// The real step between codes; always positive and finite.
    public var scale: Float
    /// The code of real 0, in the type's range.
    public var zeroPoint: Int32
    /// The integer format.
    public var type: QuantizedType

    public init(scale: Float, zeroPoint: Int32, type: QuantizedType = .int8) {
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.type = type
    }

    /// The smallest scale chosen from a range (PyTorch's `torch.finfo(torch.float32).eps`): a range
    /// collapsed to a point (an all-zero channel) still gets a valid scale, never 0, NaN or infinity.
    public static let minimumScale: Float = 1.1920929e-07

    /// Asymmetric parameters covering `[min(minimum, 0), max(maximum, 0)]` (activations): the range
    /// is widened to contain 0, the scale maps it onto all codes, and the zero point is
    /// `type.minimum - round(low / scale)` in float32 with rounding half to even: PyTorch's
    /// `MinMaxObserver` formula, whose parameters match these exactly (tested against stated
    /// values from it). Non-finite bounds are treated as 0.
    public static func asymmetric(minimum: Float, maximum: Float, type: QuantizedType = .int8) -> QuantizationParameters {
        let low = Swift.min(minimum.isFinite ? minimum : 0, 0), high = Swift.max(maximum.isFinite ? maximum : 0, 0)
        let codes = Float(type.maximum - type.minimum)
        let scale = Swift.max((high - low) / codes, minimumScale)
        let zero = Float(type.minimum) - (low / scale).rounded(.toNearestOrEven)
        let zeroPoint = Int32(Swift.min(Swift.max(zero, Float(type.minimum)), Float(type.maximum)))
        return QuantizationParameters(scale: scale, zeroPoint: zeroPoint, type: type)
    }

    /// Symmetric parameters covering `[-a, a]` with `a = max(|minimum|, |maximum|)` and zero point 0
    /// (weights): the scale maps `a` to the largest code, so `-128` (or `-8`) is never produced
    /// from the range, as TFLite's symmetric weights. Non-finite bounds are treated as 0.
    public static func symmetric(minimum: Float, maximum: Float, type: QuantizedType = .int8) -> QuantizationParameters {
        let bound = Swift.max(Swift.abs(minimum.isFinite ? minimum : 0), Swift.abs(maximum.isFinite ? maximum : 0))
        return QuantizationParameters(scale: Swift.max(bound / Float(type.maximum), minimumScale), zeroPoint: 0, type: type)
    }

    /// The code of `value`: `round(value * (1 / scale)) + zeroPoint`, rounding half to even, then
    /// clamped to the type's range. Multiplying by the reciprocal and rounding half to even is
    /// what PyTorch's `fake_quantize_per_tensor_affine` does on the CPU, so Minnow's fake
    /// quantization matches it bit for bit. NaN quantizes to the zero point.
    public func quantize(_ value: Float) -> Int32 { quantizer.quantize(value) }

    /// `quantize` with its constants (the reciprocal of the scale, the clamp bounds) worked out
    /// once: for loops over many values, the same arithmetic.
    public var quantizer: Quantizer {
        Quantizer(reciprocal: 1 / scale, low: Float(type.minimum - zeroPoint), high: Float(type.maximum - zeroPoint), zeroPoint: zeroPoint)
    }
}

/// The arithmetic of `QuantizationParameters.quantize` with its constants precomputed.
public struct Quantizer: Sendable {
    let reciprocal, low, high: Float
    let zeroPoint: Int32

    /// The code of `value` (see `QuantizationParameters.quantize`).
    @inline(__always)
    public func quantize(_ value: Float) -> Int32 {
        let scaled = (value * reciprocal).rounded(.toNearestOrEven)
        guard !scaled.isNaN else { return zeroPoint }
        return Int32(Swift.min(Swift.max(scaled, low), high)) + zeroPoint
    }
}

extension QuantizationParameters {
    /// Whether `value` quantizes inside the range without clamping (the straight-through
    /// estimator passes the gradient exactly there).
    public func isInRange(_ value: Float) -> Bool {
        let scaled = (value * (1 / scale)).rounded(.toNearestOrEven)
        return scaled >= Float(type.minimum - zeroPoint) && scaled <= Float(type.maximum - zeroPoint)
    }

    /// The real value of `code`: `scale * (code - zeroPoint)`.
    public func dequantize(_ code: Int32) -> Float {
        Float(code - zeroPoint) * scale
    }
}

// Codable for the host build (checkpoints, manifests); Embedded Swift has no Codable.
#if !hasFeature(Embedded)
extension QuantizedType: Codable {}
extension QuantizationParameters: Codable {}
#endif
