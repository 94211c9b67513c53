/// Elementwise kernels of fake quantization and range observation, in float arithmetic only (so
/// they vectorize) and split over `ThreadPool.shared`. A run quantizes with one scale: codes
/// relative to the zero point are clamped to `[low, high]`.
public enum FakeQuantKernels {
    /// Elements per parallel chunk.
    static let grain = 1 << 15

    /// `y = (clamp(round(x · (1/scale)), low, high) + 0) · scale`, rounding half to even; NaN gives 0.
    /// (`+ 0` turns a rounded -0 into +0, as the integer code 0 dequantizes.)
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, scale: Float, low: Float, high: Float) {
        let inverse = 1 / scale
        ThreadPool.shared.parallelFor(range: count, grain: grain) { range in
            for i in range {
                let scaled = (x[i] * inverse).rounded(.toNearestOrEven)
                let code = Swift.min(Swift.max(scaled, low), high)
                y[i] = scaled == scaled ? (code + 0) * scale : 0
            }
        }
    }

    /// The straight-through gradient: `dx = dy · 1` where `round(x · (1/scale))` lies in `[low, high]`, `dy · 0` elsewhere.
    public static func straightThrough(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, count: Int,
                                       scale: Float, low: Float, high: Float) {
        let inverse = 1 / scale
        ThreadPool.shared.parallelFor(range: count, grain: grain) { range in
            for i in range {
                let scaled = (x[i] * inverse).rounded(.toNearestOrEven)
                dx[i] = dy[i] * (scaled >= low && scaled <= high ? 1 : 0)
            }
        }
    }

    /// The smallest and largest of `count` values, NaN ignored; `(+inf, -inf)` when there are none.
    public static func range(_ x: UnsafePointer<Float>, count: Int) -> (minimum: Float, maximum: Float) {
        let chunks = max(1, min(ThreadPool.shared.threadCount * 4, count / grain))
        var lows = [Float](repeating: .infinity, count: chunks), highs = [Float](repeating: -.infinity, count: chunks)
        lows.withUnsafeMutableBufferPointer { lows in
            highs.withUnsafeMutableBufferPointer { highs in
                ThreadPool.shared.parallelFor(chunks: chunks) { chunk in
                    let start = count * chunk / chunks, end = count * (chunk + 1) / chunks
                    // Eight lanes at a time (a float min/max reduction does not vectorize by
                    // itself); a comparison with NaN is false, so NaN never replaces a bound.
                    var lanesLow = SIMD8<Float>(repeating: .infinity), lanesHigh = SIMD8<Float>(repeating: -.infinity)
                    var i = start
                    while i + 8 <= end {
                        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                        lanesLow.replace(with: v, where: v .< lanesLow)
                        lanesHigh.replace(with: v, where: v .> lanesHigh)
                        i += 8
                    }
                    var (low, high) = (lanesLow.min(), lanesHigh.max())
                    while i < end {
                        low = x[i] < low ? x[i] : low
                        high = x[i] > high ? x[i] : high
                        i += 1
                    }
                    (lows[chunk], highs[chunk]) = (low, high)
                }
            }
        }
        return (lows.min() ?? .infinity, highs.max() ?? -.infinity)
    }
}
