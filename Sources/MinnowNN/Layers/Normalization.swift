import MinnowTensor

/// Batch normalization over every axis but the last (channels), as PyTorch's BatchNorm2d/1d:
/// batch statistics and a running-average update in training mode, running statistics in evaluation.
public final class BatchNorm: Module, Layer {
    public let scale: Parameter
    public let offset: Parameter
    public let runningMean: Buffer
    public let runningVariance: Buffer
    public let momentum: Float
    public let epsilon: Float

    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        scale = Parameter(Tensor.ones([channels]))
        offset = Parameter(Tensor.zeros([channels]))
        runningMean = Buffer(Tensor.zeros([channels]))
        runningVariance = Buffer(Tensor.ones([channels]))
        self.momentum = momentum
        self.epsilon = epsilon
    }

    public func forward(_ input: Tensor) -> Tensor {
        // Running statistics change in training mode only.
        let output = batchNorm(input, scale: scale.value, offset: offset.value,
                               runningMean: &runningMean.value, runningVariance: &runningVariance.value,
                               training: isTraining, momentum: momentum, epsilon: epsilon)
        return output
    }
}

extension BatchNorm: DescribableLayer {
    /// A batch norm's constructor arguments.
    public struct Spec: ForwardCompatible, Equatable, Sendable {
        public static let requiredKeys: Set<String> = ["channels"]
        public var channels: Int
        public var momentum: Float, epsilon: Float

        public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
            (self.channels, self.momentum, self.epsilon) = (channels, momentum, epsilon)
        }

        /// Decodes a spec; PyTorch's momentum 0.1 and epsilon 1e-5 when an older file lacks them.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(channels: try c.decode(Int.self, forKey: .channels), momentum: try c.decode(.momentum, or: 0.1), epsilon: try c.decode(.epsilon, or: 1e-5))
        }
    }

    public static let kind = "batch_norm"

    public var spec: Spec { Spec(channels: scale.shape[0], momentum: momentum, epsilon: epsilon) }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        try requireSpec(spec.channels > 0 && (0...1).contains(spec.momentum) && spec.epsilon > 0 && spec.epsilon.isFinite, Self.kind,
                        "channels must be positive, momentum in [0, 1] and epsilon positive, got \(spec)")
        try requireParameters([spec.channels], Self.kind)
        self.init(channels: spec.channels, momentum: spec.momentum, epsilon: spec.epsilon)
    }
}
