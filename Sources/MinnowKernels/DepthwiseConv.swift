/// Depthwise 2-D convolution (`groups == inChannels == outChannels`) on NHWC tensors, with the
/// filter `[kernelHeight, kernelWidth, 1, channels]`.
///
/// Every pass is a sum of shifted rows: an output row is a weighted sum of input rows (the taps of
/// the kernel), each weight a vector over channels. The kernels hold 16 channels in one register
/// and 4 output columns at a time, so a tap costs one weight load and four load-FMA pairs;
/// columns near the padding take a checked path. Any stride, padding and dilation.
/// Rows (forward, input gradient) or images (filter gradient) are split over `ThreadPool.shared`;
/// the filter gradient sums per-chunk partial buffers at the end, so no two threads write the same memory.
public enum DepthwiseConv {
    /// Output rows (or input rows) per parallel chunk aim at this many multiply-adds.
    static let grainWork = 1 << 15

    /// `output = conv(input, filter) + bias`.
    public static func forward(
        _ geometry: ConvGeometry, input: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let (channels, outHeight, outWidth) = (g.inChannels, g.outHeight, g.outWidth)
        let taps = g.kernelHeight * g.kernelWidth
        let grain = max(1, grainWork / max(1, outWidth * channels * taps))
        ThreadPool.shared.parallelFor(range: g.batch * outHeight, grain: grain) { rows in
            withUnsafeTemporaryAllocation(of: RowTap.self, capacity: taps) { buffer in
                let tapList = buffer.baseAddress!
                for row in rows {
                    let (n, oh) = row.quotientAndRemainder(dividingBy: outHeight)
                    var count = 0
                    for i in 0..<g.kernelHeight {
                        let ih = oh * g.strideY - g.padY + i * g.dilationY
                        guard ih >= 0 && ih < g.height else { continue }
                        let source = input + (n * g.height + ih) * g.width * channels
                        for j in 0..<g.kernelWidth {
                            tapList[count] = RowTap(source: source, offset: j * g.dilationX - g.padX,
                                                    weight: filter + (i * g.kernelWidth + j) * channels)
                            count += 1
                        }
                    }
                    let body = RowCorrelation(
                        taps: tapList, tapCount: count, count: outWidth, step: g.strideX,
                        sourceWidth: g.width, pixelStride: channels, initial: bias,
                        output: output + row * outWidth * channels, outputStride: channels)
                    forEachChannelBlock(channels, body)
                }
            }
        }
    }

    /// `gradInput = d(output)/d(input)^T gradOutput` (overwrites `gradInput`).
    ///
    /// Gathers instead of scattering: input column `iw = r + strideX * t` of residue class `r`
    /// receives from output columns `t + offset` for the taps whose offset is whole, which makes
    /// every class a stride-1 row correlation with the same kernel as the forward pass.
    public static func inputGradient(
        _ geometry: ConvGeometry, gradOutput: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let (channels, outHeight, outWidth) = (g.inChannels, g.outHeight, g.outWidth)
        let taps = g.kernelHeight * g.kernelWidth
        let grain = max(1, grainWork / max(1, g.width * channels * taps))
        ThreadPool.shared.parallelFor(range: g.batch * g.height, grain: grain) { rows in
            withUnsafeTemporaryAllocation(of: RowTap.self, capacity: taps) { buffer in
                let tapList = buffer.baseAddress!
                for row in rows {
                    let (n, ih) = row.quotientAndRemainder(dividingBy: g.height)
                    for residue in 0..<min(g.strideX, g.width) {
                        var count = 0
                        for i in 0..<g.kernelHeight {
                            let rowOffset = ih + g.padY - i * g.dilationY
                            let oh = rowOffset / g.strideY
                            guard rowOffset >= 0 && rowOffset % g.strideY == 0 && oh < outHeight else { continue }
                            let source = gradOutput + (n * outHeight + oh) * outWidth * channels
                            for j in 0..<g.kernelWidth {
                                let columnOffset = residue + g.padX - j * g.dilationX
                                guard columnOffset % g.strideX == 0 else { continue }
                                tapList[count] = RowTap(source: source, offset: columnOffset / g.strideX,
                                                        weight: filter + (i * g.kernelWidth + j) * channels)
                                count += 1
                            }
                        }
                        let body = RowCorrelation(
                            taps: tapList, tapCount: count,
                            count: (g.width - residue + g.strideX - 1) / g.strideX, step: 1,
                            sourceWidth: outWidth, pixelStride: channels, initial: nil,
                            output: gradInput + (row * g.width + residue) * channels,
                            outputStride: g.strideX * channels)
                        forEachChannelBlock(channels, body)
                    }
                }
            }
        }
    }

    /// `gradFilter = d(output)/d(filter)^T gradOutput` and `gradBias = Σ gradOutput` over N, H, W
    /// (each overwritten; pass nil to skip one).
    public static func filterGradient(
        _ geometry: ConvGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradFilter: UnsafeMutablePointer<Float>?, gradBias: UnsafeMutablePointer<Float>?
    ) {
        let g = geometry
        let channels = g.inChannels
        let filterCount = g.kernelHeight * g.kernelWidth * channels
        let partialSize = filterCount + channels
        let parts = min(g.batch, ThreadPool.shared.threadCount * 4)
        guard parts > 0 else {
            gradFilter?.initialize(repeating: 0, count: filterCount)
            gradBias?.initialize(repeating: 0, count: channels)
            return
        }
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: parts * partialSize)
        defer { partials.deallocate() }
        partials.initialize(repeating: 0, count: parts * partialSize)
        ThreadPool.shared.parallelFor(chunks: parts) { part in
            let partial = partials + part * partialSize
            for n in (g.batch * part / parts) ..< (g.batch * (part + 1) / parts) {
                let body = FilterGradientImage(
                    geometry: g, image: n, input: input, gradOutput: gradOutput,
                    gradFilter: gradFilter == nil ? nil : partial,
                    gradBias: gradBias == nil ? nil : partial + filterCount)
                forEachChannelBlock(channels, body)
            }
        }
        if let gradFilter {
            sumPartials(partials, parts: parts, partStride: partialSize, offset: 0, count: filterCount, into: gradFilter)
        }
        if let gradBias {
            sumPartials(partials, parts: parts, partStride: partialSize, offset: filterCount, count: channels, into: gradBias)
        }
    }
}

/// One term of a row correlation: a source row (channel 0 of column 0), a column offset, and
/// the tap's weights (channel 0).
struct RowTap {
    var source: UnsafePointer<Float>
    var offset: Int
    var weight: UnsafePointer<Float>
}

/// `output[t * outputStride + c] = initial[c] + Σ_taps source[(t * step + offset) * pixelStride + c] * weight[c]`
/// for `t` in `0..<count`, skipping taps whose column falls outside `0..<sourceWidth`.
struct RowCorrelation: ChannelBlockBody {
    let taps: UnsafePointer<RowTap>
    let tapCount: Int
    let count: Int
    let step: Int
    let sourceWidth: Int
    let pixelStride: Int
    let initial: UnsafePointer<Float>?
    let output: UnsafeMutablePointer<Float>
    let outputStride: Int
    /// Columns where every tap is inside the source row.
    let interior: Range<Int>

    init(taps: UnsafePointer<RowTap>, tapCount: Int, count: Int, step: Int, sourceWidth: Int,
         pixelStride: Int, initial: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        (self.taps, self.tapCount, self.count, self.step) = (taps, tapCount, count, step)
        (self.sourceWidth, self.pixelStride, self.initial) = (sourceWidth, pixelStride, initial)
        (self.output, self.outputStride) = (output, outputStride)
        var low = 0, high = count
        for k in 0..<tapCount {
            let valid = validRange(offset: taps[k].offset, step: step, extent: sourceWidth, count: count)
            low = max(low, valid.lowerBound)
            high = min(high, valid.upperBound)
        }
        low = min(low, count)
        interior = low ..< max(low, high)
    }

    @inline(__always)
    func run<V: ChannelVector>(_ vector: V.Type, channel c: Int) {
        let start = initial.map { V(loading: $0 + c) } ?? V.zero
        for t in 0..<interior.lowerBound { border(V.self, t, c, start) }
        let sourceStep = step * pixelStride
        var t = interior.lowerBound
        while t + 4 <= interior.upperBound {
            var a0 = start, a1 = start, a2 = start, a3 = start
            for k in 0..<tapCount {
                let tap = taps[k]
                let w = V(loading: tap.weight + c)
                let p = tap.source + (t * step + tap.offset) * pixelStride + c
                a0 = a0.addingProduct(V(loading: p), w)
                a1 = a1.addingProduct(V(loading: p + sourceStep), w)
                a2 = a2.addingProduct(V(loading: p + 2 * sourceStep), w)
                a3 = a3.addingProduct(V(loading: p + 3 * sourceStep), w)
            }
            let out = output + t * outputStride + c
            a0.store(to: out)
            a1.store(to: out + outputStride)
            a2.store(to: out + 2 * outputStride)
            a3.store(to: out + 3 * outputStride)
            t += 4
        }
        while t < interior.upperBound {
            var a = start
            for k in 0..<tapCount {
                let tap = taps[k]
                a = a.addingProduct(V(loading: tap.source + (t * step + tap.offset) * pixelStride + c),
                                    V(loading: tap.weight + c))
            }
            a.store(to: output + t * outputStride + c)
            t += 1
        }
        for t in interior.upperBound..<count { border(V.self, t, c, start) }
    }

    /// One column with every tap checked against the source row.
    @inline(__always)
    private func border<V: ChannelVector>(_: V.Type, _ t: Int, _ c: Int, _ start: V) {
        var a = start
        for k in 0..<tapCount {
            let tap = taps[k]
            let column = t * step + tap.offset
            guard column >= 0 && column < sourceWidth else { continue }
            a = a.addingProduct(V(loading: tap.source + column * pixelStride + c), V(loading: tap.weight + c))
        }
        a.store(to: output + t * outputStride + c)
    }
}

/// Adds one image's filter gradient (and bias gradient) for one run of channels to a partial sum:
/// `gradFilter[i, j, c] += Σ_{oh, ow} gradOutput[oh, ow, c] * input[oh * sy + i * dy - py, ow * sx + j * dx - px, c]`.
struct FilterGradientImage: ChannelBlockBody {
    let geometry: ConvGeometry
    let image: Int
    let input: UnsafePointer<Float>
    let gradOutput: UnsafePointer<Float>
    let gradFilter: UnsafeMutablePointer<Float>?
    let gradBias: UnsafeMutablePointer<Float>?

    @inline(__always)
    func run<V: ChannelVector>(_ vector: V.Type, channel c: Int) {
        let g = geometry
        let (channels, outHeight, outWidth) = (g.inChannels, g.outHeight, g.outWidth)
        let gradImage = gradOutput + image * outHeight * outWidth * channels + c
        if let gradFilter {
            let x = input + image * g.height * g.width * channels + c
            let inputStep = g.strideX * channels
            for i in 0..<g.kernelHeight {
                let rows = validRange(offset: i * g.dilationY - g.padY, step: g.strideY, extent: g.height, count: outHeight)
                for j in 0..<g.kernelWidth {
                    let columnOffset = j * g.dilationX - g.padX
                    let columns = validRange(offset: columnOffset, step: g.strideX, extent: g.width, count: outWidth)
                    var a0 = V.zero, a1 = V.zero, a2 = V.zero, a3 = V.zero
                    for oh in rows {
                        let ih = oh * g.strideY + i * g.dilationY - g.padY
                        let gradRow = gradImage + oh * outWidth * channels
                        let inputRow = x + (ih * g.width + columns.lowerBound * g.strideX + columnOffset) * channels
                        var ow = columns.lowerBound
                        var p = inputRow
                        while ow + 4 <= columns.upperBound {
                            let q = gradRow + ow * channels
                            a0 = a0.addingProduct(V(loading: q), V(loading: p))
                            a1 = a1.addingProduct(V(loading: q + channels), V(loading: p + inputStep))
                            a2 = a2.addingProduct(V(loading: q + 2 * channels), V(loading: p + 2 * inputStep))
                            a3 = a3.addingProduct(V(loading: q + 3 * channels), V(loading: p + 3 * inputStep))
                            ow += 4
                            p += 4 * inputStep
                        }
                        while ow < columns.upperBound {
                            a0 = a0.addingProduct(V(loading: gradRow + ow * channels), V(loading: p))
                            ow += 1
                            p += inputStep
                        }
                    }
                    let target = gradFilter + (i * g.kernelWidth + j) * channels + c
                    ((a0 + a1) + (a2 + a3) + V(loading: target)).store(to: target)
                }
            }
        }
        if let gradBias {
            var a0 = V.zero, a1 = V.zero
            let pixels = outHeight * outWidth
            var k = 0
            while k + 2 <= pixels {
                a0 = a0 + V(loading: gradImage + k * channels)
                a1 = a1 + V(loading: gradImage + (k + 1) * channels)
                k += 2
            }
            if k < pixels { a0 = a0 + V(loading: gradImage + k * channels) }
            (a0 + a1 + V(loading: gradBias + c)).store(to: gradBias + c)
        }
    }
}
