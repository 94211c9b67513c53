import MinnowNN
import MinnowTensor

/// CIFAR-style ResNet (He et al., 2016): a 3x3 stem, three stages of `blocksPerStage` basic
/// blocks (the 2nd and 3rd stages halve the resolution), global average pooling, a linear head.
/// Depth is `6 * blocksPerStage + 2`.
public final class ResNet: Module, Layer {
    public let stem: ConvBNActivation
    public let layers: Sequential
    public let pool = GlobalAvgPool2D()
    public let fc: Linear

    public init(stem: ConvBNActivation, layers: Sequential, fc: Linear) {
        (self.stem, self.layers, self.fc) = (stem, layers, fc)
    }

    public convenience init(inputChannels: Int, stageChannels: [Int], blocksPerStage: Int, classes: Int, generator: inout SeededGenerator) {
        let stem = ConvBNActivation(inputChannels, stageChannels[0], kernelSize: 3, activation: .relu, generator: &generator)
        var blocks: [any Layer] = []
        var channels = stageChannels[0]
        for (stage, width) in stageChannels.enumerated() {
            for index in 0..<blocksPerStage {
                blocks.append(BasicBlock(inputChannels: channels, outputChannels: width,
                                         stride: stage > 0 && index == 0 ? 2 : 1, generator: &generator))
                channels = width
            }
        }
        self.init(stem: stem, layers: Sequential(blocks),
                  fc: Linear(inputFeatures: channels, outputFeatures: classes, generator: &generator))
    }

    public func forward(_ input: Tensor) -> Tensor { fc(pool(layers(stem(input)))) }
}

/// MobileNetV1 (Howard et al., 2017) for small images: a 3x3 stem, depthwise-separable blocks,
/// global average pooling, dropout, a linear head.
public final class MobileNetV1: Module, Layer {
    public let stem: ConvBNActivation
    public let features: Sequential
    public let pool = GlobalAvgPool2D()
    public let dropout: Dropout
    public let fc: Linear

    /// `blocks` lists (output channels, stride) at width 1; every width is scaled by `width`.
    public init(stem: ConvBNActivation, features: Sequential, dropout: Dropout, fc: Linear) {
        (self.stem, self.features, self.dropout, self.fc) = (stem, features, dropout, fc)
    }

    public convenience init(inputChannels: Int, stemChannels: Int, blocks: [(channels: Int, stride: Int)], width: Float,
                            dropout rate: Float, classes: Int, generator: inout SeededGenerator) {
        var channels = makeDivisible(Float(stemChannels) * width)
        let stem = ConvBNActivation(inputChannels, channels, kernelSize: 3, activation: .relu, generator: &generator)
        var layers: [any Layer] = []
        for block in blocks {
            let out = makeDivisible(Float(block.channels) * width)
            layers.append(DepthwiseSeparableBlock(inputChannels: channels, outputChannels: out, stride: block.stride,
                                                  generator: &generator))
            channels = out
        }
        let dropout = Dropout(rate: rate, seed: generator.next())
        self.init(stem: stem, features: Sequential(layers), dropout: dropout,
                  fc: Linear(inputFeatures: channels, outputFeatures: classes, generator: &generator))
    }

    public func forward(_ input: Tensor) -> Tensor { fc(dropout(pool(features(stem(input))))) }
}

/// One row of a MobileNetV2 table: expansion t, output channels c, repeats n, first stride s.
public struct InvertedResidualSetting: Codable, Equatable, Sendable {
    public let expansion: Int, channels: Int, repeats: Int, stride: Int
    public init(_ expansion: Int, _ channels: Int, _ repeats: Int, _ stride: Int) {
        self.expansion = expansion
        self.channels = channels
        self.repeats = repeats
        self.stride = stride
    }
}

/// MobileNetV2 (Sandler et al., 2018): a 3x3 stem, inverted residual stages from a (t, c, n, s)
/// table, a 1x1 head conv, global average pooling, dropout, a linear head. Channel counts are
/// scaled by the width multiplier and rounded to multiples of 8, as the paper's reference code.
public final class MobileNetV2: Module, Layer {
    public let features: Sequential
    public let pool = GlobalAvgPool2D()
    public let dropout: Dropout
    public let fc: Linear

    public init(features: Sequential, dropout: Dropout, fc: Linear) {
        (self.features, self.dropout, self.fc) = (features, dropout, fc)
    }

    public convenience init(inputChannels: Int, stemChannels: Int, settings: [InvertedResidualSetting], headChannels: Int,
                            width: Float, dropout rate: Float, classes: Int, generator: inout SeededGenerator) {
        var channels = makeDivisible(Float(stemChannels) * width)
        var layers: [any Layer] = [ConvBNActivation(inputChannels, channels, kernelSize: 3, activation: .relu6,
                                                    generator: &generator)]
        for setting in settings {
            let out = makeDivisible(Float(setting.channels) * width)
            for index in 0..<setting.repeats {
                layers.append(InvertedResidual(inputChannels: channels, outputChannels: out,
                                               stride: index == 0 ? setting.stride : 1, expansion: setting.expansion,
                                               generator: &generator))
                channels = out
            }
        }
        let head = makeDivisible(Float(headChannels) * width)
        layers.append(ConvBNActivation(channels, head, kernelSize: 1, activation: .relu6, generator: &generator))
        let dropout = Dropout(rate: rate, seed: generator.next())
        self.init(features: Sequential(layers), dropout: dropout,
                  fc: Linear(inputFeatures: head, outputFeatures: classes, generator: &generator))
    }

    public func forward(_ input: Tensor) -> Tensor { fc(dropout(pool(features(input)))) }
}

/// SqueezeNet 1.1 layout (Iandola et al., 2016) for small images: a 3x3 stem, max pools, Fire
/// modules, dropout, a 1x1 classifier conv, global average pooling. BN follows every conv of the
/// features; the classifier conv has a bias and no activation (logits may be negative).
public final class SqueezeNet: Module, Layer {
    public let features: Sequential
    public let dropout: Dropout
    public let classifier: Conv2D
    public let pool = GlobalAvgPool2D()

    public init(features: Sequential, dropout: Dropout, classifier: Conv2D) {
        (self.features, self.dropout, self.classifier) = (features, dropout, classifier)
    }

    public convenience init(inputChannels: Int, width: Float, dropout rate: Float, classes: Int, generator: inout SeededGenerator) {
        func w(_ c: Int) -> Int { max(1, Int((Float(c) * width).rounded())) }
        let stem = w(32)
        var layers: [any Layer] = [ConvBNActivation(inputChannels, stem, kernelSize: 3, activation: .relu, generator: &generator),
                                   MaxPool2D(kernelSize: 2)]
        // (squeeze, expand) per Fire module; a max pool after the second.
        let fires = [(16, 32), (16, 32), (24, 48), (24, 48), (32, 64), (32, 64)]
        var channels = stem
        for (index, (squeeze, expand)) in fires.enumerated() {
            layers.append(FireModule(inputChannels: channels, squeezeChannels: w(squeeze), expand1x1Channels: w(expand),
                                     expand3x3Channels: w(expand), generator: &generator))
            channels = 2 * w(expand)
            if index == 1 { layers.append(MaxPool2D(kernelSize: 2)) }
        }
        let dropout = Dropout(rate: rate, seed: generator.next())
        self.init(features: Sequential(layers), dropout: dropout,
                  classifier: Conv2D(channels, classes, kernelSize: 1, padding: 0, generator: &generator))
    }

    public func forward(_ input: Tensor) -> Tensor { pool(classifier(dropout(features(input)))) }
}

/// A plain CNN baseline: two conv-ReLU-maxpool stages, then two linear layers.
public final class SimpleCNN: Module, Layer {
    public let features: Sequential
    public let flatten = Flatten()
    public let hidden: Linear
    public let fc: Linear

    public init(features: Sequential, hidden: Linear, fc: Linear) {
        (self.features, self.hidden, self.fc) = (features, hidden, fc)
    }

    public convenience init(inputHeight: Int, inputWidth: Int, inputChannels: Int, width: Float, classes: Int,
                            generator: inout SeededGenerator) {
        let c1 = makeDivisible(32 * width), c2 = makeDivisible(64 * width)
        let features = Sequential([
            Conv2D(inputChannels, c1, kernelSize: 3, generator: &generator), Activation(.relu), MaxPool2D(kernelSize: 2),
            Conv2D(c1, c2, kernelSize: 3, generator: &generator), Activation(.relu), MaxPool2D(kernelSize: 2),
        ])
        self.init(features: features,
                  hidden: Linear(inputFeatures: (inputHeight / 4) * (inputWidth / 4) * c2, outputFeatures: makeDivisible(128 * width),
                                 generator: &generator),
                  fc: Linear(inputFeatures: makeDivisible(128 * width), outputFeatures: classes, generator: &generator))
    }

    public func forward(_ input: Tensor) -> Tensor { fc(hidden(flatten(features(input))).relu()) }
}

/// Rounds `value` to the nearest multiple of `divisor` (at least `divisor`, never more than 10%
/// below `value`), as MobileNet's reference `_make_divisible`.
public func makeDivisible(_ value: Float, divisor: Int = 8) -> Int {
    let d = Float(divisor)
    var rounded = max(divisor, Int((value + d / 2) / d) * divisor)
    if Float(rounded) < 0.9 * value { rounded += divisor }
    return rounded
}

// MARK: Descriptions (see DescribableLayer)

extension ResNet: DescribableLayer {
    public struct Spec: Codable, Equatable, Sendable {
        public var stem: ConvBNActivation.Spec, layers: Sequential.Spec, fc: Linear.Spec
    }

    public static let kind = "resnet"

    public var spec: Spec { get throws(DescriptionError) { Spec(stem: stem.spec, layers: try layers.spec, fc: fc.spec) } }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        let stem = try ConvBNActivation(spec: spec.stem, generator: &generator, registry: registry)
        let layers = try Sequential(spec: spec.layers, generator: &generator, registry: registry)
        self.init(stem: stem, layers: layers, fc: try Linear(spec: spec.fc, generator: &generator, registry: registry))
    }
}

extension MobileNetV1: DescribableLayer {
    public struct Spec: Codable, Equatable, Sendable {
        public var stem: ConvBNActivation.Spec, features: Sequential.Spec, dropout: Dropout.Spec, fc: Linear.Spec
    }

    public static let kind = "mobilenet_v1"

    public var spec: Spec {
        get throws(DescriptionError) { Spec(stem: stem.spec, features: try features.spec, dropout: dropout.spec, fc: fc.spec) }
    }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        let stem = try ConvBNActivation(spec: spec.stem, generator: &generator, registry: registry)
        let features = try Sequential(spec: spec.features, generator: &generator, registry: registry)
        let dropout = try Dropout(spec: spec.dropout, generator: &generator, registry: registry)
        self.init(stem: stem, features: features, dropout: dropout, fc: try Linear(spec: spec.fc, generator: &generator, registry: registry))
    }
}

extension MobileNetV2: DescribableLayer {
    public struct Spec: Codable, Equatable, Sendable {
        public var features: Sequential.Spec, dropout: Dropout.Spec, fc: Linear.Spec
    }

    public static let kind = "mobilenet_v2"

    public var spec: Spec { get throws(DescriptionError) { Spec(features: try features.spec, dropout: dropout.spec, fc: fc.spec) } }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        let features = try Sequential(spec: spec.features, generator: &generator, registry: registry)
        let dropout = try Dropout(spec: spec.dropout, generator: &generator, registry: registry)
        self.init(features: features, dropout: dropout, fc: try Linear(spec: spec.fc, generator: &generator, registry: registry))
    }
}

extension SqueezeNet: DescribableLayer {
    public struct Spec: Codable, Equatable, Sendable {
        public var features: Sequential.Spec, dropout: Dropout.Spec, classifier: Conv2D.Spec
    }

    public static let kind = "squeezenet"

    public var spec: Spec {
        get throws(DescriptionError) { Spec(features: try features.spec, dropout: dropout.spec, classifier: classifier.spec) }
    }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        let features = try Sequential(spec: spec.features, generator: &generator, registry: registry)
        let dropout = try Dropout(spec: spec.dropout, generator: &generator, registry: registry)
        self.init(features: features, dropout: dropout,
                  classifier: try Conv2D(spec: spec.classifier, generator: &generator, registry: registry))
    }
}

extension SimpleCNN: DescribableLayer {
    public struct Spec: Codable, Equatable, Sendable {
        public var features: Sequential.Spec, hidden: Linear.Spec, fc: Linear.Spec
    }

    public static let kind = "cnn"

    public var spec: Spec { get throws(DescriptionError) { Spec(features: try features.spec, hidden: hidden.spec, fc: fc.spec) } }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        let features = try Sequential(spec: spec.features, generator: &generator, registry: registry)
        let hidden = try Linear(spec: spec.hidden, generator: &generator, registry: registry)
        self.init(features: features, hidden: hidden, fc: try Linear(spec: spec.fc, generator: &generator, registry: registry))
    }
}

extension LayerRegistry {
    /// MinnowNN's layers and the model zoo's blocks and networks: what checkpoints are built with.
    public static let zoo = LayerRegistry.core.adding([
        ConvBNActivation.self, BasicBlock.self, DepthwiseSeparableBlock.self, InvertedResidual.self, FireModule.self,
        ResNet.self, MobileNetV1.self, MobileNetV2.self, SqueezeNet.self, SimpleCNN.self,
    ])
}
