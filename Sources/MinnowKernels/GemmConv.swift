import Synchronization

/// Convolution as matrix products, for every convolution that is not depthwise.
///
/// Per group, `output[pixels, Cout/g] = patches[pixels, patchSize] x filter[patchSize, Cout/g]`
/// (the HWIO filter is already that matrix; a group is a block of its columns, reached through the
/// leading dimension). The input gradient is `gradOutput x filter^T` scattered back by col2im, and
/// the filter gradient `patches^T x gradOutput`. A pointwise convolution (1x1, stride 1, no
/// padding) is its own patch matrix: the input is used in place and nothing is copied.
///
/// The batch is cut into chunks of whole images; each pool thread claims chunks in turn and, block
/// by block of output pixels, runs im2col and a single-threaded GEMM on its own scratch buffer
/// (`blockFloats`, so the patches are multiplied while still in cache and memory stays bounded
/// whatever the image size). Only the thread that owns an image scatters into its input gradient;
/// filter and bias gradients accumulate in per-thread buffers summed at the end. With fewer chunks
/// than threads (a batch of one or two) the chunks run in sequence and each im2col and GEMM is
/// split over the pool instead.
enum GemmConv {
    /// Target size of a block's patch matrix, in floats (1 MB, the L2 cache of one core).
    static let blockFloats = 1 << 18

    /// 1x1, stride 1, no padding: the input, as it lies, is the patch matrix.
    static func isPointwise(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideY == 1 && g.strideX == 1 && g.padY == 0 && g.padX == 0
    }

    struct Plan {
        let pointwise: Bool
        let imagesPerChunk: Int
        let chunks: Int
        /// Threads claiming chunks; 1 means chunks run in sequence with parallel kernels inside.
        let workers: Int
        /// Output pixels per im2col block.
        let blockPixels: Int
        /// Patch-matrix floats per worker.
        let scratchFloats: Int

        init(_ g: ConvGeometry) {
            pointwise = GemmConv.isPointwise(g)
            let threads = ThreadPool.shared.threadCount
            let pixelsPerImage = g.outHeight * g.outWidth
            let imageFloats = max(1, pixelsPerImage * g.patchSize)
            imagesPerChunk = max(1, min(blockFloats / imageFloats, g.batch / (4 * threads)))
            chunks = (g.batch + imagesPerChunk - 1) / imagesPerChunk
            workers = chunks >= 2 * threads ? threads : 1
            blockPixels = pointwise ? imagesPerChunk * pixelsPerImage
                : max(1, min(imagesPerChunk * pixelsPerImage, blockFloats / g.patchSize))
            scratchFloats = pointwise ? 0 : blockPixels * g.patchSize
        }

        /// `pixels` in consecutive blocks of at most `blockPixels`.
        func blocks(_ pixels: Range<Int>) -> [Range<Int>] {
            stride(from: pixels.lowerBound, to: pixels.upperBound, by: blockPixels).map {
                $0 ..< min($0 + blockPixels, pixels.upperBound)
            }
        }

        /// Calls `body(images, worker, scratch)` for every chunk.
        func forEachChunk(
            batch: Int, _ body: (_ images: Range<Int>, _ worker: Int, _ scratch: UnsafeMutablePointer<Float>) -> Void
        ) {
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, workers * scratchFloats))
            defer { scratch.deallocate() }
            let images = { (chunk: Int) in chunk * imagesPerChunk ..< min(batch, (chunk + 1) * imagesPerChunk) }
            guard workers > 1 else {
                for chunk in 0..<chunks { body(images(chunk), 0, scratch) }
                return
            }
            let next = Atomic<Int>(0)
            ThreadPool.shared.parallelFor(chunks: workers) { worker in
                while true {
                    let chunk = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if chunk >= chunks { return }
                    body(images(chunk), worker, scratch + worker * scratchFloats)
                }
            }
        }

        /// A GEMM on this thread when workers split the batch, split over the pool otherwise.
        func gemm(
            _ transposeA: Bool, _ transposeB: Bool, m: Int, n: Int, k: Int,
            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
        ) {
            if workers == 1 && lda == (transposeA ? m : k) && ldb == (transposeB ? k : n) && ldc == n {
                Gemm.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                           a: a, b: b, beta: beta, c: c)
            } else {
                Gemm.sgemmOnThisThread(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                       a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            }
        }

        /// The patch matrix of `group` for `pixels` and its row stride: the input itself when pointwise.
        func patches(
            _ g: ConvGeometry, input: UnsafePointer<Float>, group: Int, pixels: Range<Int>,
            scratch: UnsafeMutablePointer<Float>
        ) -> (UnsafePointer<Float>, Int) {
            if pointwise {
                return (input + pixels.lowerBound * g.inChannels + group * g.groupInChannels, g.inChannels)
            }
            let patchSize = g.patchSize
            // Nested inside the workers' loop this runs on the calling thread.
            ThreadPool.shared.parallelFor(range: pixels.count, grain: 64) { rows in
                Im2Col.pack(g, input: input, group: group,
                            pixels: (pixels.lowerBound + rows.lowerBound) ..< (pixels.lowerBound + rows.upperBound),
                            patches: scratch + rows.lowerBound * patchSize)
            }
            return (UnsafePointer(scratch), patchSize)
        }
    }

    static func forward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        let plan = Plan(g)
        let pixelsPerImage = g.outHeight * g.outWidth
        let (outChannels, groupOut) = (g.outChannels, g.groupOutChannels)
        plan.forEachChunk(batch: g.batch) { images, _, scratch in
            for pixels in plan.blocks(images.lowerBound * pixelsPerImage ..< images.upperBound * pixelsPerImage) {
                let out = output + pixels.lowerBound * outChannels
                for group in 0..<g.groups {
                    let (a, lda) = plan.patches(g, input: input, group: group, pixels: pixels, scratch: scratch)
                    plan.gemm(false, false, m: pixels.count, n: groupOut, k: g.patchSize,
                              a: a, lda: lda, b: filter + group * groupOut, ldb: outChannels,
                              beta: 0, c: out + group * groupOut, ldc: outChannels)
                }
                guard let bias else { continue }
                for row in 0..<pixels.count {
                    let y = out + row * outChannels
                    for o in 0..<outChannels { y[o] += bias[o] }
                }
            }
        }
    }

    /// Overwrites each non-nil gradient.
    static func backward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
        gradFilter: UnsafeMutablePointer<Float>?, gradBias: UnsafeMutablePointer<Float>?
    ) {
        let plan = Plan(g)
        let pixelsPerImage = g.outHeight * g.outWidth
        let (inChannels, outChannels) = (g.inChannels, g.outChannels)
        let (groupIn, groupOut, patchSize) = (g.groupInChannels, g.groupOutChannels, g.patchSize)
        let filterCount = patchSize * outChannels
        let partialSize = filterCount + outChannels
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: plan.workers * partialSize)
        defer { partials.deallocate() }
        partials.initialize(repeating: 0, count: plan.workers * partialSize)

        plan.forEachChunk(batch: g.batch) { images, worker, scratch in
            let partial = partials + worker * partialSize
            if let gradInput, !plan.pointwise {
                (gradInput + images.lowerBound * g.height * g.width * inChannels)
                    .update(repeating: 0, count: images.count * g.height * g.width * inChannels)
            }
            for pixels in plan.blocks(images.lowerBound * pixelsPerImage ..< images.upperBound * pixelsPerImage) {
                let dy = gradOutput + pixels.lowerBound * outChannels
                if gradBias != nil {
                    let sums = partial + filterCount
                    for row in 0..<pixels.count {
                        let source = dy + row * outChannels
                        for o in 0..<outChannels { sums[o] += source[o] }
                    }
                }
                for group in 0..<g.groups {
                    let dyGroup = dy + group * groupOut
                    let filterGroup = filter + group * groupOut
                    if gradFilter != nil {
                        let (a, lda) = plan.patches(g, input: input, group: group, pixels: pixels, scratch: scratch)
                        plan.gemm(true, false, m: patchSize, n: groupOut, k: pixels.count,
                                  a: a, lda: lda, b: dyGroup, ldb: outChannels,
                                  beta: 1, c: partial + group * groupOut, ldc: outChannels)
                    }
                    guard let gradInput else { continue }
                    if plan.pointwise {
                        plan.gemm(false, true, m: pixels.count, n: groupIn, k: groupOut,
                                  a: dyGroup, lda: outChannels, b: filterGroup, ldb: outChannels,
                                  beta: 0, c: gradInput + pixels.lowerBound * inChannels + group * groupIn,
                                  ldc: inChannels)
                    } else {
                        plan.gemm(false, true, m: pixels.count, n: patchSize, k: groupOut,
                                  a: dyGroup, lda: outChannels, b: filterGroup, ldb: outChannels,
                                  beta: 0, c: scratch, ldc: patchSize)
                        // Neighbouring pixels share inputs: the scatter stays on this thread.
                        Im2Col.unpackAdding(g, patches: scratch, group: group, pixels: pixels, gradInput: gradInput)
                    }
                }
            }
        }
        if let gradFilter {
            sumPartials(partials, parts: plan.workers, partStride: partialSize, offset: 0, count: filterCount,
                        into: gradFilter)
        }
        if let gradBias {
            sumPartials(partials, parts: plan.workers, partStride: partialSize, offset: filterCount,
                        count: outChannels, into: gradBias)
        }
    }
}
