import QuantMath

/// How an int8 convolution's accumulators become output codes: one fixed-point multiplier per
/// output channel (`inputScale * weightScale[c] / outputScale`), the output zero point, and the
/// clamp (the type's range narrowed by a fused activation).
public struct Requantization: Sendable, Equatable {
    public var multipliers: [FixedPointMultiplier]
    public var outputZeroPoint: Int32
    public var minimum: Int32, maximum: Int32

    public init(multipliers: [FixedPointMultiplier], outputZeroPoint: Int32, minimum: Int32 = -128, maximum: Int32 = 127) {
        self.multipliers = multipliers
        self.outputZeroPoint = outputZeroPoint
        self.minimum = minimum
        self.maximum = maximum
    }

    /// The output code of `accumulator` for output channel `channel` (one multiplier serves all
    /// channels when only one is given).
    @inlinable
    public func code(_ accumulator: Int32, channel: Int) -> Int8 {
        let multiplier = multipliers.count == 1 ? multipliers[0] : multipliers[channel]
        return Int8(requantize(accumulator, multiplier: multiplier, outputZeroPoint: outputZeroPoint, minimum: minimum, maximum: maximum))
    }
}

/// The geometry of an NHWC convolution with an HWIO filter `[kh, kw, inputChannels / groups,
/// outputChannels]` (a depthwise one is `groups == inputChannels == outputChannels`).
public struct ConvolutionGeometry: Sendable {
    public var batch: Int, height: Int, width: Int, inputChannels: Int
    public var kernelHeight: Int, kernelWidth: Int, outputChannels: Int
    public var stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)
    public var groups: Int

    public init(batch: Int, height: Int, width: Int, inputChannels: Int, kernelHeight: Int, kernelWidth: Int, outputChannels: Int,
                stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1) {
        (self.batch, self.height, self.width, self.inputChannels) = (batch, height, width, inputChannels)
        (self.kernelHeight, self.kernelWidth, self.outputChannels) = (kernelHeight, kernelWidth, outputChannels)
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    public var outputHeight: Int { (height + 2 * padding.0 - dilation.0 * (kernelHeight - 1) - 1) / stride.0 + 1 }
    public var outputWidth: Int { (width + 2 * padding.1 - dilation.1 * (kernelWidth - 1) - 1) / stride.1 + 1 }
}

/// The portable integer kernels: scalar Swift, integer-only, no heap allocation (a convolution keeps
/// one output pixel's accumulators on the stack), each in its operator's file (`Operators/`). They define what
/// Minnow's int8 arithmetic computes (a fast kernel must equal them bit for bit) and are the ones
/// a microcontroller build runs. Weights are symmetric (zero point 0); activations carry their zero
/// point; accumulators are int32 (a product of two int8 values is at most 2^14, so 2^17 of them fit).
public enum ReferenceKernels {
}
