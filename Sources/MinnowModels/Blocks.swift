import MinnowNN
import MinnowTensor

/// Convolution, batch norm, activation: the unit most CNNs are built from.
public final class ConvBNActivation: Module, Layer {
    public let conv: Conv2D
    public let bn: BatchNorm
    public let activation: ActivationKind

    public init(_ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, groups: Int = 1,
                activation: ActivationKind, generator: inout SeededGenerator) {
        conv = Conv2D(inputChannels, outputChannels, kernelSize: kernelSize, stride: stride, groups: groups,
                      useBias: false, generator: &generator)
        bn = BatchNorm(channels: outputChannels)
        self.activation = activation
    }

    public func forward(_ input: Tensor) -> Tensor { activation.apply(bn(conv(input))) }
}

/// ResNet basic block (He et al., 2016): two 3x3 conv-BN layers and an identity shortcut, or a
/// 1x1 conv-BN projection when the stride or the channel count changes.
public final class BasicBlock: Module, Layer {
    public let conv1: Conv2D, bn1: BatchNorm, conv2: Conv2D, bn2: BatchNorm
    public let shortcut: Sequential?

    public init(inputChannels: Int, outputChannels: Int, stride: Int, generator: inout SeededGenerator) {
        conv1 = Conv2D(inputChannels, outputChannels, kernelSize: 3, stride: stride, useBias: false, generator: &generator)
        bn1 = BatchNorm(channels: outputChannels)
        conv2 = Conv2D(outputChannels, outputChannels, kernelSize: 3, useBias: false, generator: &generator)
        bn2 = BatchNorm(channels: outputChannels)
        shortcut = stride != 1 || inputChannels != outputChannels
            ? Sequential([Conv2D(inputChannels, outputChannels, kernelSize: 1, stride: stride, padding: 0, useBias: false,
                                 generator: &generator), BatchNorm(channels: outputChannels)])
            : nil
    }

    public func forward(_ input: Tensor) -> Tensor {
        let out = bn2(conv2(bn1(conv1(input)).relu()))
        return (out + (shortcut?(input) ?? input)).relu()
    }
}

/// MobileNetV1 depthwise-separable block (Howard et al., 2017): 3x3 depthwise conv-BN-ReLU,
/// then 1x1 pointwise conv-BN-ReLU.
public final class DepthwiseSeparableBlock: Module, Layer {
    public let depthwise: ConvBNActivation, pointwise: ConvBNActivation

    public init(inputChannels: Int, outputChannels: Int, stride: Int, generator: inout SeededGenerator) {
        depthwise = ConvBNActivation(inputChannels, inputChannels, kernelSize: 3, stride: stride, groups: inputChannels,
                                     activation: .relu, generator: &generator)
        pointwise = ConvBNActivation(inputChannels, outputChannels, kernelSize: 1, activation: .relu, generator: &generator)
    }

    public func forward(_ input: Tensor) -> Tensor { pointwise(depthwise(input)) }
}

/// MobileNetV2 inverted residual (Sandler et al., 2018): 1x1 expansion (skipped when the factor
/// is 1), 3x3 depthwise, 1x1 linear projection (no activation: the linear bottleneck), and an
/// identity residual when stride is 1 and the channel count is unchanged.
public final class InvertedResidual: Module, Layer {
    public let expand: ConvBNActivation?
    public let depthwise: ConvBNActivation
    public let project: Conv2D
    public let projectBN: BatchNorm
    public let usesResidual: Bool

    public init(inputChannels: Int, outputChannels: Int, stride: Int, expansion: Int, generator: inout SeededGenerator) {
        let hidden = inputChannels * expansion
        expand = expansion != 1
            ? ConvBNActivation(inputChannels, hidden, kernelSize: 1, activation: .relu6, generator: &generator) : nil
        depthwise = ConvBNActivation(hidden, hidden, kernelSize: 3, stride: stride, groups: hidden, activation: .relu6,
                                     generator: &generator)
        project = Conv2D(hidden, outputChannels, kernelSize: 1, useBias: false, generator: &generator)
        projectBN = BatchNorm(channels: outputChannels)
        usesResidual = stride == 1 && inputChannels == outputChannels
    }

    public func forward(_ input: Tensor) -> Tensor {
        let hidden = expand?(input) ?? input
        let out = projectBN(project(depthwise(hidden)))
        return usesResidual ? input + out : out
    }
}

/// SqueezeNet Fire module (Iandola et al., 2016): a 1x1 squeeze layer, then 1x1 and 3x3
/// expand layers whose outputs are concatenated along channels (BN after every conv).
public final class FireModule: Module, Layer {
    public let squeeze: ConvBNActivation, expand1x1: ConvBNActivation, expand3x3: ConvBNActivation

    public init(inputChannels: Int, squeezeChannels: Int, expand1x1Channels: Int, expand3x3Channels: Int,
                generator: inout SeededGenerator) {
        squeeze = ConvBNActivation(inputChannels, squeezeChannels, kernelSize: 1, activation: .relu, generator: &generator)
        expand1x1 = ConvBNActivation(squeezeChannels, expand1x1Channels, kernelSize: 1, activation: .relu, generator: &generator)
        expand3x3 = ConvBNActivation(squeezeChannels, expand3x3Channels, kernelSize: 3, activation: .relu, generator: &generator)
    }

    public func forward(_ input: Tensor) -> Tensor {
        let squeezed = squeeze(input)
        return Tensor.concatenate([expand1x1(squeezed), expand3x3(squeezed)], axis: -1)
    }
}
