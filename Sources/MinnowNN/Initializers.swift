import MinnowTensor

/// Weight initializers. The defaults are PyTorch's, so Minnow and PyTorch start from the
/// same distributions and a recipe compares like for like.
public enum Initializer {
    /// PyTorch's default for Conv2d and Linear weights and biases: `kaiming_uniform_(a=sqrt(5))`,
    /// which is uniform in `[-1/sqrt(fanIn), 1/sqrt(fanIn)]`.
    public static func pytorchDefault(_ shape: [Int], fanIn: Int, generator: inout SeededGenerator) -> Tensor {
        let bound = 1 / Float(max(fanIn, 1)).squareRoot()
        return Tensor.randomUniform(shape, low: -bound, high: bound, generator: &generator)
    }

    /// He (Kaiming) normal initialization, fan-out mode, for ReLU networks.
    public static func heNormal(_ shape: [Int], fanOut: Int, generator: inout SeededGenerator) -> Tensor {
        Tensor.randomNormal(shape, standardDeviation: (2 / Float(max(fanOut, 1))).squareRoot(), generator: &generator)
    }
}
