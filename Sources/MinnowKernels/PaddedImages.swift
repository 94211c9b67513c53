
/// The images of an NHWC tensor with zero margins, one image (or a group of consecutive images)
/// at a time per pool thread, and the schedule that hands images or groups (or parts of them) to
/// the threads.
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

    /// Consecutive images a thread holds at once (`forEachGroup`): each in its own padded copy
    /// (or in place), tiles may run from one into the next.
    struct ImageGroup {
        /// The batch index of the first image.
        let first: Int
        let count: Int
        let base: UnsafePointer<Float>
        /// Floats from one image's copy to the next.
        let imageStride: Int
        let paddedWidth: Int
        let channels: Int

        /// Image `i` of the group (`0 ..< count`).
        @inline(__always) func image(_ i: Int) -> Image {
            Image(base: base + i * imageStride, paddedWidth: paddedWidth, channels: channels)
        }
    }

    /// Images per group for tiles of `rows` grid points over `points` grid points per image: 1
    /// when an image's last tile leaves at most 2% of its rows idle, else the fewest images whose
    /// points fill whole tiles (a 7x7 map in tiles of 6: 6 images, 49 tiles instead of 54).
    static func groupSize(points: Int, rows: Int) -> Int {
        let idle = (points + rows - 1) / rows * rows - points
        guard idle * 50 > points else { return 1 }
        var size = 1
        while size < rows && size * points % rows != 0 { size += 1 }
        return size
    }

    /// Parts per group and threads for `forEachGroup` (groups of `groupSize` images): enough parts
    /// to give every thread two.
    func schedule(units: Int, groupSize: Int = 1) -> (parts: Int, workers: Int) {
        let threads = ThreadPool.shared.threadCount
        let groups = (batch + groupSize - 1) / groupSize
        let parts = max(1, min(units, (2 * threads + groups - 1) / max(1, groups)))
        return (parts, max(1, min(threads, groups * parts)))
    }

    /// Calls `body(n, units, image, worker)` for every image `n` and every part of `0..<units` (the
    /// whole range, or a share of it when the batch is smaller than twice the thread count), on the
    /// pool; `worker` (below `schedule(units:).workers`) identifies the calling thread.
    func forEachPart(units: Int, _ body: (Int, Range<Int>, Image, Int) -> Void) {
        forEachGroup(size: 1, units: units) { group, range, worker in body(group.first, range, group.image(0), worker) }
    }

    /// Calls `body(group, units, worker)` for every group of `size` consecutive images (the last
    /// may hold fewer) and every part of `0..<units`, on the pool, as `forEachPart` does for images.
    func forEachGroup(size: Int, units: Int, _ body: (ImageGroup, Range<Int>, Int) -> Void) {
        let (parts, workers) = schedule(units: units, groupSize: size)
        let items = (batch + size - 1) / size * parts
        let imageFloats = paddedHeight * paddedWidth * channels
        let inPlace = top == 0 && left == 0 && bottom == 0 && right == 0
        let buffers = UnsafeMutablePointer<Float>.allocate(capacity: inPlace ? 1 : workers * size * imageFloats)
        defer { buffers.deallocate() }
        if !inPlace { buffers.initialize(repeating: 0, count: workers * size * imageFloats) }
        // Each worker takes a fixed, contiguous share of the items, so per-worker partial sums (the
        // filter gradient) always add up in the same order: training is bit-reproducible.
        ThreadPool.shared.parallelFor(chunks: workers) { worker in
            let buffer = buffers + worker * size * imageFloats
            var loaded = -1
            for item in (items * worker / workers) ..< (items * (worker + 1) / workers) {
                let (groupIndex, part) = item.quotientAndRemainder(dividingBy: parts)
                let first = groupIndex * size
                let count = min(size, batch - first)
                if !inPlace && loaded != groupIndex {
                    // Only the interiors are written: the margins stay zero.
                    for i in 0..<count {
                        let image = source + (first + i) * height * width * channels
                        for y in 0..<height {
                            (buffer + i * imageFloats + ((y + top) * paddedWidth + left) * channels)
                                .update(from: image + y * width * channels, count: width * channels)
                        }
                    }
                    loaded = groupIndex
                }
                let group = inPlace
                    ? ImageGroup(first: first, count: count, base: source + first * height * width * channels,
                                 imageStride: height * width * channels, paddedWidth: paddedWidth, channels: channels)
                    : ImageGroup(first: first, count: count, base: UnsafePointer(buffer), imageStride: imageFloats,
                                 paddedWidth: paddedWidth, channels: channels)
                body(group, (units * part / parts) ..< (units * (part + 1) / parts), worker)
            }
        }
    }
}
