import CRuntimeKernels
import QuantMath

/// A 2-D convolution of an NHWC int8 input with an HWIO filter `[kh, kw, inputChannels / groups,
/// outputChannels]` (int8, or int4 packed), dense, grouped or depthwise (`groups` equal to the
/// channels, one input channel per group): `output = clamp(zp + M_c (bias_c + Σ (x - x_zp) w))`
/// with per-channel fixed-point multipliers. Arguments `[input, filter, bias, multipliers, shifts,
/// output, strideH, strideW, padH, padW, dilationH, dilationW, groups, min, max]`; versions 2 and 3
/// store one channel-parameters tensor in place of bias, multipliers and shifts (13 arguments).
public struct Convolution: RuntimeOperator {
    static let code = OperatorCode.convolution
    /// Arguments in memory (and version 1 files); versions 2 and 3 have two fewer.
    static let argumentCount = 15
    public var input: Int, filter: Int, bias: Int, multipliers: Int, shifts: Int, output: Int
    public var stride: Extent, padding: Extent, dilation: Extent
    public var groups: Int
    public var clamp: CodeRange

    public init(input: Int, filter: Int, bias: Int, multipliers: Int, shifts: Int, output: Int, stride: Extent, padding: Extent,
                dilation: Extent, groups: Int, clamp: CodeRange) {
        (self.input, self.filter, self.bias, self.multipliers, self.shifts, self.output) = (input, filter, bias, multipliers, shifts, output)
        (self.stride, self.padding, self.dilation, self.groups, self.clamp) = (stride, padding, dilation, groups, clamp)
    }

    init(arguments: [Int32]) throws(OperatorArgumentError) {
        let a = try Self.checked(arguments, count: Self.argumentCount)
        self.init(input: a[0], filter: a[1], bias: a[2], multipliers: a[3], shifts: a[4], output: a[5], stride: Extent(a[6], a[7]),
                  padding: Extent(a[8], a[9]), dilation: Extent(a[10], a[11]), groups: a[12],
                  clamp: CodeRange(minimum: arguments[13], maximum: arguments[14]))
    }

    var arguments: [Int32] {
        [input, filter, bias, multipliers, shifts, output, stride.height, stride.width, padding.height, padding.width, dilation.height,
         dilation.width, groups].map { Int32(truncatingIfNeeded: $0) } + [clamp.minimum, clamp.maximum]
    }

    static func tensorPositions(_ arguments: [Int32]) -> (reads: [Int], writes: [Int]) {
        channelLayerPositions(arguments, output: 5, fullCount: argumentCount)
    }

    func validate(_ v: inout OperatorValidation) throws(ModelFormatError) {
        let x = try v.activationInput(input), w = try v.constant(filter, [.int8, .int4])
        guard x.shape.count == 3, w.shape.count == 4 else { throw v.fail("input \(x.shape) and filter \(w.shape) must be HWC and HWIO") }
        let (kh, kw, groupInputs, channels) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        guard groups >= 1, groupInputs * groups == x.shape[2], channels % groups == 0 else {
            throw v.fail("groups \(groups) do not fit input channels \(x.shape[2]) and filter \(w.shape)")
        }
        // Padding at most the dilated kernel's extent minus one: no output reads only padding, and
        // the padded copy's rows are always wider than the padding the kernels write into them.
        let (strides, dilations) = (1...ModelFormat.maximumStride, 1...ModelFormat.maximumDilation)
        guard strides.contains(stride.height), strides.contains(stride.width), dilations.contains(dilation.height), dilations.contains(dilation.width),
              (0...(kh - 1) * dilation.height).contains(padding.height), (0...(kw - 1) * dilation.width).contains(padding.width) else {
            throw v.fail("stride \(stride.height)x\(stride.width), padding \(padding.height)x\(padding.width), dilation \(dilation.height)x\(dilation.width)")
        }
        let geometry = self.geometry(x.shape, w.shape)
        guard geometry.outputHeight >= 1, geometry.outputWidth >= 1,
              x.shape[0] + 2 * padding.height >= dilation.height * (kh - 1) + 1, x.shape[1] + 2 * padding.width >= dilation.width * (kw - 1) + 1 else {
            throw v.fail("the filter is larger than the padded input")
        }
        try v.boundElements("the padded input", (geometry.outputHeight - 1) * stride.height + (kh - 1) * dilation.height + 1,
                            (geometry.outputWidth - 1) * stride.width + (kw - 1) * dilation.width + 1, x.shape[2])
        try v.addWork(geometry.outputHeight, geometry.outputWidth, channels, kh, kw, groupInputs)
        let b = try v.constant(bias, [.int32])
        guard b.shape == [channels] else { throw v.fail("bias shape \(b.shape), expected [\(channels)]") }
        try v.channelMultipliers(multipliers, shifts, channels: channels)
        try v.accumulatorsFit(weights: filter, bias: bias, outputs: channels, inputZeroPoint: x.parameters.zeroPoint)
        let out = try v.activationOutput(output), expected = [geometry.outputHeight, geometry.outputWidth, channels]
        guard out.shape == expected else { throw v.fail("output shape \(out.shape), expected \(expected)") }
        try v.clamp(clamp)
    }

    /// The reference kernels' geometry for an input and filter shape.
    func geometry(_ x: [Int], _ w: [Int]) -> ConvolutionGeometry {
        ConvolutionGeometry(batch: 1, height: x[0], width: x[1], inputChannels: x[2], kernelHeight: w[0], kernelWidth: w[1], outputChannels: w[3],
                            stride: (stride.height, stride.width), padding: (padding.height, padding.width),
                            dilation: (dilation.height, dilation.width), groups: groups)
    }

    func prepare(_ p: OperatorPreparation) -> PreparedKernel {
        if let kernels = p.kernels, let fast = prepareFast(p, kernels.pointee) { return fast }
        let x = p.model.tensors[input], w = p.model.tensors[filter]
        let requantization = Requantization(multipliers: p.multipliers(multipliers, shifts), outputZeroPoint: p.parameters(output).zeroPoint,
                                            minimum: clamp.minimum, maximum: clamp.maximum)
        let (g, codes, zeroPoint, weights, biases, out, scratch) = (geometry(x.shape, w.shape), UnsafeBufferPointer(p.codes(input)), x.parameters.zeroPoint,
                                                                 p.int8s(filter), p.int32s(bias), p.codes(output), p.accumulators)
        return {
            ReferenceKernels.convolution(g, input: codes, inputZeroPoint: zeroPoint, filter: weights, bias: biases, requantization: requantization,
                                         output: out, scratch: scratch)
        }
    }

    /// A 1x1 convolution with stride 1, no padding and one group: a matrix product over pixels.
    private func isPointwise(_ w: [Int]) -> Bool {
        w[0] == 1 && w[1] == 1 && stride == Extent(1, 1) && padding == Extent(0, 0) && groups == 1
    }

    private func prepareFast(_ p: OperatorPreparation, _ kernels: mnw_kernels) -> PreparedKernel? {
        let x = p.model.tensors[input].shape, w = p.model.tensors[filter].shape, out = p.model.tensors[output].shape
        if isPointwise(w) {
            return GEMMPreparation(input: input, weight: filter, bias: bias, multipliers: multipliers, shifts: shifts, output: output, clamp: clamp)
                .prepare(p, kernels, rows: x[0] * x[1], inputs: x[2], outputs: w[3])
        }
        if groups == 1 {
            return GEMMPreparation(input: input, weight: filter, bias: bias, multipliers: multipliers, shifts: shifts, output: output, clamp: clamp)
                .prepare(p, kernels, rows: out[0] * out[1], inputs: w[0] * w[1] * w[2], outputs: w[3], convolution: cGeometry(p))
        }
        if w[2] == 1 && groups == w[3] { return prepareDepthwise(p, kernels) }
        return nil
    }

    /// The C geometry of this convolution (owned by the preparation).
    private func cGeometry(_ p: OperatorPreparation) -> UnsafeMutablePointer<mnw_conv_geometry> {
        let x = p.model.tensors[input].shape, w = p.model.tensors[filter].shape, out = p.model.tensors[output].shape
        var g = mnw_conv_geometry()
        (g.height, g.width, g.channels) = (Int32(x[0]), Int32(x[1]), Int32(x[2]))
        (g.kernel_height, g.kernel_width) = (Int32(w[0]), Int32(w[1]))
        (g.stride_height, g.stride_width, g.padding_height, g.padding_width) = (Int32(stride.height), Int32(stride.width), Int32(padding.height),
                                                                              Int32(padding.width))
        (g.dilation_height, g.dilation_width) = (Int32(dilation.height), Int32(dilation.width))
        (g.output_height, g.output_width, g.output_channels) = (Int32(out[0]), Int32(out[1]), Int32(out[2]))
        return p.store(g)
    }

    /// The depthwise kernel: filter widened to int32, the zero-point constant and the
    /// requantization table made here (the padded-input scratch after every operator is prepared);
    /// the column kernel for 3 x 3, stride 1 or 2, no dilation, where the level has it.
    private func prepareDepthwise(_ p: OperatorPreparation, _ kernels: mnw_kernels) -> PreparedKernel? {
        let w = p.model.tensors[filter].shape, channels = w[3], taps = w[0] * w[1]
        let zeroPoint = p.parameters(input).zeroPoint, weights = p.int8s(filter), padded = (channels + 15) / 16 * 16
        var d = mnw_depthwise()
        d.output_zero_point = p.parameters(output).zeroPoint
        (d.requant, d.requant_form) = p.requantizationTable(p.multipliers(multipliers, shifts), zeroPoint: d.output_zero_point)
        guard p.runs(d.requant_form) else { return nil }
        let widened = p.allocate(Int32.self, count: taps * padded), base = p.allocate(Int32.self, count: padded)
        mnw_widen_filter(weights.baseAddress, Int32(taps), Int32(channels), widened)
        mnw_weight_base(weights.baseAddress, Int32(taps), Int32(channels), p.int32s(bias).baseAddress, zeroPoint, base)
        (d.geometry, d.input, d.zero_point) = (UnsafePointer(cGeometry(p)), UnsafePointer(p.codes(input).baseAddress), zeroPoint)
        (d.filter, d.base) = (UnsafePointer(widened), UnsafePointer(base))
        let offsets = p.allocate(Int.self, count: taps)
        mnw_depthwise_tap_offsets(d.geometry, offsets)
        (d.tap_offsets, d.filter_codes) = (UnsafePointer(offsets), weights.baseAddress)
        d.pairs_fit_int16 = weights.contains(-128) ? 0 : 1
        (d.minimum, d.maximum, d.output) = (clamp.minimum, clamp.maximum, p.codes(output).baseAddress)
        let columnShape = w[0] == 3 && w[1] == 3 && dilation == Extent(1, 1) && stride.height == stride.width && (stride.width == 1 || stride.width == 2)
        if columnShape && kernels.depthwise_columns == 1 && kernels.multipliesBytes(weights) {
            let columns = p.allocate(Int8.self, count: (channels + 15) / 16 * 192), unsignedBase = p.allocate(Int32.self, count: padded)
            mnw_depthwise_columns_prepare(weights.baseAddress, Int32(channels), p.int32s(bias).baseAddress, zeroPoint, columns, unsignedBase)
            (d.columns, d.column_weights, d.unsigned_base) = (1, UnsafePointer(columns), UnsafePointer(unsignedBase))
        }
        let (arguments, kernel) = (p.storeDepthwise(d), kernels.depthwise!)
        return { kernel(arguments) }
    }

    func summary(_ model: RuntimeModel) -> (description: String, multiplyAccumulates: Int) {
        let w = model.tensors[filter].shape, out = model.tensors[output].shape
        let kind = groups == 1 ? "" : groups == out[2] && w[2] == 1 ? " dw" : " g\(groups)"
        return ("conv \(w[0])x\(w[1])/\(stride.height)\(kind) -> \(out.map(String.init).joined(separator: "x"))", out[0] * out[1] * w.reduce(1, *))
    }
}

/// The tensor positions of a convolution or fully connected layer: input, weights, then bias,
/// multipliers and shifts (or, with two arguments fewer, one channel-parameters tensor), output.
func channelLayerPositions(_ arguments: [Int32], output full: Int, fullCount: Int) -> (reads: [Int], writes: [Int]) {
    let output = arguments.count == fullCount - 2 ? full - 2 : full
    return (Array(0..<min(output, arguments.count)), arguments.count > output ? [output] : [])
}

/// A convolution (groups 1) or fully connected layer on a level's GEMM: weights packed, the
/// zero-point constant and the requantization table computed once (the scratch after every
/// operator is prepared).
struct GEMMPreparation {
    var input: Int, weight: Int, bias: Int, multipliers: Int, shifts: Int, output: Int
    var clamp: CodeRange

    func prepare(_ p: OperatorPreparation, _ kernels: mnw_kernels, rows: Int, inputs: Int, outputs: Int,
                 convolution: UnsafeMutablePointer<mnw_conv_geometry>? = nil) -> PreparedKernel? {
        var g = mnw_gemm()
        g.output_zero_point = p.parameters(output).zeroPoint
        (g.requant, g.requant_form) = p.requantizationTable(p.multipliers(multipliers, shifts), zeroPoint: g.output_zero_point)
        guard p.runs(g.requant_form) else { return nil }
        let weights = p.int8s(weight), zeroPoint = p.parameters(input).zeroPoint
        let groups = Int(mnw_gemm_groups(Int32(inputs), convolution))
        let packed = p.allocate(Int8.self, count: mnw_gemm_packed_size(Int32(inputs), Int32(outputs), convolution))
        let offsets = p.allocate(Int32.self, count: groups)
        mnw_gemm_pack(weights.baseAddress, Int32(inputs), Int32(outputs), convolution, packed, offsets)
        let base = p.allocate(Int32.self, count: (outputs + 15) / 16 * 16)
        // Unsigned input copies (x86) add 128 to every code; the NEON levels multiply the codes themselves.
        let offset = kernels.gemm_signed_input == 1 ? zeroPoint : 128 + zeroPoint
        mnw_weight_base(weights.baseAddress, Int32(inputs), Int32(outputs), p.int32s(bias).baseAddress, offset, base)
        (g.rows, g.k, g.n, g.input, g.convolution) = (Int32(rows), Int32(inputs), Int32(outputs), UnsafePointer(p.codes(input).baseAddress),
                                                      UnsafePointer(convolution))
        (g.zero_point, g.packed, g.offsets, g.groups, g.base) = (zeroPoint, UnsafePointer(packed), UnsafePointer(offsets), Int32(groups), UnsafePointer(base))
        (g.minimum, g.maximum, g.output) = (clamp.minimum, clamp.maximum, p.codes(output).baseAddress)
        if !kernels.multipliesBytes(weights) {
            let words = p.allocate(Int16.self, count: mnw_gemm_words_size(Int32(inputs), Int32(outputs), convolution) / 2)
            mnw_gemm_words_pack(packed, Int32(inputs), Int32(outputs), convolution, words)
            g.packed_words = UnsafePointer(words)
        }
        if kernels.gemm_word_pairs == 1 {
            let pairs = p.allocate(Int8.self, count: mnw_gemm_pairs_size(Int32(inputs), Int32(outputs), convolution))
            mnw_gemm_pairs_pack(packed, Int32(inputs), Int32(outputs), convolution, pairs)
            g.packed_pairs = UnsafePointer(pairs)
        }
        let (arguments, kernel) = (p.storeGEMM(g), kernels.gemm!)
        return { kernel(arguments) }
    }
}

extension ReferenceKernels {
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
}

extension mnw_kernels {
    /// Whether this level's byte kernels (the GEMM on `packed`, the depthwise column kernel) are
    /// exact for `weights`: always with VNNI; without it (vpmaddubsw) only when every weight is in
    /// [-64, 63], as in a 7- or 4-bit model, so that a pair of products cannot saturate int16.
    func multipliesBytes(_ weights: UnsafeBufferPointer<Int8>) -> Bool {
        bytes_need_seven_bits == 0 || weights.allSatisfy { (-64...63).contains($0) }
    }
}
