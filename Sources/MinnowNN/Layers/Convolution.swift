import MinnowTensor

/// A 2-D convolution over NHWC input with an HWIO filter `[kh, kw, inputChannels/groups, outputChannels]`.
/// `groups == inputChannels == outputChannels` is a depthwise convolution (see `DepthwiseConv2D`).
public final class Conv2D: Module, Layer {
    public let filter: Parameter
    public let bias: Parameter?
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let dilation: (Int, Int)
    public let groups: Int

    /// A convolution with PyTorch's default initialization.
    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, useBias: Bool = true,
        generator: inout SeededGenerator
    ) {
        require(inputChannels % groups == 0 && outputChannels % groups == 0,
                "Conv2D: groups \(groups) must divide inputChannels \(inputChannels) and outputChannels \(outputChannels)")
        let fanIn = inputChannels / groups * kernelSize.0 * kernelSize.1
        filter = Parameter(Initializer.pytorchDefault(
            [kernelSize.0, kernelSize.1, inputChannels / groups, outputChannels], fanIn: fanIn, generator: &generator))
        bias = useBias ? Parameter(Initializer.pytorchDefault([outputChannels], fanIn: fanIn, generator: &generator)) : nil
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    /// A square-kernel convolution with "same"-style padding `kernelSize / 2` unless given.
    public convenience init(
        _ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int? = nil,
        groups: Int = 1, useBias: Bool = true, generator: inout SeededGenerator
    ) {
        let pad = padding ?? kernelSize / 2
        self.init(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: (kernelSize, kernelSize),
                  stride: (stride, stride), padding: (pad, pad), groups: groups, useBias: useBias, generator: &generator)
    }

    public var inputChannels: Int { filter.shape[2] * groups }
    public var outputChannels: Int { filter.shape[3] }

    public func forward(_ input: Tensor) -> Tensor {
        let output = conv2d(input, filter.value, bias: bias?.value, stride: stride, padding: padding,
                            dilation: dilation, groups: groups)
        return output
    }

    public override var summaryKind: String { groups > 1 && groups == inputChannels ? "DepthwiseConv2D" : "Conv2D" }

    /// Per output element, one multiply-accumulate per filter tap and input channel of its group.
    public override func multiplyAccumulates(outputCount: Int) -> Int { outputCount * filter.shape[0] * filter.shape[1] * filter.shape[2] }
}

/// Depthwise convolution: one `k x k` filter per channel (`groups == channels`).
public func DepthwiseConv2D(
    channels: Int, kernelSize: Int, stride: Int = 1, padding: Int? = nil, useBias: Bool = false,
    generator: inout SeededGenerator
) -> Conv2D {
    Conv2D(channels, channels, kernelSize: kernelSize, stride: stride, padding: padding, groups: channels,
           useBias: useBias, generator: &generator)
}

/// A fully connected layer `y = x W + b` with `W` of shape `[inputFeatures, outputFeatures]`.
public final class Linear: Module, Layer {
    public let weight: Parameter
    public let bias: Parameter?

    public init(inputFeatures: Int, outputFeatures: Int, useBias: Bool = true, generator: inout SeededGenerator) {
        weight = Parameter(Initializer.pytorchDefault([inputFeatures, outputFeatures], fanIn: inputFeatures, generator: &generator))
        bias = useBias ? Parameter(Initializer.pytorchDefault([outputFeatures], fanIn: inputFeatures, generator: &generator)) : nil
    }

    public func forward(_ input: Tensor) -> Tensor {
        let output = linear(input, weight: weight.value, bias: bias?.value)
        return output
    }

    /// Per output feature, one multiply-accumulate per input feature.
    public override func multiplyAccumulates(outputCount: Int) -> Int { outputCount * weight.shape[0] }
}

extension Conv2D: DescribableLayer {
    /// A convolution's constructor arguments; pairs are (height, width).
    public struct Spec: ForwardCompatible, Equatable, Sendable {
        public static let requiredKeys: Set<String> = ["inputChannels", "outputChannels", "kernelSize"]
        public var inputChannels: Int, outputChannels: Int
        public var kernelSize: [Int], stride: [Int], padding: [Int], dilation: [Int]
        public var groups: Int
        public var bias: Bool

        public init(inputChannels: Int, outputChannels: Int, kernelSize: [Int], stride: [Int] = [1, 1], padding: [Int] = [0, 0],
                    dilation: [Int] = [1, 1], groups: Int = 1, bias: Bool = true) {
            (self.inputChannels, self.outputChannels, self.kernelSize) = (inputChannels, outputChannels, kernelSize)
            (self.stride, self.padding, self.dilation, self.groups, self.bias) = (stride, padding, dilation, groups, bias)
        }

        /// Decodes a spec; stride 1, no padding, dilation 1, one group and a bias when an older
        /// file lacks them.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(inputChannels: try c.decode(Int.self, forKey: .inputChannels), outputChannels: try c.decode(Int.self, forKey: .outputChannels),
                      kernelSize: try c.decode([Int].self, forKey: .kernelSize), stride: try c.decode(.stride, or: [1, 1]),
                      padding: try c.decode(.padding, or: [0, 0]), dilation: try c.decode(.dilation, or: [1, 1]), groups: try c.decode(.groups, or: 1),
                      bias: try c.decode(.bias, or: true))
        }
    }

    public static let kind = "conv2d"

    public var spec: Spec {
        Spec(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: [filter.shape[0], filter.shape[1]],
             stride: [stride.0, stride.1], padding: [padding.0, padding.1], dilation: [dilation.0, dilation.1],
             groups: groups, bias: bias != nil)
    }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        let pairs = [spec.kernelSize, spec.stride, spec.padding, spec.dilation]
        try requireSpec(pairs.allSatisfy { $0.count == 2 }, Self.kind, "kernelSize, stride, padding and dilation must be pairs, got \(spec)")
        try requireSpec(spec.inputChannels > 0 && spec.outputChannels > 0 && spec.groups > 0
                        && ([spec.kernelSize, spec.stride, spec.dilation].joined().allSatisfy { $0 > 0 }) && spec.padding.allSatisfy { $0 >= 0 },
                        Self.kind, "channels, groups, kernel, stride and dilation must be positive and padding >= 0, got \(spec)")
        try requireSpec(spec.inputChannels % spec.groups == 0 && spec.outputChannels % spec.groups == 0, Self.kind,
                        "groups \(spec.groups) must divide the input (\(spec.inputChannels)) and output (\(spec.outputChannels)) channels")
        try requireParameters([spec.kernelSize[0], spec.kernelSize[1], spec.inputChannels / spec.groups, spec.outputChannels], Self.kind)
        self.init(inputChannels: spec.inputChannels, outputChannels: spec.outputChannels,
                  kernelSize: (spec.kernelSize[0], spec.kernelSize[1]), stride: (spec.stride[0], spec.stride[1]),
                  padding: (spec.padding[0], spec.padding[1]), dilation: (spec.dilation[0], spec.dilation[1]),
                  groups: spec.groups, useBias: spec.bias, generator: &generator)
    }
}

extension Linear: DescribableLayer {
    /// A fully connected layer's constructor arguments.
    public struct Spec: ForwardCompatible, Equatable, Sendable {
        public static let requiredKeys: Set<String> = ["inputFeatures", "outputFeatures"]
        public var inputFeatures: Int, outputFeatures: Int
        public var bias: Bool

        public init(inputFeatures: Int, outputFeatures: Int, bias: Bool = true) {
            (self.inputFeatures, self.outputFeatures, self.bias) = (inputFeatures, outputFeatures, bias)
        }

        /// Decodes a spec; a bias when an older file does not say.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(inputFeatures: try c.decode(Int.self, forKey: .inputFeatures), outputFeatures: try c.decode(Int.self, forKey: .outputFeatures),
                      bias: try c.decode(.bias, or: true))
        }
    }

    public static let kind = "linear"

    public var spec: Spec { Spec(inputFeatures: weight.shape[0], outputFeatures: weight.shape[1], bias: bias != nil) }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        try requireSpec(spec.inputFeatures > 0 && spec.outputFeatures > 0, Self.kind, "features must be positive, got \(spec)")
        try requireParameters([spec.inputFeatures, spec.outputFeatures], Self.kind)
        self.init(inputFeatures: spec.inputFeatures, outputFeatures: spec.outputFeatures, useBias: spec.bias, generator: &generator)
    }
}
