/// 2-D convolution kernels on raw NHWC buffers: one entry point per pass that picks the algorithm
/// from the geometry. Tensors and shape checks live in MinnowTensor's `conv2d`; these trust their
/// `ConvGeometry` and the buffer sizes it implies.
public enum Conv2DKernel {
    /// How a convolution is computed.
    public enum Algorithm: Sendable {
        /// `groups == inChannels == outChannels`: a direct NHWC kernel vectorized over channels.
        case depthwise
        /// 1x1, stride 1, no padding: a GEMM on the input as it lies.
        case pointwise
        /// Everything else: im2col and GEMM, per group.
        case im2col
    }

    /// The algorithm `forward` and `backward` use for `geometry`.
    public static func algorithm(for geometry: ConvGeometry) -> Algorithm {
        let g = geometry
        if g.groups == g.inChannels && g.groups == g.outChannels && g.groups > 1 { return .depthwise }
        return GemmConv.isPointwise(g) ? .pointwise : .im2col
    }

    /// `output[N, Ho, Wo, Cout] = conv(input[N, H, W, Cin], filter[kh, kw, Cin/groups, Cout]) + bias[Cout]`.
    public static func forward(
        _ geometry: ConvGeometry, input: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        if algorithm(for: geometry) == .depthwise {
            DepthwiseConv.forward(geometry, input: input, filter: filter, bias: bias, output: output)
        } else {
            let g = geometry
            let packed = UnsafeMutablePointer<Float>.allocate(capacity: DirectConv.packedCount(g))
            defer { packed.deallocate() }
            DirectConv.packFilter(g, into: packed) { group, k, o in
                filter[k * g.outChannels + group * g.groupOutChannels + o]
            }
            DirectConv.forward(g, input: input, packedFilter: packed, bias: bias, output: output)
        }
    }

    /// Gradients of the forward pass for the output gradient `gradOutput`: each non-nil buffer is
    /// overwritten with the gradient of its input (`gradBias` is the sum of `gradOutput` over N, H, W).
    public static func backward(
        _ geometry: ConvGeometry, input: UnsafePointer<Float>, filter: UnsafePointer<Float>,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
        gradFilter: UnsafeMutablePointer<Float>?, gradBias: UnsafeMutablePointer<Float>?
    ) {
        guard algorithm(for: geometry) == .depthwise else {
            if let gradInput,
               !DirectConv.inputGradient(geometry, gradOutput: gradOutput, filter: filter, gradInput: gradInput) {
                GemmConv.backward(geometry, input: input, filter: filter, gradOutput: gradOutput,
                                  gradInput: gradInput, gradFilter: nil, gradBias: nil)
            }
            if gradFilter != nil || gradBias != nil {
                DirectConv.filterGradient(geometry, input: input, gradOutput: gradOutput,
                                          gradFilter: gradFilter, gradBias: gradBias)
            }
            return
        }
        if let gradInput {
            DepthwiseConv.inputGradient(geometry, gradOutput: gradOutput, filter: filter, gradInput: gradInput)
        }
        if gradFilter != nil || gradBias != nil {
            DepthwiseConv.filterGradient(geometry, input: input, gradOutput: gradOutput,
                                         gradFilter: gradFilter, gradBias: gradBias)
        }
    }
}
