/// Dense 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray,
/// "Fast Algorithms for Convolutional Neural Networks", 2016), forward and both gradients.
///
/// The output is cut into 2x2 tiles; tile `t` reads the 4x4 input window `d` at `2 * (ty, tx) - padding`
/// (zero outside the image). Per tile and channel the input becomes `V = Bᵀ d B` and per filter
/// `U = G g Gᵀ`, both 4x4; each of the 16 positions ξ is then a matrix product over channels,
/// `M_ξ[t, k] = Σ_c V_ξ[t, c] U_ξ[c, k]`, and the tile's output is `Aᵀ M A + bias`. That is 16
/// multiply-adds per 4 outputs and channel pair where the direct kernel does 36 (2.25x fewer).
///
/// The gradients are this computation's exact adjoints: the input gradient transforms the output
/// gradient's tiles (`A dY Aᵀ`), multiplies by `U_ξᵀ`, and adds `B dV Bᵀ` into the overlapping input
/// windows; the filter gradient sums `V_ξᵀ dM_ξ` over every tile and maps it back with `Gᵀ · G`.
/// The products run on the direct kernels' register tiles (`RegisterTiles`), so like them the
/// result does not depend on the tile shape. It differs from the direct kernel's in the last bits
/// (the transforms round); which algorithm runs depends on the geometry only (`applies(to:)`).
///
/// Work is split over the pool by images (each thread a fixed, contiguous share), and within a
/// thread runs in chunks of tiles whose transformed inputs and products stay in the L2 cache.
enum WinogradConv {
    /// Whether `g` is computed by this algorithm: a 3x3, stride-1, undilated, ungrouped convolution
    /// whose channel counts are multiples of 16 and at least 64, padding at most 2. With 32 channels
    /// (28x28 maps, batch 128) the transforms cost what the products save: measured 10-30% slower
    /// than the direct kernel with the wide tiles and no faster with the narrow ones (docs/performance.md).
    /// The choice depends on the geometry alone, so every CPU and build computes the same bits.
    static func applies(to g: ConvGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideY == 1 && g.strideX == 1
            && g.dilationY == 1 && g.dilationX == 1 && g.groups == 1
            && g.inChannels % 16 == 0 && g.outChannels % 16 == 0 && g.inChannels >= 64 && g.outChannels >= 64
            && (0...2).contains(g.padY) && (0...2).contains(g.padX) && g.outHeight >= 1 && g.outWidth >= 1
    }

    typealias Lanes = SIMD8<Float>

    /// The tiles of one call: the grid of 2x2 output tiles per image and the chunking.
    struct Plan {
        let g: ConvGeometry
        let tiles: RegisterTiles
        var tileRows: Int { (g.outHeight + 1) / 2 }
        var tileColumns: Int { (g.outWidth + 1) / 2 }
        var tilesPerImage: Int { tileRows * tileColumns }
        /// Tiles per chunk: transformed inputs and products of a chunk take about 512 KB. Depends on
        /// the channel counts only, so at a given thread count the filter gradient's partial sums
        /// are the same on every CPU (as the direct kernel's are).
        var chunk: Int { max(24, 8192 / (g.inChannels + g.outChannels) / 24 * 24) }
        /// Threads, each with a contiguous share of the images.
        var workers: Int { max(1, min(ThreadPool.shared.threadCount, g.batch)) }

        func images(of worker: Int) -> Range<Int> { (g.batch * worker / workers) ..< (g.batch * (worker + 1) / workers) }

        /// Calls `body(first, count)` for the chunks of the tiles of `images` (numbered across images).
        func forEachChunk(of images: Range<Int>, _ body: (Int, Int) -> Void) {
            let (first, end) = (images.lowerBound * tilesPerImage, images.upperBound * tilesPerImage)
            for start in stride(from: first, to: end, by: chunk) { body(start, min(chunk, end - start)) }
        }

        /// Image, tile row and tile column of tile number `tile`.
        @inline(__always) func locate(_ tile: Int) -> (n: Int, ty: Int, tx: Int) {
            let (n, rest) = tile.quotientAndRemainder(dividingBy: tilesPerImage)
            let (ty, tx) = rest.quotientAndRemainder(dividingBy: tileColumns)
            return (n, ty, tx)
        }
    }

    /// One thread's buffers: `[16][rows][channels]` for a chunk's transformed tiles on both sides of the
    /// products (with a tile's worth of rows past the chunk, which the last partial tile reads and writes).
    struct Scratch {
        let left: UnsafeMutablePointer<Float>
        let right: UnsafeMutablePointer<Float>
        let rows: UnsafeMutablePointer<UnsafePointer<Float>>
        let outputs: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
        let tile: UnsafeMutablePointer<Float>
        let rowCount: Int

        init(_ plan: Plan, leftChannels: Int, rightChannels: Int) {
            rowCount = plan.chunk + plan.tiles.rows
            left = .allocate(capacity: 16 * rowCount * leftChannels)
            left.initialize(repeating: 0, count: 16 * rowCount * leftChannels)
            right = .allocate(capacity: 16 * rowCount * rightChannels)
            right.initialize(repeating: 0, count: 16 * rowCount * rightChannels)
            rows = .allocate(capacity: plan.tiles.rows)
            outputs = .allocate(capacity: plan.tiles.rows)
            tile = .allocate(capacity: plan.tiles.rows * plan.tiles.columns)
        }

        func deallocate() {
            left.deallocate(); right.deallocate(); rows.deallocate(); outputs.deallocate(); tile.deallocate()
        }
    }

    // MARK: Passes

    /// `output = conv(input, filter) + bias`.
    static func forward(
        _ g: ConvGeometry, input: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, tiles: RegisterTiles
    ) {
        let plan = Plan(g: g, tiles: tiles)
        let packed = transformFilter(g, filter, rows: g.inChannels, columns: g.outChannels, tiles: tiles, transposed: false)
        defer { packed.deallocate() }
        ThreadPool.shared.parallelFor(chunks: plan.workers) { worker in
            let scratch = Scratch(plan, leftChannels: g.inChannels, rightChannels: g.outChannels)
            defer { scratch.deallocate() }
            plan.forEachChunk(of: plan.images(of: worker)) { first, count in
                transformInput(plan, input, first: first, count: count, into: scratch.left, rowCount: scratch.rowCount)
                multiply(plan, scratch, count: count, channels: g.inChannels, width: g.outChannels, packed: packed)
                transformOutput(plan, scratch.right, rowCount: scratch.rowCount, first: first, count: count, bias: bias, into: output)
            }
        }
    }

    /// `gradInput = d(output)/d(input)ᵀ gradOutput` (overwritten).
    static func inputGradient(
        _ g: ConvGeometry, gradOutput: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>, tiles: RegisterTiles
    ) {
        let plan = Plan(g: g, tiles: tiles)
        let packed = transformFilter(g, filter, rows: g.outChannels, columns: g.inChannels, tiles: tiles, transposed: true)
        defer { packed.deallocate() }
        ThreadPool.shared.parallelFor(chunks: plan.workers) { worker in
            let images = plan.images(of: worker)
            let imageSize = g.height * g.width * g.inChannels
            (gradInput + images.lowerBound * imageSize).update(repeating: 0, count: images.count * imageSize)
            let scratch = Scratch(plan, leftChannels: g.outChannels, rightChannels: g.inChannels)
            defer { scratch.deallocate() }
            plan.forEachChunk(of: images) { first, count in
                transformGradient(plan, gradOutput, first: first, count: count, into: scratch.left, rowCount: scratch.rowCount)
                multiply(plan, scratch, count: count, channels: g.outChannels, width: g.inChannels, packed: packed)
                scatterInput(plan, scratch.right, rowCount: scratch.rowCount, first: first, count: count, into: gradInput)
            }
        }
    }

    /// `gradFilter = Σ_pixels patchᵀ gradOutput` and `gradBias = Σ gradOutput` (each overwritten; nil skips it).
    static func filterGradient(
        _ g: ConvGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradFilter: UnsafeMutablePointer<Float>?, gradBias: UnsafeMutablePointer<Float>?, tiles: RegisterTiles
    ) {
        let plan = Plan(g: g, tiles: tiles)
        let (c, k) = (g.inChannels, g.outChannels)
        let packedCount = 16 * ((k + tiles.columns - 1) / tiles.columns) * c * tiles.columns
        let partialSize = packedCount + k
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: plan.workers * partialSize)
        defer { partials.deallocate() }
        partials.initialize(repeating: 0, count: plan.workers * partialSize)
        ThreadPool.shared.parallelFor(chunks: plan.workers) { worker in
            let partial = partials + worker * partialSize
            let images = plan.images(of: worker)
            if gradBias != nil {
                let pixels = g.outHeight * g.outWidth
                for p in (images.lowerBound * pixels) ..< (images.upperBound * pixels) {
                    for o in 0..<k { partial[packedCount + o] += gradOutput[p * k + o] }
                }
            }
            guard gradFilter != nil else { return }
            let scratch = Scratch(plan, leftChannels: c, rightChannels: k)
            defer { scratch.deallocate() }
            plan.forEachChunk(of: images) { first, count in
                transformInput(plan, input, first: first, count: count, into: scratch.left, rowCount: scratch.rowCount)
                transformGradient(plan, gradOutput, first: first, count: count, into: scratch.right, rowCount: scratch.rowCount)
                sumProducts(plan, scratch, count: count, into: partial)
            }
        }
        let total = UnsafeMutablePointer<Float>.allocate(capacity: partialSize)
        defer { total.deallocate() }
        sumPartials(partials, parts: plan.workers, partStride: partialSize, offset: 0, count: partialSize, into: total)
        if let gradBias { gradBias.update(from: total + packedCount, count: k) }
        if let gradFilter { untransformFilterGradient(g, total, tiles: tiles, into: gradFilter) }
    }

    // MARK: Products

    /// `right[ξ][t][0..<width] = Σ_ch left[ξ][t][ch] · packed_ξ[ch][0..<width]` for the chunk's tiles,
    /// with `packed` as `transformFilter` made it (`[16][blocks][channels][columns]`).
    static func multiply(_ plan: Plan, _ s: Scratch, count: Int, channels: Int, width: Int, packed: UnsafePointer<Float>) {
        let shape = plan.tiles
        let blocks = (width + shape.columns - 1) / shape.columns
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 1) { zero in
            zero[0] = 0
            for position in 0..<16 {
                let left = s.left + position * s.rowCount * channels
                let right = s.right + position * s.rowCount * width
                for block in 0..<blocks {
                    let weights = packed + (position * blocks + block) * channels * shape.columns
                    let half = width - block * shape.columns <= shape.halfColumns
                    for first in stride(from: 0, to: count, by: shape.rows) {
                        for r in 0..<shape.rows {
                            s.rows[r] = UnsafePointer(left + (first + r) * channels)
                            s.outputs[r] = right + (first + r) * width + block * shape.columns
                        }
                        shape.multiply(rows: s.rows, taps: zero.baseAddress!, tapCount: 1, channels: channels,
                                       weights: weights, bias: nil, outputs: s.outputs, half: half)
                    }
                }
            }
        }
    }

    /// `partial[ξ][blocks][c][columns] += Σ_t left[ξ][t][c] · right[ξ][t][block columns]` for the chunk.
    static func sumProducts(_ plan: Plan, _ s: Scratch, count: Int, into partial: UnsafeMutablePointer<Float>) {
        let (shape, c, k) = (plan.tiles, plan.g.inChannels, plan.g.outChannels)
        let blocks = (k + shape.columns - 1) / shape.columns
        for position in 0..<16 {
            let left = s.left + position * s.rowCount * c
            let right = s.right + position * s.rowCount * k
            for block in 0..<blocks {
                let half = k - block * shape.columns <= shape.halfColumns
                for firstChannel in stride(from: 0, to: c, by: shape.rows) {
                    let rowCount = min(shape.rows, c - firstChannel)
                    for r in 0..<shape.rows { s.rows[r] = UnsafePointer(left + firstChannel + min(r, rowCount - 1)) }
                    let target = partial + ((position * blocks + block) * c + firstChannel) * shape.columns
                    // The last rows (fewer than a tile) go through a zeroed tile, as in `DirectConv.filterGradient`.
                    let whole = rowCount == shape.rows
                    if !whole { s.tile.update(repeating: 0, count: shape.rows * shape.columns) }
                    shape.sum(s.rows, rowStep: 0, columnStep: c, outHeight: 1, outWidth: count,
                              gradient: right + block * shape.columns, gradientStride: k,
                              result: whole ? target : s.tile, half: half)
                    if !whole { for i in 0..<(rowCount * shape.columns) { target[i] += s.tile[i] } }
                }
            }
        }
    }

    // MARK: Filter transforms

    /// `U = G g Gᵀ` per input and output channel, packed `[16][blocks][rows][columns]` in blocks of the
    /// tiles' columns for `multiply`: rows are input channels and columns output channels, or the
    /// reverse when `transposed` (the input gradient multiplies by `Uᵀ`).
    static func transformFilter(
        _ g: ConvGeometry, _ filter: UnsafePointer<Float>, rows: Int, columns: Int, tiles: RegisterTiles, transposed: Bool
    ) -> UnsafeMutablePointer<Float> {
        let width = tiles.columns
        let blocks = (columns + width - 1) / width
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: 16 * blocks * rows * width)
        packed.initialize(repeating: 0, count: 16 * blocks * rows * width)
        let (c, k) = (g.inChannels, g.outChannels)
        ThreadPool.shared.parallelFor(range: c, grain: max(1, c / (4 * ThreadPool.shared.threadCount))) { channels in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { u in
                for ci in channels {
                    for ko in 0..<k {
                        filterTile(filter + ci * k + ko, tapStride: c * k, into: u.baseAddress!)
                        let (row, column) = transposed ? (ko, ci) : (ci, ko)
                        let (block, lane) = column.quotientAndRemainder(dividingBy: width)
                        for position in 0..<16 { packed[((position * blocks + block) * rows + row) * width + lane] = u[position] }
                    }
                }
            }
        }
        return packed
    }

    /// `G x` for three values, `G = [[1, 0, 0], [½, ½, ½], [½, -½, ½], [0, 0, 1]]`.
    @inline(__always)
    static func filterMap(_ a: Float, _ b: Float, _ c: Float) -> (Float, Float, Float, Float) {
        (a, 0.5 * (a + b + c), 0.5 * (a - b + c), c)
    }

    /// `Gᵀ x` for four values.
    @inline(__always)
    static func filterGradientMap(_ a: Float, _ b: Float, _ c: Float, _ d: Float) -> (Float, Float, Float) {
        (a + 0.5 * (b + c), 0.5 * (b - c), 0.5 * (b + c) + d)
    }

    /// `u = G g Gᵀ` (4x4, row-major) for the 3x3 filter whose tap `(i, j)` is `g[(3i + j) * tapStride]`.
    @inline(__always)
    static func filterTile(_ g: UnsafePointer<Float>, tapStride: Int, into u: UnsafeMutablePointer<Float>) {
        // G g, column by column, into u's first three columns.
        for j in 0..<3 {
            let r = filterMap(g[j * tapStride], g[(3 + j) * tapStride], g[(6 + j) * tapStride])
            (u[j], u[4 + j], u[8 + j], u[12 + j]) = r
        }
        for i in 0..<4 { (u[4 * i], u[4 * i + 1], u[4 * i + 2], u[4 * i + 3]) = filterMap(u[4 * i], u[4 * i + 1], u[4 * i + 2]) }
    }

    /// `gradFilter[i][j][c][k] = (Gᵀ dU G)[i][j]` from the summed `dU` (`[16][blocks][c][columns]`).
    static func untransformFilterGradient(
        _ g: ConvGeometry, _ total: UnsafePointer<Float>, tiles: RegisterTiles, into gradFilter: UnsafeMutablePointer<Float>
    ) {
        let (c, k, width) = (g.inChannels, g.outChannels, tiles.columns)
        let blocks = (k + width - 1) / width
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { buffer in
            let du = buffer.baseAddress!
            for ci in 0..<c {
                for ko in 0..<k {
                    let (block, lane) = ko.quotientAndRemainder(dividingBy: width)
                    for position in 0..<16 { du[position] = total[((position * blocks + block) * c + ci) * width + lane] }
                    // Gᵀ dU, column by column, into du's first three rows; then each row times G.
                    for j in 0..<4 { (du[j], du[4 + j], du[8 + j]) = filterGradientMap(du[j], du[4 + j], du[8 + j], du[12 + j]) }
                    for i in 0..<3 {
                        let r = filterGradientMap(du[4 * i], du[4 * i + 1], du[4 * i + 2], du[4 * i + 3])
                        gradFilter[((3 * i) * c + ci) * k + ko] = r.0
                        gradFilter[((3 * i + 1) * c + ci) * k + ko] = r.1
                        gradFilter[((3 * i + 2) * c + ci) * k + ko] = r.2
                    }
                }
            }
        }
    }

    // MARK: Tile transforms (eight channels at a time; channel counts are multiples of 16)

    /// Calls `body(t, pointers)` for the chunk's tiles with pointers (at channel 0) to the `side x side`
    /// pixels of tile `t`'s window in `source` (images of `height x width x channels`), which starts at
    /// twice the tile's position less `padding`; pixels outside the image point at zeros.
    @inline(__always)
    static func forEachWindow(
        _ plan: Plan, _ source: UnsafePointer<Float>, first: Int, count: Int, side: Int, padding: (Int, Int),
        height: Int, width: Int, channels: Int, _ body: (Int, UnsafeMutablePointer<UnsafePointer<Float>>) -> Void
    ) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: channels) { zeroBuffer in
            zeroBuffer.initialize(repeating: 0)
            let zeros = UnsafePointer(zeroBuffer.baseAddress!)
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: side * side) { pointerBuffer in
                let pointers = pointerBuffer.baseAddress!
                for t in 0..<count {
                    let (n, ty, tx) = plan.locate(first + t)
                    let image = source + n * height * width * channels
                    let (y0, x0) = (2 * ty - padding.0, 2 * tx - padding.1)
                    for i in 0..<side {
                        for j in 0..<side {
                            let (y, x) = (y0 + i, x0 + j)
                            pointers[side * i + j] = y >= 0 && y < height && x >= 0 && x < width ? image + (y * width + x) * channels : zeros
                        }
                    }
                    body(t, pointers)
                }
            }
        }
    }

    typealias Four = (Lanes, Lanes, Lanes, Lanes)

    /// `Bᵀ x`.
    @inline(__always) static func inputMap(_ x: Four) -> Four { (x.0 - x.2, x.1 + x.2, x.2 - x.1, x.1 - x.3) }
    /// `B x`, the adjoint of `inputMap`.
    @inline(__always) static func scatterMap(_ x: Four) -> Four { (x.0, x.1 - x.2 + x.3, x.1 + x.2 - x.0, -x.3) }
    /// `A x` for two values.
    @inline(__always) static func gradientMap(_ a: Lanes, _ b: Lanes) -> Four { (a, a + b, a - b, -b) }
    /// `Aᵀ x`.
    @inline(__always) static func outputMap(_ x: Four) -> (Lanes, Lanes) { (x.0 + x.1 + x.2, x.1 - x.2 - x.3) }

    /// `f` down the columns and then along the rows of the 4x4 block whose entry `(i, j)` is `load(4i + j)`;
    /// `store(4i + j, value)` receives the result.
    @inline(__always)
    static func transform4x4(_ f: (Four) -> Four, load: (Int) -> Lanes, store: (Int, Lanes) -> Void) {
        let c0 = f((load(0), load(4), load(8), load(12)))
        let c1 = f((load(1), load(5), load(9), load(13)))
        let c2 = f((load(2), load(6), load(10), load(14)))
        let c3 = f((load(3), load(7), load(11), load(15)))
        let r0 = f((c0.0, c1.0, c2.0, c3.0))
        store(0, r0.0); store(1, r0.1); store(2, r0.2); store(3, r0.3)
        let r1 = f((c0.1, c1.1, c2.1, c3.1))
        store(4, r1.0); store(5, r1.1); store(6, r1.2); store(7, r1.3)
        let r2 = f((c0.2, c1.2, c2.2, c3.2))
        store(8, r2.0); store(9, r2.1); store(10, r2.2); store(11, r2.3)
        let r3 = f((c0.3, c1.3, c2.3, c3.3))
        store(12, r3.0); store(13, r3.1); store(14, r3.2); store(15, r3.3)
    }

    /// `V = Bᵀ d B` of every tile of the chunk into `[16][rowCount][inChannels]`,
    /// `Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]`.
    static func transformInput(
        _ plan: Plan, _ input: UnsafePointer<Float>, first: Int, count: Int, into v: UnsafeMutablePointer<Float>, rowCount: Int
    ) {
        let g = plan.g
        let channels = g.inChannels
        let positionStride = rowCount * channels
        forEachWindow(plan, input, first: first, count: count, side: 4, padding: (g.padY, g.padX),
                      height: g.height, width: g.width, channels: channels) { t, pointers in
            let target = v + t * channels
            for ch in stride(from: 0, to: channels, by: Lanes.scalarCount) {
                transform4x4(inputMap, load: { Lanes(loading: pointers[$0] + ch) },
                             store: { $1.store(to: target + $0 * positionStride + ch) })
            }
        }
    }

    /// `dM = A dY Aᵀ` of every tile of the chunk into `[16][rowCount][outChannels]` (outputs past the
    /// image's edge count as zero), `A = [[1, 0], [1, 1], [1, -1], [0, -1]]`.
    static func transformGradient(
        _ plan: Plan, _ gradOutput: UnsafePointer<Float>, first: Int, count: Int, into m: UnsafeMutablePointer<Float>, rowCount: Int
    ) {
        let g = plan.g
        let channels = g.outChannels
        let positionStride = rowCount * channels
        forEachWindow(plan, gradOutput, first: first, count: count, side: 2, padding: (0, 0),
                      height: g.outHeight, width: g.outWidth, channels: channels) { t, pointers in
            let target = m + t * channels
            for ch in stride(from: 0, to: channels, by: Lanes.scalarCount) {
                let (p0, p1, p2, p3) = (pointers[0] + ch, pointers[1] + ch, pointers[2] + ch, pointers[3] + ch)
                // dY Aᵀ (rows 0 and 1), then A on each of its four columns.
                let r0 = gradientMap(Lanes(loading: p0), Lanes(loading: p1))
                let r1 = gradientMap(Lanes(loading: p2), Lanes(loading: p3))
                @inline(__always) func store(_ j: Int, _ column: Four) {
                    column.0.store(to: target + j * positionStride + ch)
                    column.1.store(to: target + (4 + j) * positionStride + ch)
                    column.2.store(to: target + (8 + j) * positionStride + ch)
                    column.3.store(to: target + (12 + j) * positionStride + ch)
                }
                store(0, gradientMap(r0.0, r1.0)); store(1, gradientMap(r0.1, r1.1))
                store(2, gradientMap(r0.2, r1.2)); store(3, gradientMap(r0.3, r1.3))
            }
        }
    }

    /// `output = Aᵀ M A + bias` for every tile of the chunk, writing the outputs inside the image.
    static func transformOutput(
        _ plan: Plan, _ m: UnsafePointer<Float>, rowCount: Int, first: Int, count: Int,
        bias: UnsafePointer<Float>?, into output: UnsafeMutablePointer<Float>
    ) {
        let g = plan.g
        let channels = g.outChannels
        let positionStride = rowCount * channels
        for t in 0..<count {
            let (n, ty, tx) = plan.locate(first + t)
            let corner = output + ((n * g.outHeight + 2 * ty) * g.outWidth + 2 * tx) * channels
            let (rows, columns) = (min(2, g.outHeight - 2 * ty), min(2, g.outWidth - 2 * tx))
            let source = m + t * channels
            for ch in stride(from: 0, to: channels, by: Lanes.scalarCount) {
                @inline(__always) func load(_ position: Int) -> Lanes { Lanes(loading: source + position * positionStride + ch) }
                let c0 = outputMap((load(0), load(4), load(8), load(12)))
                let c1 = outputMap((load(1), load(5), load(9), load(13)))
                let c2 = outputMap((load(2), load(6), load(10), load(14)))
                let c3 = outputMap((load(3), load(7), load(11), load(15)))
                let b = bias.map { Lanes(loading: $0 + ch) } ?? .zero
                let top = outputMap((c0.0, c1.0, c2.0, c3.0))
                (b + top.0).store(to: corner + ch)
                if columns == 2 { (b + top.1).store(to: corner + channels + ch) }
                if rows == 2 {
                    let bottom = outputMap((c0.1, c1.1, c2.1, c3.1))
                    let below = corner + g.outWidth * channels
                    (b + bottom.0).store(to: below + ch)
                    if columns == 2 { (b + bottom.1).store(to: below + channels + ch) }
                }
            }
        }
    }

    /// `gradInput[window] += B dV Bᵀ` for every tile of the chunk, in tile order (pixels inside the
    /// image only: the rest is the gradient of padding, dropped).
    static func scatterInput(
        _ plan: Plan, _ dv: UnsafePointer<Float>, rowCount: Int, first: Int, count: Int, into gradInput: UnsafeMutablePointer<Float>
    ) {
        let g = plan.g
        let channels = g.inChannels
        let positionStride = rowCount * channels
        for t in 0..<count {
            let (n, ty, tx) = plan.locate(first + t)
            let (y0, x0) = (2 * ty - g.padY, 2 * tx - g.padX)
            let image = gradInput + n * g.height * g.width * channels
            var inside = 0
            for position in 0..<16 {
                let (y, x) = (y0 + position / 4, x0 + position % 4)
                if y >= 0 && y < g.height && x >= 0 && x < g.width { inside |= 1 << position }
            }
            let source = dv + t * channels
            for ch in stride(from: 0, to: channels, by: Lanes.scalarCount) {
                transform4x4(scatterMap, load: { Lanes(loading: source + $0 * positionStride + ch) }, store: { position, value in
                    guard inside & (1 << position) != 0 else { return }
                    let pointer = image + ((y0 + position / 4) * g.width + x0 + position % 4) * channels + ch
                    (Lanes(loading: pointer) + value).store(to: pointer)
                })
            }
        }
    }
}
