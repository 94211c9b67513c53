/// The geometry of a 2-D pooling window over an NHWC tensor (no `ceil_mode`, no dilation).
///
/// Output extents follow PyTorch: `(H + 2 * padTop - kernelHeight) / strideHeight + 1`.
/// Callers check that padding is at most half the kernel, so every window holds at least one
/// input element.
public struct PoolGeometry: Sendable, Equatable {
    /// The input extents `[N, H, W, C]`.
    public let batch, height, width, channels: Int
    /// The window extents.
    public let kernelHeight, kernelWidth: Int
    /// The window steps.
    public let strideHeight, strideWidth: Int
    /// Implicit padding on each side (top and bottom alike, left and right alike).
    public let padTop, padLeft: Int
    /// The output extents `Ho`, `Wo`.
    public let outputHeight, outputWidth: Int

    /// The geometry of a `kernel` window moving by `stride` over an input padded by `padding`.
    public init(batch: Int, height: Int, width: Int, channels: Int,
                kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)) {
        self.batch = batch
        self.height = height
        self.width = width
        self.channels = channels
        (kernelHeight, kernelWidth) = kernel
        (strideHeight, strideWidth) = stride
        (padTop, padLeft) = padding
        outputHeight = (height + 2 * padding.0 - kernel.0) / stride.0 + 1
        outputWidth = (width + 2 * padding.1 - kernel.1) / stride.1 + 1
    }

    /// Elements of the output.
    public var outputCount: Int { batch * outputHeight * outputWidth * channels }

    /// Input rows `start..<end` covered by output row `y` (padding clipped away).
    @inline(__always)
    func rows(_ y: Int) -> Range<Int> {
        let start = y * strideHeight - padTop
        return Swift.max(start, 0) ..< Swift.min(start + kernelHeight, height)
    }

    /// Input columns covered by output column `x` (padding clipped away).
    @inline(__always)
    func columns(_ x: Int) -> Range<Int> {
        let start = x * strideWidth - padLeft
        return Swift.max(start, 0) ..< Swift.min(start + kernelWidth, width)
    }

    /// Output rows per parallel chunk: about 32K multiply-adds of window work each.
    var outputRowGrain: Int {
        Swift.max(1, (1 << 15) / Swift.max(1, outputWidth * kernelHeight * kernelWidth * channels))
    }

    /// Images per parallel chunk for the backward scatters (each image's gradient is independent).
    var imageGrain: Int {
        Swift.max(1, (1 << 15) / Swift.max(1, outputHeight * outputWidth * kernelHeight * kernelWidth * channels))
    }
}

/// NHWC pooling kernels, vectorized over channels and split over `ThreadPool.shared`.
public enum Pooling {
    /// Max pooling. Writes the maxima to `output` and, per output element, the flat spatial index
    /// `h * width + w` of the winning input to `argmax`. Padded positions never take part; the
    /// window is scanned row by row and a later element wins only when strictly greater (or NaN),
    /// so ties go to the first, as in PyTorch.
    public static func maxForward(
        _ g: PoolGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        argmax: UnsafeMutablePointer<Int32>
    ) {
        let c = g.channels
        ThreadPool.shared.parallelFor(range: g.batch * g.outputHeight, grain: g.outputRowGrain) { outputRows in
            for row in outputRows {
                let n = row / g.outputHeight, rows = g.rows(row % g.outputHeight)
                let image = input + n * g.height * g.width * c
                for x in 0..<g.outputWidth {
                    let columns = g.columns(x)
                    let offset = (row * g.outputWidth + x) * c
                    let best = output + offset, index = argmax + offset
                    let first = Int32(rows.lowerBound * g.width + columns.lowerBound)
                    for k in 0..<c {
                        best[k] = -.infinity
                        index[k] = first
                    }
                    for h in rows {
                        for w in columns {
                            let pixel = image + (h * g.width + w) * c
                            let position = Int32(h * g.width + w)
                            for k in 0..<c {
                                let v = pixel[k]
                                let take = v > best[k] || v.isNaN
                                best[k] = take ? v : best[k]
                                index[k] = take ? position : index[k]
                            }
                        }
                    }
                }
            }
        }
    }

    /// Gradient of max pooling: each output gradient goes to its argmax (accumulated when
    /// windows overlap). Overwrites `inputGradient`.
    public static func maxBackward(
        _ g: PoolGeometry, outputGradient: UnsafePointer<Float>, argmax: UnsafePointer<Int32>,
        inputGradient: UnsafeMutablePointer<Float>
    ) {
        let c = g.channels, imageIn = g.height * g.width * c, imageOut = g.outputHeight * g.outputWidth
        ThreadPool.shared.parallelFor(range: g.batch, grain: g.imageGrain) { images in
            for n in images {
                let dx = inputGradient + n * imageIn
                dx.initialize(repeating: 0, count: imageIn)
                for p in (n * imageOut) ..< ((n + 1) * imageOut) {
                    let dy = outputGradient + p * c, index = argmax + p * c
                    for k in 0..<c { dx[Int(index[k]) * c + k] += dy[k] }
                }
            }
        }
    }

    /// Average pooling with `count_include_pad = true`: every window sum is divided by the full
    /// kernel area, padded zeros included.
    public static func averageForward(_ g: PoolGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let c = g.channels
        let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
        ThreadPool.shared.parallelFor(range: g.batch * g.outputHeight, grain: g.outputRowGrain) { outputRows in
            for row in outputRows {
                let n = row / g.outputHeight, rows = g.rows(row % g.outputHeight)
                let image = input + n * g.height * g.width * c
                for x in 0..<g.outputWidth {
                    let columns = g.columns(x)
                    let out = output + (row * g.outputWidth + x) * c
                    out.initialize(repeating: 0, count: c)
                    for h in rows {
                        for w in columns {
                            let pixel = image + (h * g.width + w) * c
                            for k in 0..<c { out[k] += pixel[k] }
                        }
                    }
                    for k in 0..<c { out[k] *= scale }
                }
            }
        }
    }

    /// Gradient of average pooling: each output gradient, divided by the kernel area, goes to
    /// every unpadded input of its window. Overwrites `inputGradient`.
    public static func averageBackward(
        _ g: PoolGeometry, outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>
    ) {
        let c = g.channels, imageIn = g.height * g.width * c
        let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
        ThreadPool.shared.parallelFor(range: g.batch, grain: g.imageGrain) { images in
            for n in images {
                let dx = inputGradient + n * imageIn
                dx.initialize(repeating: 0, count: imageIn)
                for y in 0..<g.outputHeight {
                    let rows = g.rows(y)
                    for x in 0..<g.outputWidth {
                        let columns = g.columns(x)
                        let dy = outputGradient + ((n * g.outputHeight + y) * g.outputWidth + x) * c
                        for h in rows {
                            for w in columns {
                                let target = dx + (h * g.width + w) * c
                                for k in 0..<c { target[k] += dy[k] * scale }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Global average pooling, `[N, pixels, C]` to `[N, C]`.
    public static func globalAverageForward(
        batch: Int, pixels: Int, channels c: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        let scale = 1 / Float(Swift.max(pixels, 1))
        ThreadPool.shared.parallelFor(range: batch, grain: Swift.max(1, (1 << 15) / Swift.max(1, pixels * c))) { images in
            for n in images {
                let out = output + n * c, image = input + n * pixels * c
                out.initialize(repeating: 0, count: c)
                for p in 0..<pixels {
                    let pixel = image + p * c
                    for k in 0..<c { out[k] += pixel[k] }
                }
                for k in 0..<c { out[k] *= scale }
            }
        }
    }

    /// Gradient of global average pooling: `[N, C]` spread evenly over `[N, pixels, C]`.
    public static func globalAverageBackward(
        batch: Int, pixels: Int, channels c: Int, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>
    ) {
        let scale = 1 / Float(Swift.max(pixels, 1))
        ThreadPool.shared.parallelFor(range: batch, grain: Swift.max(1, (1 << 15) / Swift.max(1, pixels * c))) { images in
            for n in images {
                let dy = outputGradient + n * c, dx = inputGradient + n * pixels * c
                for p in 0..<pixels {
                    let pixel = dx + p * c
                    for k in 0..<c { pixel[k] = dy[k] * scale }
                }
            }
        }
    }
}
