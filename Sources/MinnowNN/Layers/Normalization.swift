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
        recordSummary(kind: "BatchNorm", output: output, macs: 0)
        return output
    }
}
