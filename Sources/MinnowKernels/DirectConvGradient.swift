extension DirectConv {
    /// `gradInput = d(output)/d(input)^T gradOutput` (overwritten), any stride, padding and dilation.
    ///
    /// Input pixels are split by their position modulo the stride. Within one such class, every
    /// pixel `(ry + sy * ty, rx + sx * tx)` receives from the same taps, each reading the output
    /// gradient at `(ty, tx)` plus a fixed offset; so a class is a stride-1 sweep of the forward
    /// tile kernel over the (zero-margined) output gradient, with the filter's channel axes swapped.
    static func inputGradient(
        _ g: ConvGeometry, gradOutput: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>, tiles: RegisterTiles
    ) {
        let classes = residueClasses(g)
        let (top, bottom) = margins(classes.map { ($0.rows, $0.gridHeight) }, extent: g.outHeight)
        let (left, right) = margins(classes.map { ($0.columns, $0.gridWidth) }, extent: g.outWidth)
        let source = PaddedImages(source: gradOutput, batch: g.batch, height: g.outHeight, width: g.outWidth,
                                  channels: g.outChannels, top: top, left: left, bottom: bottom, right: right)
        let target = Target(pointer: gradInput, height: g.height, width: g.width, groups: g.groups,
                            groupChannels: g.groupInChannels, tiles: tiles)
        let (groupIn, groupOut) = (g.groupInChannels, g.groupOutChannels)
        var sweeps: [Sweep] = []
        var filters: [UnsafeMutablePointer<Float>] = []
        defer { filters.forEach { $0.deallocate() } }
        for c in classes {
            var taps: [Int] = []
            for (_, a) in c.rows {
                for (_, b) in c.columns { taps.append(((a + top) * source.paddedWidth + b + left) * g.outChannels) }
            }
            sweeps.append(Sweep(gridHeight: c.gridHeight, gridWidth: c.gridWidth, sourceStep: (1, 1),
                                outputOrigin: c.origin, outputStep: (g.strideY, g.strideX), taps: taps))
            filters.append(packFilter(target, rows: taps.count * groupOut) { group, k, inChannel in
                let (tap, o) = k.quotientAndRemainder(dividingBy: groupOut)
                let (ti, tj) = tap.quotientAndRemainder(dividingBy: c.columns.count)
                let (i, j) = (c.rows[ti].kernel, c.columns[tj].kernel)
                return filter[((i * g.kernelWidth + j) * groupIn + inChannel) * g.outChannels + group * groupOut + o]
            })
        }
        run(sweeps, source: source, groupSourceChannels: groupOut, filters: filters, bias: nil, target: target)
    }

    /// Input pixels `origin + (ty, tx) * stride` for `ty < gridHeight`, `tx < gridWidth`, and the
    /// kernel rows and columns that reach them, each with the output offset it reads (`ty + offset`).
    struct ResidueClass {
        let origin: (y: Int, x: Int)
        let gridHeight: Int
        let gridWidth: Int
        let rows: [(kernel: Int, offset: Int)]
        let columns: [(kernel: Int, offset: Int)]
    }

    static func residueClasses(_ g: ConvGeometry) -> [ResidueClass] {
        /// Kernel positions whose reads for this residue land on output positions, skipping those
        /// that would only read past the output.
        func axisTaps(_ residue: Int, stride: Int, padding: Int, dilation: Int, kernel: Int,
                      grid: Int, extent: Int) -> [(kernel: Int, offset: Int)] {
            (0..<kernel).compactMap { i in
                let shift = residue + padding - i * dilation
                guard shift % stride == 0 else { return nil }
                let offset = shift / stride
                return offset + grid - 1 < 0 || offset >= extent ? nil : (i, offset)
            }
        }
        var classes: [ResidueClass] = []
        for ry in 0..<min(g.strideY, g.height) {
            for rx in 0..<min(g.strideX, g.width) {
                let gridHeight = (g.height - ry + g.strideY - 1) / g.strideY
                let gridWidth = (g.width - rx + g.strideX - 1) / g.strideX
                classes.append(ResidueClass(
                    origin: (ry, rx), gridHeight: gridHeight, gridWidth: gridWidth,
                    rows: axisTaps(ry, stride: g.strideY, padding: g.padY, dilation: g.dilationY,
                                   kernel: g.kernelHeight, grid: gridHeight, extent: g.outHeight),
                    columns: axisTaps(rx, stride: g.strideX, padding: g.padX, dilation: g.dilationX,
                                      kernel: g.kernelWidth, grid: gridWidth, extent: g.outWidth)))
            }
        }
        return classes
    }

    /// Zero margins before and after an axis of `extent` so that every read `t + offset`,
    /// `t < grid`, of every class lands inside the margined axis.
    static func margins(_ classes: [([(kernel: Int, offset: Int)], Int)], extent: Int) -> (Int, Int) {
        var (before, after) = (0, 0)
        for (taps, grid) in classes {
            for tap in taps {
                before = max(before, -tap.offset)
                after = max(after, tap.offset + grid - extent)
            }
        }
        return (before, after)
    }
}
