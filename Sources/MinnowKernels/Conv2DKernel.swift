/// 2-D convolution kernels on raw NHWC buffers: one entry point per pass that picks the algorithm
/// from the geometry. Tensors and shape checks live in MinnowTensor's `conv2d`; these trust their
/// `ConvGeometry` and the buffer sizes it implies. Every pass splits its work over `ThreadPool.shared`.
public enum Conv2DKernel {
    /// How a convolution is computed.
    public enum Algorithm: Sendable {
        /// `groups == inChannels == outChannels`: rows of taps, vectorized over channels (`DepthwiseConv`).
        case depthwise
        /// A 3x3 stride-1 dense convolution with at least 64 channels on each side, in multiples of
        /// 16: Winograd's F(2x2, 3x3) on the register tiles (`WinogradConv`), 2.25x fewer multiply-adds.
        case winograd
        /// Everything else: register tiles of pixels x output channels (`RegisterTiles`) on zero-padded images.
        case direct
    }

    /// The algorithm `forward` and `backward` use for `geometry`.
    public static func algorithm(for geometry: ConvGeometry) -> Algorithm {
        let g = geometry
        if g.groups > 1 && g.groups == g.inChannels && g.groups == g.outChannels { return .depthwise }
        return WinogradConv.applies(to: g) ? .winograd : .direct
    }

    /// `output[N, Ho, Wo, Cout] = conv(input[N, H, W, Cin], filter[kh, kw, Cin/groups, Cout]) + bias[Cout]`.
    /// `tiles` (the direct algorithm's register tiles) changes the speed, never the result.
    public static func forward(
        _ geometry: ConvGeometry, input: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, tiles: RegisterTiles = .forThisBuild
    ) {
        switch algorithm(for: geometry) {
        case .depthwise: DepthwiseConv.forward(geometry, input: input, filter: filter, bias: bias, output: output)
        case .direct: DirectConv.forward(DirectConv.pixelRun(geometry), input: input, filter: filter, bias: bias, output: output, tiles: tiles)
        case .winograd: WinogradConv.forward(geometry, input: input, filter: filter, bias: bias, output: output, tiles: tiles)
        }
    }

    /// Gradients of the forward pass for the output gradient `gradOutput`: each non-nil buffer is
    /// overwritten with the gradient of its input (`gradBias` is the sum of `gradOutput` over N, H, W).
    public static func backward(
        _ geometry: ConvGeometry, input: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
        gradFilter: UnsafeMutablePointer<Float>?, gradBias: UnsafeMutablePointer<Float>?, tiles: RegisterTiles = .forThisBuild
    ) {
        switch algorithm(for: geometry) {
        case .depthwise:
            if let gradInput {
                DepthwiseConv.inputGradient(geometry, gradOutput: gradOutput, filter: filter, gradInput: gradInput)
            }
            if gradFilter != nil || gradBias != nil {
                DepthwiseConv.filterGradient(geometry, input: input, gradOutput: gradOutput,
                                             gradFilter: gradFilter, gradBias: gradBias)
            }
        case .direct:
            if let gradInput {
                DirectConv.inputGradient(DirectConv.pixelRun(geometry), gradOutput: gradOutput, filter: filter, gradInput: gradInput, tiles: tiles)
            }
            if gradFilter != nil || gradBias != nil {
                DirectConv.filterGradient(geometry, input: input, gradOutput: gradOutput,
                                          gradFilter: gradFilter, gradBias: gradBias, tiles: tiles)
            }
        case .winograd:
            if let gradInput {
                WinogradConv.inputGradient(geometry, gradOutput: gradOutput, filter: filter, gradInput: gradInput, tiles: tiles)
            }
            if gradFilter != nil || gradBias != nil {
                WinogradConv.filterGradient(geometry, input: input, gradOutput: gradOutput,
                                            gradFilter: gradFilter, gradBias: gradBias, tiles: tiles)
            }
        }
    }
}
