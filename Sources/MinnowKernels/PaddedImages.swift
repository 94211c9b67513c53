
/// The images of an NHWC tensor with zero margins, one image at a time per pool thread, and the
/// schedule that hands images (or parts of images) to the threads.
///
/// The direct convolution kernels read every tap without a bounds check; the margins make those
/// reads land on zeros. A thread copies an image into its own buffer when it first needs it and
/// keeps it for the next part of the same image. Without margins the tensor is read in place.
struct PaddedImages {
    let batch: Int
    let height: Int
    let width: Int
    let channels: Int
    let top: Int
    let left: Int
    let bottom: Int
    let right: Int
    let source: UnsafePointer<Float>

    var paddedHeight: Int { height + top + bottom }
    var paddedWidth: Int { width + left + right }

    /// The input of `g`, with its padding as margins.
    init(input: UnsafePointer<Float>, of g: ConvGeometry) {
        self.init(source: input, batch: g.batch, height: g.height, width: g.width, channels: g.inChannels,
                  top: g.padY, left: g.padX, bottom: g.padY, right: g.padX)
    }

    init(source: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels: Int,
         top: Int, left: Int, bottom: Int, right: Int) {
        (self.source, self.batch, self.height, self.width, self.channels) = (source, batch, height, width, channels)
        (self.top, self.left, self.bottom, self.right) = (top, left, bottom, right)
    }

    /// A thread's copy of one image.
    struct Image {
        let base: UnsafePointer<Float>
        let paddedWidth: Int
        let channels: Int
        /// Channel 0 of padded pixel `(y, x)` (the image's own pixel `(y - top, x - left)`).
        @inline(__always) func pixel(_ y: Int, _ x: Int) -> UnsafePointer<Float> {
            base + (y * paddedWidth + x) * channels
        }
    }

    /// Parts per image and threads for `forEachPart`: enough parts to give every thread two.
    func schedule(units: Int) -> (parts: Int, workers: Int) {
        let threads = ThreadPool.shared.threadCount
        let parts = max(1, min(units, (2 * threads + batch - 1) / max(1, batch)))
        return (parts, max(1, min(threads, batch * parts)))
    }

    /// Calls `body(n, units, image, worker)` for every image `n` and every part of `0..<units` (the
    /// whole range, or a share of it when the batch is smaller than twice the thread count), on the
    /// pool; `worker` (below `schedule(units:).workers`) identifies the calling thread.
    func forEachPart(units: Int, _ body: (Int, Range<Int>, Image, Int) -> Void) {
        let (parts, workers) = schedule(units: units)
        let items = batch * parts
        let imageFloats = paddedHeight * paddedWidth * channels
        let inPlace = top == 0 && left == 0 && bottom == 0 && right == 0
        let buffers = UnsafeMutablePointer<Float>.allocate(capacity: inPlace ? 1 : workers * imageFloats)
        defer { buffers.deallocate() }
        if !inPlace { buffers.initialize(repeating: 0, count: workers * imageFloats) }
        // Each worker takes a fixed, contiguous share of the items, so per-worker partial sums (the
        // filter gradient) always add up in the same order: training is bit-reproducible.
        ThreadPool.shared.parallelFor(chunks: workers) { worker in
            let buffer = buffers + worker * imageFloats
            var loaded = -1
            for item in (items * worker / workers) ..< (items * (worker + 1) / workers) {
                let (n, part) = item.quotientAndRemainder(dividingBy: parts)
                let image = source + n * height * width * channels
                if !inPlace && loaded != n {
                    // Only the interior is written: the margins stay zero.
                    for y in 0..<height {
                        (buffer + ((y + top) * paddedWidth + left) * channels)
                            .update(from: image + y * width * channels, count: width * channels)
                    }
                    loaded = n
                }
                body(n, (units * part / parts) ..< (units * (part + 1) / parts),
                     Image(base: inPlace ? image : UnsafePointer(buffer), paddedWidth: paddedWidth, channels: channels),
                     worker)
            }
        }
    }
}
