extension DirectConv {
    /// `gradFilter = Σ_pixels patch^T gradOutput` and `gradBias = Σ gradOutput` over N, H, W (each
    /// overwritten; nil skips it), any stride, padding and dilation.
    ///
    /// A register tile of 8 input channels x 32 output channels of one tap sums over an image's
    /// output pixels: per pixel, 8 broadcasts from the padded image, 2 loads of the output gradient,
    /// 16 FMAs. Threads accumulate into their own packed partial filters, summed at the end.
    static func filterGradient(
        _ g: ConvGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradFilter: UnsafeMutablePointer<Float>?, gradBias: UnsafeMutablePointer<Float>?
    ) {
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
        // Output channels not a multiple of 16: each thread copies the image's output gradient into
        // whole blocks of 32 (zeros past each group's channels), so no load reads past them.
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
                    copyInBlocks(g, imageGradient, into: copy, blocks: blocks)
                    copied[worker] = n
                }
                gradient = UnsafePointer(copy)
                (pixelStride, groupStride) = (copyStride, blocks * tileColumns)
            }
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: tileRows) { rowBuffer in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: tileRows * tileColumns) { tileBuffer in
                    let (rows, tile) = (rowBuffer.baseAddress!, tileBuffer.baseAddress!)
                    for unit in range {
                        let (group, rest) = unit.quotientAndRemainder(dividingBy: taps * channelBlocks)
                        let (tap, channelBlock) = rest.quotientAndRemainder(dividingBy: channelBlocks)
                        let firstChannel = channelBlock * tileRows
                        let count = min(tileRows, groupIn - firstChannel)
                        for r in 0..<tileRows {
                            rows[r] = image.base + offsets[tap] + group * groupIn + firstChannel + min(r, count - 1)
                        }
                        for block in 0..<blocks {
                            let half = groupOut - block * tileColumns <= halfColumns
                            if half { tile.update(repeating: 0, count: tileRows * tileColumns) }
                            let blockGradient = gradient + group * groupStride + block * tileColumns
                            if half {
                                sumHalfTile(rows, rowStep: rowStep, columnStep: columnStep, outHeight: g.outHeight,
                                            outWidth: g.outWidth, gradient: blockGradient, gradientStride: pixelStride, result: tile)
                            } else {
                                sumTile(rows, rowStep: rowStep, columnStep: columnStep, outHeight: g.outHeight,
                                        outWidth: g.outWidth, gradient: blockGradient, gradientStride: pixelStride, result: tile)
                            }
                            let target = partial + ((group * blocks + block) * patchSize + tap * groupIn + firstChannel) * tileColumns
                            for k in 0..<(count * tileColumns) { target[k] += tile[k] }
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

    /// Copies one image's output gradient `[pixels, outChannels]` into `[pixels, groups, blocks * 32]`,
    /// zero past each group's channels.
    static func copyInBlocks(
        _ g: ConvGeometry, _ gradient: UnsafePointer<Float>, into copy: UnsafeMutablePointer<Float>, blocks: Int
    ) {
        let (groupOut, groupStride) = (g.groupOutChannels, blocks * tileColumns)
        for p in 0 ..< g.outHeight * g.outWidth {
            for group in 0..<g.groups {
                let target = copy + (p * g.groups + group) * groupStride
                let source = gradient + p * g.outChannels + group * groupOut
                for o in 0..<groupStride { target[o] = o < groupOut ? source[o] : 0 }
            }
        }
    }

    /// `result[r][0..<32] = Σ_{oh, ow} rows[r][oh * rowStep + ow * columnStep] * gradient[(oh * outWidth + ow) * gradientStride][0..<32]`
    /// for 8 rows (input channels).
    @inline(never)
    static func sumTile(
        _ rows: UnsafePointer<UnsafePointer<Float>>, rowStep: Int, columnStep: Int, outHeight: Int, outWidth: Int,
        gradient: UnsafePointer<Float>, gradientStride: Int, result: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD16<Float>
        var a00 = V.zero, a01 = V.zero, a10 = V.zero, a11 = V.zero, a20 = V.zero, a21 = V.zero
        var a30 = V.zero, a31 = V.zero, a40 = V.zero, a41 = V.zero, a50 = V.zero, a51 = V.zero
        var a60 = V.zero, a61 = V.zero, a70 = V.zero, a71 = V.zero
        let (p0, p1, p2, p3) = (rows[0], rows[1], rows[2], rows[3])
        let (p4, p5, p6, p7) = (rows[4], rows[5], rows[6], rows[7])
        var dy = gradient
        for oh in 0..<outHeight {
            var x = oh * rowStep
            for _ in 0..<outWidth {
                let g0 = V(loading: dy), g1 = V(loading: dy + 16)
                var v = V(repeating: p0[x])
                a00 = a00.addingProduct(v, g0); a01 = a01.addingProduct(v, g1)
                v = V(repeating: p1[x])
                a10 = a10.addingProduct(v, g0); a11 = a11.addingProduct(v, g1)
                v = V(repeating: p2[x])
                a20 = a20.addingProduct(v, g0); a21 = a21.addingProduct(v, g1)
                v = V(repeating: p3[x])
                a30 = a30.addingProduct(v, g0); a31 = a31.addingProduct(v, g1)
                v = V(repeating: p4[x])
                a40 = a40.addingProduct(v, g0); a41 = a41.addingProduct(v, g1)
                v = V(repeating: p5[x])
                a50 = a50.addingProduct(v, g0); a51 = a51.addingProduct(v, g1)
                v = V(repeating: p6[x])
                a60 = a60.addingProduct(v, g0); a61 = a61.addingProduct(v, g1)
                v = V(repeating: p7[x])
                a70 = a70.addingProduct(v, g0); a71 = a71.addingProduct(v, g1)
                x += columnStep
                dy += gradientStride
            }
        }
        a00.store(to: result); a01.store(to: result + 16); a10.store(to: result + 32); a11.store(to: result + 48)
        a20.store(to: result + 64); a21.store(to: result + 80); a30.store(to: result + 96); a31.store(to: result + 112)
        a40.store(to: result + 128); a41.store(to: result + 144); a50.store(to: result + 160); a51.store(to: result + 176)
        a60.store(to: result + 192); a61.store(to: result + 208); a70.store(to: result + 224); a71.store(to: result + 240)
    }

    /// `sumTile` for 16 columns: `result[r][0..<16]`.
    @inline(never)
    static func sumHalfTile(
        _ rows: UnsafePointer<UnsafePointer<Float>>, rowStep: Int, columnStep: Int, outHeight: Int, outWidth: Int,
        gradient: UnsafePointer<Float>, gradientStride: Int, result: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD16<Float>
        var a0 = V.zero, a1 = V.zero, a2 = V.zero, a3 = V.zero, a4 = V.zero, a5 = V.zero, a6 = V.zero, a7 = V.zero
        let (p0, p1, p2, p3) = (rows[0], rows[1], rows[2], rows[3])
        let (p4, p5, p6, p7) = (rows[4], rows[5], rows[6], rows[7])
        var dy = gradient
        for oh in 0..<outHeight {
            var x = oh * rowStep
            for _ in 0..<outWidth {
                let g = V(loading: dy)
                a0 = a0.addingProduct(V(repeating: p0[x]), g)
                a1 = a1.addingProduct(V(repeating: p1[x]), g)
                a2 = a2.addingProduct(V(repeating: p2[x]), g)
                a3 = a3.addingProduct(V(repeating: p3[x]), g)
                a4 = a4.addingProduct(V(repeating: p4[x]), g)
                a5 = a5.addingProduct(V(repeating: p5[x]), g)
                a6 = a6.addingProduct(V(repeating: p6[x]), g)
                a7 = a7.addingProduct(V(repeating: p7[x]), g)
                x += columnStep
                dy += gradientStride
            }
        }
        a0.store(to: result); a1.store(to: result + 32); a2.store(to: result + 64); a3.store(to: result + 96)
        a4.store(to: result + 128); a5.store(to: result + 160); a6.store(to: result + 192); a7.store(to: result + 224)
    }
}
