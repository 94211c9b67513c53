import MinnowNN
import MinnowTensor

/// Batch norm folded into the convolution before it, as integer inference runs it (Jacob et al.
/// 2018, section 3.2): with `s = scale / sqrt(runningVariance + epsilon)` per output channel, the
/// folded filter is `filter * s` and the folded bias `(bias - runningMean) * s + offset`, so
/// `folded(x) = bn(conv(x))` in evaluation mode.
public enum BatchNormFolding {
    /// A convolution with a bias that computes `bn(conv(x))` in evaluation mode (dense, grouped or
    /// depthwise). `bn` must have one channel per output channel of `conv`.
    public static func fold(_ conv: Conv2D, _ bn: BatchNorm) throws(FoldingError) -> Conv2D {
        let channels = conv.outputChannels
        guard bn.scale.shape == [channels] else {
            throw .channelMismatch("the convolution has \(channels) output channels, the batch norm \(bn.scale.shape[0])")
        }
        let (gamma, beta) = (bn.scale.value.scalars, bn.offset.value.scalars)
        let (mean, variance) = (bn.runningMean.value.scalars, bn.runningVariance.value.scalars)
        let factors = (0..<channels).map { gamma[$0] / (variance[$0] + bn.epsilon).squareRoot() }
        let filter = conv.filter.value.scalars.enumerated().map { index, weight in weight * factors[index % channels] }
        let bias = conv.bias?.value.scalars ?? Array(repeating: 0, count: channels)
        let foldedBias = (0..<channels).map { (bias[$0] - mean[$0]) * factors[$0] + beta[$0] }
        var generator = SeededGenerator(seed: 0)
        var spec = conv.spec
        spec.bias = true
        let folded: Conv2D
        do {
            folded = try Conv2D(spec: spec, generator: &generator, registry: .core)
        } catch {
            throw .channelMismatch("\(error)")
        }
        folded.filter.assign(Tensor(shape: conv.filter.shape, scalars: filter))
        folded.bias?.assign(Tensor(shape: [channels], scalars: foldedBias))
        return folded
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
