import MinnowKernels
import QuantMath

/// Elementwise activations. NaN propagates; at a kink the derivative takes PyTorch's value
/// (0 for ReLU at 0).
extension Tensor {
    /// `max(x, 0)`.
    public func relu() -> Tensor { activation(.relu) }

    /// `min(max(x, 0), 6)` (MobileNetV2). The gradient is 1 strictly inside (0, 6).
    public func relu6() -> Tensor { activation(.relu6) }

    /// `x` for positive `x`, `slope * x` otherwise.
    public func leakyRelu(slope: Float = ActivationFunction.defaultSlope) -> Tensor { activation(.leakyRelu, slope: slope) }

    /// `x * relu6(x + 3) / 6` (Howard et al., 2019, "Searching for MobileNetV3"), with PyTorch's
    /// gradient: 0 up to -3, `x / 3 + 0.5` strictly between -3 and 3, 1 from 3 on.
    public func hardswish() -> Tensor { activation(.hardswish) }

    /// `1 / (1 + e^-x)`.
    public func sigmoid() -> Tensor { activation(.sigmoid) }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor { activation(.tanh) }

    /// `x * sigmoid(x)` (SiLU, Elfwing et al. 2018; swish with beta 1), gradient
    /// `s (1 + x (1 - s))` as PyTorch's.
    public func silu() -> Tensor { activation(.silu) }

    /// `function` applied elementwise (`slope`: leaky ReLU's), traced as its op; the identity
    /// returns the tensor itself.
    public func activation(_ function: ActivationFunction, slope: Float = ActivationFunction.defaultSlope) -> Tensor {
        guard let kind = OpKind(function) else { return self }
        return OpTracer.trace(kind, attributes: function == .leakyRelu ? ["slope": .float(slope)] : [:], operands: [("input", self)]) {
            untracedActivation(function, slope: slope)
        }
    }

    private func untracedActivation(_ function: ActivationFunction, slope: Float) -> Tensor {
        let n = count
        let input = detached()
        let value = withUnsafePointer { x in Tensor(shape: shape) { function.forward(x, $0, count: n, slope: slope) } }
        return Tensor.record(function.rawValue, value, inputs: [self]) { g in
            [input.withUnsafePointer { x in
                value.withUnsafePointer { y in
                    g.withUnsafePointer { dy in
                        Tensor(shape: input.shape) {
                            function.backward(input: x, output: y, outputGradient: dy, inputGradient: $0, count: n, slope: slope)
                        }
                    }
                }
            }]
        }
    }
}
