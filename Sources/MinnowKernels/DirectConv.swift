import Synchronization

/// Dense and grouped convolution computed directly, without a patch matrix.
///
/// Each image is copied once into a zero-padded buffer, so every tap of every output pixel is a
/// valid read. A register tile of 8 output pixels x 32 output channels (16 AVX-512 accumulators)
/// then runs over the taps and input channels: per input channel, 8 broadcasts from the padded
/// image, 2 loads from the packed filter and 16 fused multiply-adds. The filter is packed per
/// group in blocks of 32 output channels (`[kh * kw * Cin/groups][32]`, zero-filled past the
/// group's channels), and each block stays in cache while the tile sweeps the image.
/// Images (or parts of an image, for batches smaller than the pool) are claimed by the pool's
/// threads in turn; each thread keeps the last image it padded.
enum DirectConv {
    static let tileRows = 8
    static let tileColumns = 32

    /// Output-channel blocks of 32 per group.
    static func blockCount(_ g: ConvGeometry) -> Int {
        (g.groupOutChannels + tileColumns - 1) / tileColumns
    }

    /// Floats of a packed filter for `g`: `groups x blockCount x patchSize x 32`.
    static func packedCount(_ g: ConvGeometry) -> Int {
        g.groups * blockCount(g) * g.patchSize * tileColumns
    }

    /// Packs `value(group, k, o)` (row `k` of the group's `[patchSize, Cout/groups]` filter matrix,
    /// column `o`) into blocks of 32 columns.
    static func packFilter(
        _ g: ConvGeometry, into packed: UnsafeMutablePointer<Float>, _ value: (_ group: Int, _ k: Int, _ o: Int) -> Float
    ) {
        let (blocks, patchSize, groupOut) = (blockCount(g), g.patchSize, g.groupOutChannels)
        var target = packed
        for group in 0..<g.groups {
            for block in 0..<blocks {
                for k in 0..<patchSize {
                    for column in 0..<tileColumns {
                        let o = block * tileColumns + column
                        target[column] = o < groupOut ? value(group, k, o) : 0
                    }
                    target += tileColumns
                }
            }
        }
    }

    /// `output = conv(input, filter) + bias` with the filter packed by `packFilter`
    /// (bias, if any, `[outChannels]`).
    static func forward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, packedFilter: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        let (outHeight, outWidth) = (g.outHeight, g.outWidth)
        let pixels = outHeight * outWidth
        let tiles = (pixels + tileRows - 1) / tileRows
        let blocks = blockCount(g)
        let taps = tapOffsets(g)
        defer { taps.deallocate() }
        // Bias in the blocks' layout: [groups][blocks][32], zero past each group's channels.
        let biasBlocks = bias.map { b in
            let packed = UnsafeMutablePointer<Float>.allocate(capacity: g.groups * blocks * tileColumns)
            for group in 0..<g.groups {
                for column in 0..<(blocks * tileColumns) {
                    packed[group * blocks * tileColumns + column] =
                        column < g.groupOutChannels ? b[group * g.groupOutChannels + column] : 0
                }
            }
            return packed
        }
        defer { biasBlocks?.deallocate() }
        PaddedImages(g, input: input).forEachPart(units: tiles) { n, tileRange, image, _ in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: tileRows) { rowBuffer in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: tileRows * tileColumns) { spill in
                    let rows = rowBuffer.baseAddress!
                    for group in 0..<g.groups {
                        for block in 0..<blocks {
                            let weights = packedFilter + (group * blocks + block) * g.patchSize * tileColumns
                            let biasBlock = biasBlocks.map { UnsafePointer($0 + (group * blocks + block) * tileColumns) }
                            let firstChannel = group * g.groupOutChannels + block * tileColumns
                            let width = min(tileColumns, g.groupOutChannels - block * tileColumns)
                            for tile in tileRange {
                                let first = tile * tileRows
                                let count = min(tileRows, pixels - first)
                                for r in 0..<tileRows {
                                    let (oh, ow) = min(first + r, pixels - 1).quotientAndRemainder(dividingBy: outWidth)
                                    rows[r] = image.pixel(oh * g.strideY, ow * g.strideX) + group * g.groupInChannels
                                }
                                let out = output + (n * pixels + first) * g.outChannels + firstChannel
                                if count == tileRows && width == tileColumns {
                                    multiplyTile(rows: rows, taps: taps, tapCount: g.kernelHeight * g.kernelWidth,
                                                 channels: g.groupInChannels, weights: weights, bias: biasBlock,
                                                 output: out, outputStride: g.outChannels)
                                } else {
                                    multiplyTile(rows: rows, taps: taps, tapCount: g.kernelHeight * g.kernelWidth,
                                                 channels: g.groupInChannels, weights: weights, bias: biasBlock,
                                                 output: spill.baseAddress!, outputStride: tileColumns)
                                    for r in 0..<count {
                                        (out + r * g.outChannels).update(from: spill.baseAddress! + r * tileColumns, count: width)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Offsets of the taps `(i, j)` in a padded image, in floats.
    static func tapOffsets(_ g: ConvGeometry) -> UnsafeMutablePointer<Int> {
        let taps = UnsafeMutablePointer<Int>.allocate(capacity: g.kernelHeight * g.kernelWidth)
        let paddedWidth = g.width + 2 * g.padX
        for i in 0..<g.kernelHeight {
            for j in 0..<g.kernelWidth {
                taps[i * g.kernelWidth + j] = (i * g.dilationY * paddedWidth + j * g.dilationX) * g.inChannels
            }
        }
        return taps
    }

    /// `output[r][0..<32] = bias + Σ_taps Σ_c rows[r][tap + c] * weights[(tap, c)][0..<32]` for 8 rows.
    @inline(never)
    static func multiplyTile(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: UnsafePointer<Int>, tapCount: Int, channels: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
        outputStride: Int
    ) {
        typealias V = SIMD16<Float>
        let b0 = bias.map { V(loading: $0) } ?? .zero, b1 = bias.map { V(loading: $0 + 16) } ?? .zero
        var a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1
        var a40 = b0, a41 = b1, a50 = b0, a51 = b1, a60 = b0, a61 = b1, a70 = b0, a71 = b1
        var w = weights
        for t in 0..<tapCount {
            let offset = taps[t]
            let p0 = rows[0] + offset, p1 = rows[1] + offset, p2 = rows[2] + offset, p3 = rows[3] + offset
            let p4 = rows[4] + offset, p5 = rows[5] + offset, p6 = rows[6] + offset, p7 = rows[7] + offset
            for c in 0..<channels {
                let w0 = V(loading: w), w1 = V(loading: w + 16)
                w += 32
                var x = V(repeating: p0[c])
                a00 = a00.addingProduct(x, w0); a01 = a01.addingProduct(x, w1)
                x = V(repeating: p1[c])
                a10 = a10.addingProduct(x, w0); a11 = a11.addingProduct(x, w1)
                x = V(repeating: p2[c])
                a20 = a20.addingProduct(x, w0); a21 = a21.addingProduct(x, w1)
                x = V(repeating: p3[c])
                a30 = a30.addingProduct(x, w0); a31 = a31.addingProduct(x, w1)
                x = V(repeating: p4[c])
                a40 = a40.addingProduct(x, w0); a41 = a41.addingProduct(x, w1)
                x = V(repeating: p5[c])
                a50 = a50.addingProduct(x, w0); a51 = a51.addingProduct(x, w1)
                x = V(repeating: p6[c])
                a60 = a60.addingProduct(x, w0); a61 = a61.addingProduct(x, w1)
                x = V(repeating: p7[c])
                a70 = a70.addingProduct(x, w0); a71 = a71.addingProduct(x, w1)
            }
        }
        let s = outputStride
        a00.store(to: output); a01.store(to: output + 16)
        a10.store(to: output + s); a11.store(to: output + s + 16)
        a20.store(to: output + 2 * s); a21.store(to: output + 2 * s + 16)
        a30.store(to: output + 3 * s); a31.store(to: output + 3 * s + 16)
        a40.store(to: output + 4 * s); a41.store(to: output + 4 * s + 16)
        a50.store(to: output + 5 * s); a51.store(to: output + 5 * s + 16)
        a60.store(to: output + 6 * s); a61.store(to: output + 6 * s + 16)
        a70.store(to: output + 7 * s); a71.store(to: output + 7 * s + 16)
    }
}

/// Zero-padded copies of the images of a convolution's input, one per pool thread, and the
/// schedule that hands images (or parts of images) to the threads.
struct PaddedImages {
    let geometry: ConvGeometry
    let input: UnsafePointer<Float>
    let paddedHeight: Int
    let paddedWidth: Int

    init(_ g: ConvGeometry, input: UnsafePointer<Float>) {
        geometry = g
        self.input = input
        paddedHeight = g.height + 2 * g.padY
        paddedWidth = g.width + 2 * g.padX
    }

    /// Copies one image into the interior of a padded buffer (whose border is already zero).
    func copyPadded(_ image: UnsafePointer<Float>, into buffer: UnsafeMutablePointer<Float>) {
        let g = geometry
        let rowFloats = g.width * g.inChannels
        for y in 0..<g.height {
            (buffer + ((y + g.padY) * paddedWidth + g.padX) * g.inChannels)
                .update(from: image + y * rowFloats, count: rowFloats)
        }
    }

    /// One thread's padded copy of image `n`.
    struct Image {
        let base: UnsafePointer<Float>
        let paddedWidth: Int
        let channels: Int
        /// Channel 0 of padded pixel `(y, x)`.
        @inline(__always) func pixel(_ y: Int, _ x: Int) -> UnsafePointer<Float> {
            base + (y * paddedWidth + x) * channels
        }
    }

    /// Calls `body(n, units, image, worker)` for every image `n` and every part of `0..<units` (the
    /// whole range, or a share of it when the batch is smaller than twice the thread count), on the
    /// pool; `worker` (below `schedule(units:).workers`) identifies the calling thread.
    func forEachPart(units: Int, _ body: (Int, Range<Int>, Image, Int) -> Void) {
        let g = geometry
        let (parts, workers) = schedule(units: units)
        let items = g.batch * parts
        let imageFloats = paddedHeight * paddedWidth * g.inChannels
        let unpadded = g.padY == 0 && g.padX == 0
        let buffers = UnsafeMutablePointer<Float>.allocate(capacity: unpadded ? 1 : workers * imageFloats)
        defer { buffers.deallocate() }
        if !unpadded { buffers.initialize(repeating: 0, count: workers * imageFloats) }
        let next = Atomic<Int>(0)
        ThreadPool.shared.parallelFor(chunks: workers) { worker in
            let buffer = buffers + worker * imageFloats
            var loaded = -1
            while true {
                let item = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if item >= items { return }
                let (n, part) = item.quotientAndRemainder(dividingBy: parts)
                let source = input + n * g.height * g.width * g.inChannels
                var base = UnsafePointer(source)
                if !unpadded {
                    if loaded != n { copyPadded(source, into: buffer) }
                    base = UnsafePointer(buffer)
                    loaded = n
                }
                body(n, (units * part / parts) ..< (units * (part + 1) / parts),
                     Image(base: base, paddedWidth: paddedWidth, channels: g.inChannels), worker)
            }
        }
    }

    /// Parts per image and threads for `forEachPart`: enough parts to give every thread two.
    func schedule(units: Int) -> (parts: Int, workers: Int) {
        let threads = ThreadPool.shared.threadCount
        let parts = max(1, min(units, (2 * threads + geometry.batch - 1) / max(1, geometry.batch)))
        return (parts, max(1, min(threads, geometry.batch * parts)))
    }
}
