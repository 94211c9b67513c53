import MinnowKernels

/// Elementwise activations. NaN propagates; at a kink the derivative takes PyTorch's value
/// (0 for ReLU at 0).
extension Tensor {
    /// `max(x, 0)`.
    public func relu() -> Tensor { activation(.relu, "relu") }

    /// `min(max(x, 0), 6)` (MobileNetV2). The gradient is 1 strictly inside (0, 6).
    public func relu6() -> Tensor { activation(.relu6, "relu6") }

    /// `x` for positive `x`, `slope * x` otherwise.
    public func leakyRelu(slope: Float = 0.01) -> Tensor { activation(.leakyRelu(slope: slope), "leakyRelu") }

    /// `x * relu6(x + 3) / 6` (Howard et al., 2019, "Searching for MobileNetV3"), with PyTorch's
    /// gradient: 0 up to -3, `x / 3 + 0.5` strictly between -3 and 3, 1 from 3 on.
    public func hardswish() -> Tensor { activation(.hardswish, "hardswish") }

    /// `1 / (1 + e^-x)`.
    public func sigmoid() -> Tensor { activation(.sigmoid, "sigmoid") }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor { activation(.tanh, "tanh") }

    private func activation(_ function: Activation, _ op: String) -> Tensor {
        OpTracer.trace(Self.tracedKind(function), attributes: Self.tracedAttributes(function), operands: [("input", self)]) {
            untracedActivation(function, op)
        }
    }

    /// The traced graph's name of an activation (snake case, as the graph's other kinds).
    private static func tracedKind(_ function: Activation) -> String {
        switch function {
        case .relu: "relu"
        case .relu6: "relu6"
        case .leakyRelu: "leaky_relu"
        case .hardswish: "hardswish"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        }
    }

    private static func tracedAttributes(_ function: Activation) -> [String: OpAttribute] {
        if case .leakyRelu(let slope) = function { return ["slope": .float(slope)] }
        return [:]
    }

    private func untracedActivation(_ function: Activation, _ op: String) -> Tensor {
        let n = count
        let input = detached()
        let value = withUnsafePointer { x in Tensor(shape: shape) { function.forward(x, $0, count: n) } }
        return Tensor.record(op, value, inputs: [self]) { g in
            [input.withUnsafePointer { x in
                value.withUnsafePointer { y in
                    g.withUnsafePointer { dy in
                        Tensor(shape: input.shape) {
                            function.backward(input: x, output: y, outputGradient: dy, inputGradient: $0, count: n)
                        }
                    }
                }
            }]
        }
    }
}
