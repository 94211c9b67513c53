import MinnowKernels
import RealModule

extension Tensor {
    /// Runs `body(block, first, second)` for every `[extent, inner]` block of `outer` blocks in
    /// parallel; `first` and `second` are scratch rows of `inner` floats.
    static func forEachBlock(
        outer: Int, extent: Int, inner: Int,
        _ body: (Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    ) {
        let grain = Swift.max(1, elementwiseGrain / Swift.max(1, extent * inner))
        ThreadPool.shared.parallelFor(range: outer, grain: grain) { blocks in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * inner)
            defer { scratch.deallocate() }
            for block in blocks { body(block, scratch, scratch + inner) }
        }
    }

    /// `softmax(scale * x)` (or its logarithm) along `axis`, without autodiff. Each lane is shifted
    /// by its maximum before `exp`, so large logits neither overflow nor lose precision.
    func softmaxValues(axis: Int, log: Bool, scale: Float = 1) -> Tensor {
        let (outer, extent, inner) = splitAround(axis: axis)
        return withUnsafePointer { x in
            Tensor(shape: shape) { y in
                Tensor.forEachBlock(outer: outer, extent: extent, inner: inner) { block, maxima, sums in
                    let xb = x + block * extent * inner, yb = y + block * extent * inner
                    maxima.initialize(repeating: -.infinity, count: inner)
                    sums.initialize(repeating: 0, count: inner)
                    for e in 0..<extent {
                        for i in 0..<inner { maxima[i] = Swift.max(maxima[i], scale * xb[e * inner + i]) }
                    }
                    for e in 0..<extent {
                        for i in 0..<inner {
                            let shifted = scale * xb[e * inner + i] - maxima[i]
                            let exponential = Float.exp(shifted)
                            sums[i] += exponential
                            yb[e * inner + i] = log ? shifted : exponential
                        }
                    }
                    for i in 0..<inner { sums[i] = log ? Float.log(sums[i]) : 1 / sums[i] }
                    for e in 0..<extent {
                        for i in 0..<inner {
                            yb[e * inner + i] = log ? yb[e * inner + i] - sums[i] : yb[e * inner + i] * sums[i]
                        }
                    }
                }
            }
        }
    }

    /// The input gradient of `softmaxValues(axis:log:)` from its output `y` and output gradient `g`:
    /// `y * (g - sum(g * y))` for softmax, `g - exp(y) * sum(g)` for log-softmax (sums along `axis`).
    static func softmaxGradient(output: Tensor, gradient: Tensor, axis: Int, log: Bool) -> Tensor {
        let (outer, extent, inner) = output.splitAround(axis: axis)
        return output.withUnsafePointer { y in
            gradient.withUnsafePointer { g in
                Tensor(shape: output.shape) { dx in
                    forEachBlock(outer: outer, extent: extent, inner: inner) { block, sums, _ in
                        let offset = block * extent * inner
                        let yb = y + offset, gb = g + offset, db = dx + offset
                        sums.initialize(repeating: 0, count: inner)
                        for e in 0..<extent {
                            for i in 0..<inner { sums[i] += log ? gb[e * inner + i] : gb[e * inner + i] * yb[e * inner + i] }
                        }
                        for e in 0..<extent {
                            for i in 0..<inner {
                                let j = e * inner + i
                                db[j] = log ? gb[j] - Float.exp(yb[j]) * sums[i] : yb[j] * (gb[j] - sums[i])
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `exp(x) / sum(exp(x))` along `axis` (the last by default), computed stably.
public func softmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    OpTracer.trace(.softmax, attributes: ["axis": .int(axis)], operands: [("input", x)],
                   shapes: { () throws(ShapeError) in _ = try Shapes.axis(axis, rank: x.rank, op: "softmax", shape: x.shape) }) {
        softmaxOp(x, axis: axis, log: false)
    }
}

/// `x - log(sum(exp(x)))` along `axis` (the last by default), computed stably (log-sum-exp
/// shifted by the maximum), never as the logarithm of a softmax.
public func logSoftmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    softmaxOp(x, axis: axis, log: true)
}

private func softmaxOp(_ x: Tensor, axis: Int, log: Bool) -> Tensor {
    let op = log ? "logSoftmax" : "softmax"
    let axis = checked { () throws(ShapeError) in try Shapes.axis(axis, rank: x.rank, op: op, shape: x.shape) }
    let value = x.softmaxValues(axis: axis, log: log)
    return Tensor.record(op, value, inputs: [x]) { g in
        [Tensor.softmaxGradient(output: value, gradient: g, axis: axis, log: log)]
    }
}
