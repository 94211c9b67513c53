import MinnowTensor

/// The element-wise activations Minnow's layers use.
public enum ActivationKind: String, Sendable, Codable, CaseIterable {
    case relu, relu6, leakyRelu, hardswish, sigmoid, tanh, identity

    /// Applies the activation.
    public func apply(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: x.relu()
        case .relu6: x.relu6()
        case .leakyRelu: x.leakyRelu()
        case .hardswish: x.hardswish()
        case .sigmoid: x.sigmoid()
        case .tanh: x.tanh()
        case .identity: x
        }
    }
}

/// An activation as a layer.
public final class Activation: Module, Layer {
    public let kind: ActivationKind
    public init(_ kind: ActivationKind) { self.kind = kind }
    public func forward(_ input: Tensor) -> Tensor { kind.apply(input) }
}

/// The geometry shared by the pooling layers: square kernel, stride (default: the kernel size), padding.
open class Pool2DLayer: Module {
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int)

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = (kernelSize, kernelSize)
        self.stride = (stride ?? kernelSize, stride ?? kernelSize)
        self.padding = (padding, padding)
    }
}

/// Max pooling over NHWC input.
public final class MaxPool2D: Pool2DLayer, Layer {
    public func forward(_ input: Tensor) -> Tensor {
        let output = maxPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding)
        recordSummary(kind: "MaxPool2D", output: output, macs: 0)
        return output
    }
}

/// Average pooling over NHWC input (padding counts as zeros, as PyTorch's default).
public final class AvgPool2D: Pool2DLayer, Layer {
    public func forward(_ input: Tensor) -> Tensor {
        let output = avgPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding)
        recordSummary(kind: "AvgPool2D", output: output, macs: 0)
        return output
    }
}

/// Global average pooling: `[N, H, W, C]` to `[N, C]`.
public final class GlobalAvgPool2D: Module, Layer {
    public override init() {}
    public func forward(_ input: Tensor) -> Tensor {
        let output = globalAvgPool2d(input)
        recordSummary(kind: "GlobalAvgPool2D", output: output, macs: 0)
        return output
    }
}

/// `[N, ...]` to `[N, product of the rest]`.
public final class Flatten: Module, Layer {
    public override init() {}
    public func forward(_ input: Tensor) -> Tensor { input.flattenedBatch() }
}

/// Inverted dropout, active in training mode only. Its generator is part of the module, so a
/// seeded model drops the same units in the same steps.
public final class Dropout: Module, Layer {
    public let rate: Float
    public var generator: SeededGenerator

    public init(rate: Float, seed: UInt64 = 0) {
        require(rate >= 0 && rate < 1, "Dropout: rate must be in [0, 1), got \(rate)")
        self.rate = rate
        generator = SeededGenerator(seed: seed)
    }

    public func forward(_ input: Tensor) -> Tensor {
        dropout(input, rate: rate, training: isTraining, generator: &generator)
    }
}

/// Layers applied in order.
public final class Sequential: Module, Layer {
    public let layers: [any Layer]
    public init(_ layers: [any Layer]) { self.layers = layers }
    public override var namesArrayElementsByIndex: Bool { true }
    public func forward(_ input: Tensor) -> Tensor {
        layers.reduce(input) { x, layer in layer(x) }
    }
}
