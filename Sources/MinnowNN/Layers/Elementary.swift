import QuantMath
import MinnowTensor

/// The element-wise activations Minnow's layers use: the one list the tensor library, the layers
/// and quantization share (`QuantMath.ActivationFunction`; its raw values are the names in
/// model descriptions).
public typealias ActivationKind = ActivationFunction

extension ActivationFunction {
    /// Applies the activation (leaky ReLU with its default slope).
    public func apply(_ x: Tensor) -> Tensor { x.activation(self) }
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
        return output
    }
}

/// Average pooling over NHWC input (padding counts as zeros, as PyTorch's default).
public final class AvgPool2D: Pool2DLayer, Layer {
    public func forward(_ input: Tensor) -> Tensor {
        let output = avgPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding)
        return output
    }
}

/// Global average pooling: `[N, H, W, C]` to `[N, C]`.
public final class GlobalAvgPool2D: Module, Layer {
    public override init() {}
    public func forward(_ input: Tensor) -> Tensor {
        let output = globalAvgPool2d(input)
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

extension Activation: DescribableLayer {
    /// An activation layer's function.
    public struct Spec: Codable, Equatable, Sendable {
        public var activation: ActivationKind
    }

    public static let kind = "activation"

    public var spec: Spec { Spec(activation: kind) }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        self.init(spec.activation)
    }
}

/// A pooling layer's square geometry.
public struct PoolSpec: ForwardCompatible, Equatable, Sendable {
    public static let requiredKeys: Set<String> = ["kernelSize", "stride"]
    public var kernelSize: Int, stride: Int, padding: Int

    public init(kernelSize: Int, stride: Int, padding: Int = 0) {
        (self.kernelSize, self.stride, self.padding) = (kernelSize, stride, padding)
    }

    /// Decodes a spec; no padding when an older file does not say.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kernelSize: try c.decode(Int.self, forKey: .kernelSize), stride: try c.decode(Int.self, forKey: .stride), padding: try c.decode(.padding, or: 0))
    }

    /// Checks the geometry for a layer of `kind`.
    func validate(_ kind: String) throws(DescriptionError) {
        try requireSpec(kernelSize > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernelSize, kind,
                        "kernel and stride must be positive and padding in 0...kernel/2, got \(self)")
    }
}

extension Pool2DLayer {
    /// The layer's geometry as a spec (pooling layers are square).
    public var spec: PoolSpec { PoolSpec(kernelSize: kernelSize.0, stride: stride.0, padding: padding.0) }

    /// A pooling layer of `spec`'s geometry (the `DescribableLayer` initializer of every pooling layer).
    public convenience init(spec: PoolSpec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        try spec.validate(String(describing: Self.self))
        self.init(kernelSize: spec.kernelSize, stride: spec.stride, padding: spec.padding)
    }
}

extension MaxPool2D: DescribableLayer {
    public static let kind = "max_pool2d"
}

extension AvgPool2D: DescribableLayer {
    public static let kind = "avg_pool2d"
}

/// The spec of a layer without arguments.
public struct EmptySpec: Codable, Equatable, Sendable {
    public init() {}
}

extension GlobalAvgPool2D: DescribableLayer {
    public static let kind = "global_avg_pool2d"
    public var spec: EmptySpec { EmptySpec() }
    public convenience init(spec: EmptySpec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        self.init()
    }
}

extension Flatten: DescribableLayer {
    public static let kind = "flatten"
    public var spec: EmptySpec { EmptySpec() }
    public convenience init(spec: EmptySpec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        self.init()
    }
}

extension Dropout: DescribableLayer {
    /// A dropout layer's rate; its seed is drawn from the building generator.
    public struct Spec: Codable, Equatable, Sendable {
        public var rate: Float
    }

    public static let kind = "dropout"

    public var spec: Spec { Spec(rate: rate) }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        try requireSpec(spec.rate >= 0 && spec.rate < 1, Self.kind, "rate must be in [0, 1), got \(spec.rate)")
        self.init(rate: spec.rate, seed: generator.next())
    }
}

extension Sequential: DescribableLayer {
    /// The children, in order.
    public struct Spec: Codable, Equatable, Sendable {
        public var layers: [LayerDescription]
    }

    public static let kind = "sequential"

    public var spec: Spec {
        get throws(DescriptionError) {
            var described: [LayerDescription] = []
            for layer in layers { described.append(try LayerDescription(describing: layer)) }
            return Spec(layers: described)
        }
    }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        var layers: [any Layer] = []
        for description in spec.layers { layers.append(try registry.build(description, generator: &generator)) }
        self.init(layers)
    }
}
