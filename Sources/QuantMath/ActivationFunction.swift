/// The elementwise activations: one list for the tensor library's kernels, the layers' specs and
/// quantization (what a layer applies, what a traced op records, what a quantized model fuses into
/// a clamp or turns into a lookup table). The raw values are the names in model descriptions.
public enum ActivationFunction: String, Sendable, CaseIterable {
    /// `x`.
    case identity
    /// `max(x, 0)`.
    case relu
    /// `min(max(x, 0), 6)` (MobileNetV2).
    case relu6
    /// `x` for positive `x`, `slope * x` otherwise (slope 0.01 unless given).
    case leakyRelu
    /// `x * relu6(x + 3) / 6` (Howard et al. 2019, MobileNetV3).
    case hardswish
    /// `1 / (1 + e^-x)`.
    case sigmoid
    /// Hyperbolic tangent.
    case tanh
    /// `x * sigmoid(x)` (SiLU, Elfwing et al. 2018; swish with beta 1, Ramachandran et al. 2017).
    case silu

    /// PyTorch's default negative slope of leaky ReLU.
    public static let defaultSlope: Float = 0.01

    /// Whether its integer form is a clamp of codes (fused into the requantization of the layer
    /// before it, or a clamp of its own, `activationRange`); the others quantize as a 256-entry
    /// lookup table.
    public var isClamp: Bool { self == .identity || self == .relu || self == .relu6 }
}

// Codable for the host build (checkpoints, manifests); Embedded Swift has no Codable.
#if !hasFeature(Embedded)
extension ActivationFunction: Codable {}
#endif
