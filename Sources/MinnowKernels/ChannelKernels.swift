/// Per-channel kernels over a tensor viewed as `[rows, channels]` (NHWC with every axis but the
/// last folded into rows): batch-norm statistics, gradient sums and per-channel affine maps.
///
/// Reductions run over a fixed number of row blocks (independent of the thread count, so results
/// do not depend on it), accumulate in Double and combine the blocks in order.
public enum ChannelKernels {
    /// Row blocks for a reduction over `rows x channels` elements: about 64K elements each, at most 16.
    static func blockCount(rows: Int, channels: Int) -> Int {
        Swift.min(16, Swift.max(1, rows * channels / (1 << 16)), Swift.max(rows, 1))
    }

    /// Sums `first(row, k)` and `second(row, k)` over rows for every channel `k`, in Double.
    @inline(__always)
    static func sumTwo(
        rows: Int, channels c: Int, into sums: UnsafeMutablePointer<Double>,
        _ body: (_ rows: Range<Int>, _ first: UnsafeMutablePointer<Double>, _ second: UnsafeMutablePointer<Double>) -> Void
    ) {
        let blocks = blockCount(rows: rows, channels: c)
        let partials = UnsafeMutablePointer<Double>.allocate(capacity: blocks * 2 * c)
        defer { partials.deallocate() }
        partials.initialize(repeating: 0, count: blocks * 2 * c)
        ThreadPool.shared.parallelFor(chunks: blocks) { block in
            let part = partials + block * 2 * c
            body(rows * block / blocks ..< rows * (block + 1) / blocks, part, part + c)
        }
        sums.initialize(repeating: 0, count: 2 * c)
        for block in 0..<blocks {
            for k in 0..<(2 * c) { sums[k] += partials[block * 2 * c + k] }
        }
    }

    /// Mean and biased variance of each channel of `x` (`rows >= 1`).
    ///
    /// Values are shifted by the first row before summing, so a large common offset does not
    /// cancel the variance away.
    public static func meanAndVariance(
        _ x: UnsafePointer<Float>, rows: Int, channels c: Int,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    ) {
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * c)
        defer { sums.deallocate() }
        sumTwo(rows: rows, channels: c, into: sums) { range, sum, sumOfSquares in
            for r in range {
                let row = x + r * c
                for k in 0..<c {
                    let d = Double(row[k] - x[k])
                    sum[k] += d
                    sumOfSquares[k] += d * d
                }
            }
        }
        let count = Double(rows)
        for k in 0..<c {
            let shiftedMean = sums[k] / count
            mean[k] = x[k] + Float(shiftedMean)
            variance[k] = Float(Swift.max(0, sums[c + k] / count - shiftedMean * shiftedMean))
        }
    }

    /// Per channel, `sum(dy)` and `sum(dy * (x - center))`: the sums behind batch-norm gradients.
    public static func gradientSums(
        outputGradient dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, center: UnsafePointer<Float>,
        rows: Int, channels c: Int,
        sumGradient: UnsafeMutablePointer<Float>, sumGradientTimesCentered: UnsafeMutablePointer<Float>
    ) {
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * c)
        defer { sums.deallocate() }
        sumTwo(rows: rows, channels: c, into: sums) { range, sum, sumCentered in
            for r in range {
                let g = dy + r * c, row = x + r * c
                for k in 0..<c {
                    sum[k] += Double(g[k])
                    sumCentered[k] += Double(g[k] * (row[k] - center[k]))
                }
            }
        }
        for k in 0..<c {
            sumGradient[k] = Float(sums[k])
            sumGradientTimesCentered[k] = Float(sums[c + k])
        }
    }

    /// `y = a[k] * x + b[k]` for every element of channel `k`.
    public static func affine(
        _ x: UnsafePointer<Float>, rows: Int, channels c: Int,
        scale a: UnsafePointer<Float>, shift b: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>
    ) {
        ThreadPool.shared.parallelFor(range: rows, grain: Swift.max(1, (1 << 15) / Swift.max(c, 1))) { range in
            for r in range {
                let row = x + r * c, out = y + r * c
                for k in 0..<c { out[k] = a[k] * row[k] + b[k] }
            }
        }
    }

    /// `y = a[k] * p + b[k] * q + d[k]` for every pair of elements of channel `k`.
    public static func affine(
        _ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, rows: Int, channels c: Int,
        a: UnsafePointer<Float>, b: UnsafePointer<Float>, d: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>
    ) {
        ThreadPool.shared.parallelFor(range: rows, grain: Swift.max(1, (1 << 15) / Swift.max(c, 1))) { range in
            for r in range {
                let rowP = p + r * c, rowQ = q + r * c, out = y + r * c
                for k in 0..<c { out[k] = a[k] * rowP[k] + b[k] * rowQ[k] + d[k] }
            }
        }
    }
}
