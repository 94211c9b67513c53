import MinnowNN
import MinnowTensor

/// Convolution, batch norm, activation: the unit most CNNs are built from.
public final class ConvBNActivation: Module, Layer {
    public let conv: Conv2D
    public let bn: BatchNorm
    public let activation: ActivationKind

    public init(conv: Conv2D, bn: BatchNorm, activation: ActivationKind) {
        self.conv = conv
        self.bn = bn
        self.activation = activation
    }

    public convenience init(_ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, groups: Int = 1,
                            activation: ActivationKind, generator: inout SeededGenerator) {
        self.init(conv: Conv2D(inputChannels, outputChannels, kernelSize: kernelSize, stride: stride, groups: groups,
                               useBias: false, generator: &generator),
                  bn: BatchNorm(channels: outputChannels), activation: activation)
    }

    public func forward(_ input: Tensor) -> Tensor { activation.apply(bn(conv(input))) }
}

/// ResNet basic block (He et al., 2016): two 3x3 conv-BN layers and an identity shortcut, or a
/// 1x1 conv-BN projection when the stride or the channel count changes.
public final class BasicBlock: Module, Layer {
    public let conv1: Conv2D, bn1: BatchNorm, conv2: Conv2D, bn2: BatchNorm
    public let shortcut: Sequential?

    public init(conv1: Conv2D, bn1: BatchNorm, conv2: Conv2D, bn2: BatchNorm, shortcut: Sequential?) {
        (self.conv1, self.bn1, self.conv2, self.bn2, self.shortcut) = (conv1, bn1, conv2, bn2, shortcut)
    }

    public convenience init(inputChannels: Int, outputChannels: Int, stride: Int, generator: inout SeededGenerator) {
        self.init(
            conv1: Conv2D(inputChannels, outputChannels, kernelSize: 3, stride: stride, useBias: false, generator: &generator),
            bn1: BatchNorm(channels: outputChannels),
            conv2: Conv2D(outputChannels, outputChannels, kernelSize: 3, useBias: false, generator: &generator),
            bn2: BatchNorm(channels: outputChannels),
            shortcut: stride != 1 || inputChannels != outputChannels
                ? Sequential([Conv2D(inputChannels, outputChannels, kernelSize: 1, stride: stride, padding: 0, useBias: false,
                                     generator: &generator), BatchNorm(channels: outputChannels)])
                : nil)
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

    public init(depthwise: ConvBNActivation, pointwise: ConvBNActivation) {
        (self.depthwise, self.pointwise) = (depthwise, pointwise)
    }

    public convenience init(inputChannels: Int, outputChannels: Int, stride: Int, generator: inout SeededGenerator) {
        self.init(depthwise: ConvBNActivation(inputChannels, inputChannels, kernelSize: 3, stride: stride, groups: inputChannels,
                                              activation: .relu, generator: &generator),
                  pointwise: ConvBNActivation(inputChannels, outputChannels, kernelSize: 1, activation: .relu, generator: &generator))
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

    public init(expand: ConvBNActivation?, depthwise: ConvBNActivation, project: Conv2D, projectBN: BatchNorm, usesResidual: Bool) {
        (self.expand, self.depthwise, self.project, self.projectBN, self.usesResidual) = (expand, depthwise, project, projectBN, usesResidual)
    }

    public convenience init(inputChannels: Int, outputChannels: Int, stride: Int, expansion: Int, generator: inout SeededGenerator) {
        let hidden = inputChannels * expansion
        self.init(
            expand: expansion != 1
                ? ConvBNActivation(inputChannels, hidden, kernelSize: 1, activation: .relu6, generator: &generator) : nil,
            depthwise: ConvBNActivation(hidden, hidden, kernelSize: 3, stride: stride, groups: hidden, activation: .relu6,
                                        generator: &generator),
            project: Conv2D(hidden, outputChannels, kernelSize: 1, useBias: false, generator: &generator),
            projectBN: BatchNorm(channels: outputChannels),
            usesResidual: stride == 1 && inputChannels == outputChannels)
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

    public init(squeeze: ConvBNActivation, expand1x1: ConvBNActivation, expand3x3: ConvBNActivation) {
        (self.squeeze, self.expand1x1, self.expand3x3) = (squeeze, expand1x1, expand3x3)
    }

    public convenience init(inputChannels: Int, squeezeChannels: Int, expand1x1Channels: Int, expand3x3Channels: Int,
                            generator: inout SeededGenerator) {
        self.init(
            squeeze: ConvBNActivation(inputChannels, squeezeChannels, kernelSize: 1, activation: .relu, generator: &generator),
            expand1x1: ConvBNActivation(squeezeChannels, expand1x1Channels, kernelSize: 1, activation: .relu, generator: &generator),
            expand3x3: ConvBNActivation(squeezeChannels, expand3x3Channels, kernelSize: 3, activation: .relu, generator: &generator))
    }

    public func forward(_ input: Tensor) -> Tensor {
        let squeezed = squeeze(input)
        return Tensor.concatenate([expand1x1(squeezed), expand3x3(squeezed)], axis: -1)
    }
}

// MARK: Descriptions (see DescribableLayer): each block's spec holds its children's specs, so an
// edited block (other channel counts) is described as it is.

/// Fails unless each pair of channel counts agrees; `what` names the pair in the message.
func requireChannels(_ kind: String, _ pairs: [(Int, Int, String)]) throws(DescriptionError) {
    for (a, b, what) in pairs where a != b {
        throw .invalidSpec(kind: kind, detail: "\(what): \(a) vs \(b) channels")
    }
}

extension ConvBNActivation: DescribableLayer {
    public struct Spec: Codable, Equatable, Sendable {
        public var conv: Conv2D.Spec, bn: BatchNorm.Spec
        public var activation: ActivationKind
    }

    public static let kind = "conv_bn_activation"

    public var spec: Spec { Spec(conv: conv.spec, bn: bn.spec, activation: activation) }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        try requireChannels(Self.kind, [(spec.conv.outputChannels, spec.bn.channels, "conv output and bn")])
        self.init(conv: try Conv2D(spec: spec.conv, generator: &generator, registry: registry),
                  bn: try BatchNorm(spec: spec.bn, generator: &generator, registry: registry), activation: spec.activation)
    }
}

extension BasicBlock: DescribableLayer {
    public struct Spec: Codable, Equatable, Sendable {
        public var conv1: Conv2D.Spec, bn1: BatchNorm.Spec, conv2: Conv2D.Spec, bn2: BatchNorm.Spec
        public var shortcut: Sequential.Spec?
    }

    public static let kind = "basic_block"

    public var spec: Spec {
        get throws(DescriptionError) {
            Spec(conv1: conv1.spec, bn1: bn1.spec, conv2: conv2.spec, bn2: bn2.spec, shortcut: try shortcut?.spec)
        }
    }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        try requireChannels(Self.kind, [(spec.conv1.outputChannels, spec.bn1.channels, "conv1 output and bn1"),
                                        (spec.conv1.outputChannels, spec.conv2.inputChannels, "conv1 output and conv2 input"),
                                        (spec.conv2.outputChannels, spec.bn2.channels, "conv2 output and bn2")])
        if spec.shortcut == nil {
            try requireChannels(Self.kind, [(spec.conv1.inputChannels, spec.conv2.outputChannels, "identity shortcut input and output"),
                                            (spec.conv1.stride.reduce(1, *), 1, "identity shortcut stride")])
        }
        let conv1 = try Conv2D(spec: spec.conv1, generator: &generator, registry: registry)
        let bn1 = try BatchNorm(spec: spec.bn1, generator: &generator, registry: registry)
        let conv2 = try Conv2D(spec: spec.conv2, generator: &generator, registry: registry)
        let bn2 = try BatchNorm(spec: spec.bn2, generator: &generator, registry: registry)
        var shortcut: Sequential?
        if let shortcutSpec = spec.shortcut { shortcut = try Sequential(spec: shortcutSpec, generator: &generator, registry: registry) }
        self.init(conv1: conv1, bn1: bn1, conv2: conv2, bn2: bn2, shortcut: shortcut)
    }
}

extension DepthwiseSeparableBlock: DescribableLayer {
    public struct Spec: Codable, Equatable, Sendable {
        public var depthwise: ConvBNActivation.Spec, pointwise: ConvBNActivation.Spec
    }

    public static let kind = "depthwise_separable_block"

    public var spec: Spec { Spec(depthwise: depthwise.spec, pointwise: pointwise.spec) }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        try requireChannels(Self.kind, [(spec.depthwise.conv.outputChannels, spec.pointwise.conv.inputChannels,
                                         "depthwise output and pointwise input")])
        let depthwise = try ConvBNActivation(spec: spec.depthwise, generator: &generator, registry: registry)
        self.init(depthwise: depthwise, pointwise: try ConvBNActivation(spec: spec.pointwise, generator: &generator, registry: registry))
    }
}

extension InvertedResidual: DescribableLayer {
    public struct Spec: Codable, Equatable, Sendable {
        public var expand: ConvBNActivation.Spec?, depthwise: ConvBNActivation.Spec
        public var project: Conv2D.Spec, projectBN: BatchNorm.Spec
        public var usesResidual: Bool
    }

    public static let kind = "inverted_residual"

    public var spec: Spec {
        Spec(expand: expand?.spec, depthwise: depthwise.spec, project: project.spec, projectBN: projectBN.spec, usesResidual: usesResidual)
    }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        let input = spec.expand?.conv.inputChannels ?? spec.depthwise.conv.inputChannels
        var pairs = [(spec.depthwise.conv.outputChannels, spec.project.inputChannels, "depthwise output and project input"),
                     (spec.project.outputChannels, spec.projectBN.channels, "project output and projectBN")]
        if let expand = spec.expand { pairs.append((expand.conv.outputChannels, spec.depthwise.conv.inputChannels, "expand output and depthwise input")) }
        if spec.usesResidual {
            pairs += [(input, spec.project.outputChannels, "residual input and output"), (spec.depthwise.conv.stride.reduce(1, *), 1, "residual stride")]
        }
        try requireChannels(Self.kind, pairs)
        var expand: ConvBNActivation?
        if let expandSpec = spec.expand { expand = try ConvBNActivation(spec: expandSpec, generator: &generator, registry: registry) }
        let depthwise = try ConvBNActivation(spec: spec.depthwise, generator: &generator, registry: registry)
        let project = try Conv2D(spec: spec.project, generator: &generator, registry: registry)
        self.init(expand: expand, depthwise: depthwise, project: project,
                  projectBN: try BatchNorm(spec: spec.projectBN, generator: &generator, registry: registry), usesResidual: spec.usesResidual)
    }
}

extension FireModule: DescribableLayer {
    public struct Spec: Codable, Equatable, Sendable {
        public var squeeze: ConvBNActivation.Spec, expand1x1: ConvBNActivation.Spec, expand3x3: ConvBNActivation.Spec
    }

    public static let kind = "fire_module"

    public var spec: Spec { Spec(squeeze: squeeze.spec, expand1x1: expand1x1.spec, expand3x3: expand3x3.spec) }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        try requireChannels(Self.kind, [(spec.squeeze.conv.outputChannels, spec.expand1x1.conv.inputChannels, "squeeze output and expand1x1 input"),
                                        (spec.squeeze.conv.outputChannels, spec.expand3x3.conv.inputChannels, "squeeze output and expand3x3 input")])
        let squeeze = try ConvBNActivation(spec: spec.squeeze, generator: &generator, registry: registry)
        let expand1x1 = try ConvBNActivation(spec: spec.expand1x1, generator: &generator, registry: registry)
        self.init(squeeze: squeeze, expand1x1: expand1x1,
                  expand3x3: try ConvBNActivation(spec: spec.expand3x3, generator: &generator, registry: registry))
    }
}
