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
/// one output pixel's accumulators on the stack). They define what
/// Minnow's int8 arithmetic computes (a fast kernel must equal them bit for bit) and are the ones
/// a microcontroller build runs. Weights are symmetric (zero point 0); activations carry their zero
/// point; accumulators are int32 (a product of two int8 values is at most 2^14, so 2^17 of them fit).
public enum ReferenceKernels {
    /// `output[n, y, x, c] = clamp(zp + M_c * (bias[c] + Σ (input - inputZeroPoint) * filter))` over
    /// the window and the group's input channels. Padding contributes nothing (it holds the input
    /// zero point, that is real 0).
    /// `scratch` (at least `outputChannels` entries) holds one output pixel's accumulators; without
    /// it they live in a temporary allocation (on the stack when small, else on the heap: an
    /// interpreter that must not allocate passes one).
    public static func convolution(_ g: ConvolutionGeometry, input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32,
                                   filter: UnsafeBufferPointer<Int8>, bias: UnsafeBufferPointer<Int32>?,
                                   requantization: Requantization, output: UnsafeMutableBufferPointer<Int8>,
                                   scratch: UnsafeMutableBufferPointer<Int32>? = nil) {
        if let scratch {
            convolution(g, input: input, inputZeroPoint: inputZeroPoint, filter: filter, bias: bias, requantization: requantization,
                        output: output, accumulators: scratch)
        } else {
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: g.outputChannels) { accumulators in
                convolution(g, input: input, inputZeroPoint: inputZeroPoint, filter: filter, bias: bias, requantization: requantization,
                            output: output, accumulators: accumulators)
            }
        }
    }

    private static func convolution(_ g: ConvolutionGeometry, input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32,
                                    filter: UnsafeBufferPointer<Int8>, bias: UnsafeBufferPointer<Int32>?,
                                    requantization: Requantization, output: UnsafeMutableBufferPointer<Int8>,
                                    accumulators: UnsafeMutableBufferPointer<Int32>) {
        let (groupInputs, groupOutputs) = (g.inputChannels / g.groups, g.outputChannels / g.groups)
        let (outHeight, outWidth, channels) = (g.outputHeight, g.outputWidth, g.outputChannels)
        // One output pixel at a time, its channels' accumulators in `accumulators`; the innermost
        // loops run along the output channels, contiguous in the HWIO filter and the NHWC output.
        do {
            for n in 0..<g.batch {
                for oy in 0..<outHeight {
                    for ox in 0..<outWidth {
                        for oc in 0..<channels { accumulators[oc] = bias?[oc] ?? 0 }
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.stride.0 - g.padding.0 + ky * g.dilation.0
                            guard iy >= 0, iy < g.height else { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.stride.1 - g.padding.1 + kx * g.dilation.1
                                guard ix >= 0, ix < g.width else { continue }
                                let inputBase = ((n * g.height + iy) * g.width + ix) * g.inputChannels
                                let filterBase = (ky * g.kernelWidth + kx) * groupInputs * channels
                                // Wrapping arithmetic inside (no overflow checks, so the loops vectorize):
                                // (code - zero point) is within ±255 and a weight within ±128, so
                                // products never overflow; accumulators wrap as int32 does.
                                if groupInputs == 1 && groupOutputs == 1 {  // depthwise: channel c reads input channel c
                                    for c in 0..<channels {
                                        accumulators[c] &+= (Int32(input[inputBase &+ c]) &- inputZeroPoint) &* Int32(filter[filterBase &+ c])
                                    }
                                    continue
                                }
                                for group in 0..<g.groups {
                                    let outputBase = group &* groupOutputs
                                    for ic in 0..<groupInputs {
                                        let x = Int32(input[inputBase &+ group &* groupInputs &+ ic]) &- inputZeroPoint
                                        let row = filterBase &+ ic &* channels &+ outputBase
                                        for j in 0..<groupOutputs { accumulators[outputBase &+ j] &+= x &* Int32(filter[row &+ j]) }
                                    }
                                }
                            }
                        }
                        let outputBase = ((n * outHeight + oy) * outWidth + ox) * channels
                        for oc in 0..<channels { output[outputBase + oc] = requantization.code(accumulators[oc], channel: oc) }
                    }
                }
            }
        }
    }

    /// A fully connected layer, `weight` `[inputs, outputs]` (IO): a 1x1 convolution over `rows` rows.
    public static func fullyConnected(rows: Int, inputs: Int, outputs: Int, input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32,
                                      weight: UnsafeBufferPointer<Int8>, bias: UnsafeBufferPointer<Int32>?,
                                      requantization: Requantization, output: UnsafeMutableBufferPointer<Int8>) {
        for row in 0..<rows {
            for column in 0..<outputs {
                var accumulator = bias.map { $0[column] } ?? 0
                for k in 0..<inputs {
                    accumulator &+= (Int32(input[row &* inputs &+ k]) &- inputZeroPoint) &* Int32(weight[k &* outputs &+ column])
                }
                output[row * outputs + column] = requantization.code(accumulator, channel: column)
            }
        }
    }

    /// The rescaling of one input of an elementwise add: its code minus its zero point, shifted left
    /// by `leftShift` bits for headroom, times `multiplier` (`inputScale / (2 * max input scale)`).
    public struct AddInput: Sendable, Equatable {
        public var zeroPoint: Int32
        public var multiplier: FixedPointMultiplier
        public init(zeroPoint: Int32, multiplier: FixedPointMultiplier) {
            self.zeroPoint = zeroPoint
            self.multiplier = multiplier
        }
    }

    /// Headroom bits of `add` (TFLite's `left_shift` for int8 adds).
    public static let addLeftShift: Int32 = 20

    /// Elementwise `a + b` of two int8 tensors with their own parameters into an output's, as
    /// TFLite's int8 add computes it: each input is made relative to its zero point, shifted left
    /// by 20 bits, rescaled to a common scale, summed, rescaled to the output scale
    /// (`outputMultiplier = 2 * max input scale / (2^20 * outputScale)`), offset and clamped.
    public static func add(count: Int, a: UnsafeBufferPointer<Int8>, _ aInput: AddInput, b: UnsafeBufferPointer<Int8>, _ bInput: AddInput,
                           outputMultiplier: FixedPointMultiplier, outputZeroPoint: Int32, minimum: Int32, maximum: Int32,
                           output: UnsafeMutableBufferPointer<Int8>) {
        for i in 0..<count {
            let scaledA = multiplyByQuantizedMultiplier((Int32(a[i]) - aInput.zeroPoint) << addLeftShift, aInput.multiplier)
            let scaledB = multiplyByQuantizedMultiplier((Int32(b[i]) - bInput.zeroPoint) << addLeftShift, bInput.multiplier)
            output[i] = Int8(requantize(scaledA &+ scaledB, multiplier: outputMultiplier, outputZeroPoint: outputZeroPoint,
                                        minimum: minimum, maximum: maximum))
        }
    }

    /// Max pooling of NHWC int8 codes (input and output share their parameters: max commutes with
    /// the affine map). Padded positions are skipped.
    public static func maxPool(batch: Int, height: Int, width: Int, channels: Int, kernel: (Int, Int), stride: (Int, Int),
                               padding: (Int, Int), input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>) {
        let outHeight = (height + 2 * padding.0 - kernel.0) / stride.0 + 1, outWidth = (width + 2 * padding.1 - kernel.1) / stride.1 + 1
        for n in 0..<batch {
            for oy in 0..<outHeight {
                for ox in 0..<outWidth {
                    for c in 0..<channels {
                        var best = Int8.min
                        for ky in 0..<kernel.0 {
                            let iy = oy * stride.0 - padding.0 + ky
                            guard iy >= 0, iy < height else { continue }
                            for kx in 0..<kernel.1 {
                                let ix = ox * stride.1 - padding.1 + kx
                                guard ix >= 0, ix < width else { continue }
                                best = Swift.max(best, input[((n * height + iy) * width + ix) * channels + c])
                            }
                        }
                        output[((n * outHeight + oy) * outWidth + ox) * channels + c] = best
                    }
                }
            }
        }
    }

    /// Global average pooling `[N, H, W, C]` to `[N, C]`: the sum of `(code - inputZeroPoint)` over
    /// the `H * W` pixels, rescaled by `multiplier` (`inputScale / (H * W * outputScale)`), offset
    /// and clamped.
    public static func globalAveragePool(batch: Int, pixels: Int, channels: Int, input: UnsafeBufferPointer<Int8>, inputZeroPoint: Int32,
                                         multiplier: FixedPointMultiplier, outputZeroPoint: Int32,
                                         output: UnsafeMutableBufferPointer<Int8>) {
        for n in 0..<batch {
            for c in 0..<channels {
                var sum: Int32 = 0
                for p in 0..<pixels { sum &+= Int32(input[(n * pixels + p) * channels + c]) - inputZeroPoint }
                output[n * channels + c] = Int8(requantize(sum, multiplier: multiplier, outputZeroPoint: outputZeroPoint,
                                                           minimum: -128, maximum: 127))
            }
        }
    }
}

extension ReferenceKernels {
    /// One input of a channel concatenation: its codes `[pixels, channels]`, and how they map to
    /// the output's parameters (`inputScale / outputScale`; skipped when the parameters are equal).
    public struct ConcatenationInput {
        public var codes: UnsafeBufferPointer<Int8>
        public var channels: Int
        public var zeroPoint: Int32
        public var multiplier: FixedPointMultiplier?
        public init(codes: UnsafeBufferPointer<Int8>, channels: Int, zeroPoint: Int32, multiplier: FixedPointMultiplier?) {
            (self.codes, self.channels, self.zeroPoint, self.multiplier) = (codes, channels, zeroPoint, multiplier)
        }
    }

    /// Concatenation along the last axis of `pixels` rows: each input's codes copied, or
    /// requantized to the output's parameters when its own differ.
    public static func concatenateChannels(pixels: Int, inputs: [ConcatenationInput], outputZeroPoint: Int32,
                                           output: UnsafeMutableBufferPointer<Int8>) {
        let total = inputs.reduce(0) { $0 + $1.channels }
        var offset = 0
        for input in inputs {
            for pixel in 0..<pixels {
                for channel in 0..<input.channels {
                    let code = input.codes[pixel * input.channels + channel]
                    output[pixel * total + offset + channel] = input.multiplier.map {
                        Int8(requantize(Int32(code) - input.zeroPoint, multiplier: $0, outputZeroPoint: outputZeroPoint, minimum: -128, maximum: 127))
                    } ?? code
                }
            }
            offset += input.channels
        }
    }
}
