/// The sizes of one 2-D convolution: NHWC input `[batch, height, width, inChannels]`, HWIO filter
/// `[kernelHeight, kernelWidth, inChannels / groups, outChannels]`, NHWC output
/// `[batch, outHeight, outWidth, outChannels]`.
///
/// Kernels trust these numbers; `Shapes.conv2d` in MinnowTensor validates them against tensor shapes.
public struct ConvGeometry: Equatable, Sendable {
    /// Images (N).
    public var batch: Int
    /// Input rows (H).
    public var height: Int
    /// Input columns (W).
    public var width: Int
    /// Input channels (Cin).
    public var inChannels: Int
    /// Output channels (Cout).
    public var outChannels: Int
    /// Filter rows (kh).
    public var kernelHeight: Int
    /// Filter columns (kw).
    public var kernelWidth: Int
    /// Steps between output pixels, in input pixels.
    public var strideY: Int
    public var strideX: Int
    /// Zeros added on each side (top and bottom, left and right).
    public var padY: Int
    public var padX: Int
    /// Steps between filter taps, in input pixels.
    public var dilationY: Int
    public var dilationX: Int
    /// Independent channel groups (`inChannels` for a depthwise convolution).
    public var groups: Int

    /// A geometry; `stride`, `padding` and `dilation` are `(vertical, horizontal)`.
    public init(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int,
                kernelHeight: Int, kernelWidth: Int, stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1) {
        self.batch = batch
        self.height = height
        self.width = width
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        (strideY, strideX) = stride
        (padY, padX) = padding
        (dilationY, dilationX) = dilation
        self.groups = groups
    }

    /// Output rows: `(height + 2 padY - dilationY (kernelHeight - 1) - 1) / strideY + 1`.
    public var outHeight: Int { Self.outputExtent(height, kernelHeight, strideY, padY, dilationY) }
    /// Output columns.
    public var outWidth: Int { Self.outputExtent(width, kernelWidth, strideX, padX, dilationX) }

    /// Input channels per group.
    public var groupInChannels: Int { inChannels / groups }
    /// Output channels per group.
    public var groupOutChannels: Int { outChannels / groups }
    /// A group's receptive field, `kernelHeight * kernelWidth * groupInChannels`: the rows of its filter matrix.
    public var patchSize: Int { kernelHeight * kernelWidth * groupInChannels }

    /// Multiply-adds of the forward pass.
    public var multiplyAdds: Int { batch * outHeight * outWidth * outChannels * patchSize }

    /// Output extent along one axis (floor division; may be <= 0 for a kernel larger than the padded input).
    public static func outputExtent(_ input: Int, _ kernel: Int, _ stride: Int, _ padding: Int, _ dilation: Int) -> Int {
        let span = input + 2 * padding - dilation * (kernel - 1) - 1
        return span < 0 ? 0 : span / stride + 1
    }
}

/// `floor(a / b)` for `b > 0`.
@inline(__always)
func floorDivide(_ a: Int, _ b: Int) -> Int {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}

/// The indices `t` in `0..<count` with `0 <= t * step + offset < extent` (a contiguous range).
@inline(__always)
func validRange(offset: Int, step: Int, extent: Int, count: Int) -> Range<Int> {
    let low = max(0, -floorDivide(offset, step))
    let high = min(count, floorDivide(extent - 1 - offset, step) + 1)
    return low ..< max(low, high)
}

/// `destination[k] = Σ_part partials[part * partStride + offset + k]` for `k` in `0..<count`:
/// the reduction of per-thread partial sums.
func sumPartials(
    _ partials: UnsafePointer<Float>, parts: Int, partStride: Int, offset: Int, count: Int,
    into destination: UnsafeMutablePointer<Float>
) {
    destination.update(from: partials + offset, count: count)
    for part in 1..<max(1, parts) {
        let source = partials + part * partStride + offset
        for k in 0..<count { destination[k] += source[k] }
    }
}
