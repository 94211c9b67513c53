extension DirectConv {
    /// `gradFilter = Σ_pixels patch^T gradOutput` and `gradBias = Σ gradOutput` over N, H, W (each
    /// overwritten; nil skips it), any stride, padding and dilation.
    ///
    /// A register tile of input channels x output channels of one tap (`RegisterTiles`: 8 x 32 or
    /// 6 x 16) sums over an image's output pixels: per pixel, a broadcast from the padded image per
    /// row, the output gradient's loads, a fused multiply-add per accumulator. Threads accumulate
    /// into their own packed partial filters, summed at the end.
    static func filterGradient(
        _ g: ConvGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradFilter: UnsafeMutablePointer<Float>?, gradBias: UnsafeMutablePointer<Float>?, tiles: RegisterTiles
    ) {
        let (tileRows, tileColumns, halfColumns) = (tiles.rows, tiles.columns, tiles.halfColumns)
        let (groupIn, groupOut, patchSize) = (g.groupInChannels, g.groupOutChannels, g.patchSize)
        let (pixels, taps) = (g.outHeight * g.outWidth, g.kernelHeight * g.kernelWidth)
        let blocks = (groupOut + tileColumns - 1) / tileColumns
        let packedCount = g.groups * blocks * patchSize * tileColumns
        let channelBlocks = (groupIn + tileRows - 1) / tileRows
        let units = g.groups * taps * channelBlocks
        let images = PaddedImages(input: input, of: g)
        let workers = images.schedule(units: units).workers
        let partialSize = packedCount + g.outChannels
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: workers * partialSize)
        defer { partials.deallocate() }
        partials.initialize(repeating: 0, count: workers * partialSize)
        // Output channels not a multiple of half a block: each thread copies the image's output gradient
        // into whole blocks (zeros past each group's channels), so no load reads past them.
        let copiesGradient = groupOut % halfColumns != 0
        let copyStride = g.groups * blocks * tileColumns
        let copies = UnsafeMutablePointer<Float>.allocate(capacity: copiesGradient ? workers * pixels * copyStride : 1)
        defer { copies.deallocate() }
        let copied = UnsafeMutablePointer<Int>.allocate(capacity: workers)
        defer { copied.deallocate() }
        copied.initialize(repeating: -1, count: workers)
        let offsets = tapOffsets(g, paddedWidth: images.paddedWidth)
        let (rowStep, columnStep) = (g.strideY * images.paddedWidth * g.inChannels, g.strideX * g.inChannels)

        images.forEachPart(units: units) { n, range, image, worker in
            let partial = partials + worker * partialSize
            let imageGradient = gradOutput + n * pixels * g.outChannels
            if gradBias != nil && range.lowerBound == 0 {
                let sums = partial + packedCount
                for p in 0..<pixels {
                    for o in 0..<g.outChannels { sums[o] += imageGradient[p * g.outChannels + o] }
                }
            }
            guard gradFilter != nil else { return }
            var gradient = UnsafePointer(imageGradient)
            var (pixelStride, groupStride) = (g.outChannels, groupOut)
            if copiesGradient {
                let copy = copies + worker * pixels * copyStride
                if copied[worker] != n {
                    copyInBlocks(g, imageGradient, into: copy, blocks: blocks, columns: tileColumns)
                    copied[worker] = n
                }
                gradient = UnsafePointer(copy)
                (pixelStride, groupStride) = (copyStride, blocks * tileColumns)
            }
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: tileRows) { rowBuffer in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: tileRows * tileColumns) { tileBuffer in
                    let (rows, tile) = (rowBuffer.baseAddress!, tileBuffer.baseAddress!)
                    // Blocks of output channels outermost: one block's output gradient stays in L1 while
                    // every tap and channel block reads it (each sum's order is the same either way).
                    for block in 0..<blocks {
                        for unit in range {
                            let (group, rest) = unit.quotientAndRemainder(dividingBy: taps * channelBlocks)
                            let (tap, channelBlock) = rest.quotientAndRemainder(dividingBy: channelBlocks)
                            let firstChannel = channelBlock * tileRows
                            let count = min(tileRows, groupIn - firstChannel)
                            for r in 0..<tileRows {
                                rows[r] = image.base + offsets[tap] + group * groupIn + firstChannel + min(r, count - 1)
                            }
                            let half = groupOut - block * tileColumns <= halfColumns
                            let blockGradient = gradient + group * groupStride + block * tileColumns
                            let target = partial + ((group * blocks + block) * patchSize + tap * groupIn + firstChannel) * tileColumns
                            // A whole tile adds its sums to the partial filter in place; the group's last
                            // rows (fewer than a tile) go through a zeroed tile, whose rows past them repeat.
                            let whole = count == tileRows
                            if !whole { tile.update(repeating: 0, count: tileRows * tileColumns) }
                            tiles.sum(rows, rowStep: rowStep, columnStep: columnStep, outHeight: g.outHeight, outWidth: g.outWidth,
                                      gradient: blockGradient, gradientStride: pixelStride, result: whole ? target : tile, half: half)
                            if !whole {
                                for k in 0..<(count * tileColumns) { target[k] += tile[k] }
                            }
                        }
                    }
                }
            }
        }

        let total = UnsafeMutablePointer<Float>.allocate(capacity: partialSize)
        defer { total.deallocate() }
        sumPartials(partials, parts: workers, partStride: partialSize, offset: 0, count: partialSize, into: total)
        if let gradBias { gradBias.update(from: total + packedCount, count: g.outChannels) }
        guard let gradFilter else { return }
        for group in 0..<g.groups {
            for k in 0..<patchSize {
                for o in 0..<groupOut {
                    let (block, column) = o.quotientAndRemainder(dividingBy: tileColumns)
                    gradFilter[k * g.outChannels + group * groupOut + o] =
                        total[((group * blocks + block) * patchSize + k) * tileColumns + column]
                }
            }
        }
    }

    /// Copies one image's output gradient `[pixels, outChannels]` into `[pixels, groups, blocks * columns]`,
    /// zero past each group's channels.
    static func copyInBlocks(
        _ g: ConvGeometry, _ gradient: UnsafePointer<Float>, into copy: UnsafeMutablePointer<Float>, blocks: Int, columns: Int
    ) {
        let (groupOut, groupStride) = (g.groupOutChannels, blocks * columns)
        for p in 0 ..< g.outHeight * g.outWidth {
            for group in 0..<g.groups {
                let target = copy + (p * g.groups + group) * groupStride
                let source = gradient + p * g.outChannels + group * groupOut
                for o in 0..<groupStride { target[o] = o < groupOut ? source[o] : 0 }
            }
        }
    }
}
