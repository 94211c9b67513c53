import MinnowNN
import MinnowTensor

/// Batch norm folded into the convolution (or linear layer) before it, as integer inference runs
/// it (Jacob et al. 2018, section 3.2): with `f = scale · (1 / sqrt(runningVariance + epsilon))` per
/// output channel, the folded weights are `weights · f` and the folded bias
/// `(bias - runningMean) · f + offset`, so `folded(x) = bn(conv(x))` in evaluation mode. One
/// implementation: quantization-aware training and integer lowering fold with `fold(weights:...)`,
/// whose float operations (and so whose bits) are the same on both sides.
public enum BatchNormFolding {
    /// The folded weights (last axis: output channels) and bias, and the factor `f`; differentiable
    /// in the weights, the bias, `scale` and `offset` (the running statistics are constants).
    public static func fold(weights: Tensor, bias: Tensor?, scale: Tensor, offset: Tensor, runningMean: Tensor, runningVariance: Tensor,
                            epsilon: Float) -> (weights: Tensor, bias: Tensor, factor: Tensor) {
        let channels = weights.shape.last!
        let inverseDeviation = Tensor(shape: [channels], scalars: runningVariance.scalars.map { 1 / ($0 + epsilon).squareRoot() })
        let factor = scale * inverseDeviation
        let centered = (bias ?? Tensor.zeros([channels])) - runningMean.detached()
        return (weights * factor, centered * factor + offset, factor)
    }

    /// A convolution with a bias that computes `bn(conv(x))` in evaluation mode (dense, grouped or
    /// depthwise). `bn` must have one channel per output channel of `conv`.
    public static func fold(_ conv: Conv2D, _ bn: BatchNorm) throws(FoldingError) -> Conv2D {
        let channels = conv.outputChannels
        guard bn.scale.shape == [channels] else {
            throw .channelMismatch("the convolution has \(channels) output channels, the batch norm \(bn.scale.shape[0])")
        }
        let folded = withoutGrad {
            fold(weights: conv.filter.value, bias: conv.bias?.value, scale: bn.scale.value, offset: bn.offset.value,
                 runningMean: bn.runningMean.value, runningVariance: bn.runningVariance.value, epsilon: bn.epsilon)
        }
        var generator = SeededGenerator(seed: 0)
        var spec = conv.spec
        spec.bias = true
        let convolution: Conv2D
        do {
            convolution = try Conv2D(spec: spec, generator: &generator, registry: .core)
        } catch {
            throw .channelMismatch("\(error)")
        }
        convolution.filter.assign(folded.weights)
        convolution.bias?.assign(folded.bias)
        return convolution
    }
}

/// Why a batch norm cannot be folded.
public enum FoldingError: Error, Equatable, CustomStringConvertible {
    case channelMismatch(String)

    public var description: String {
        switch self {
        case .channelMismatch(let detail): "batch-norm folding: \(detail)"
        }
    }
}
