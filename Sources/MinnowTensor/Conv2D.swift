import MinnowKernels

extension Shapes {
    /// Validates a 2-D convolution and returns its geometry: input NHWC `[N, H, W, Cin]`, filter
    /// HWIO `[kh, kw, Cin/groups, Cout]`, optional bias `[Cout]`; `stride`, `padding` and
    /// `dilation` are `(vertical, horizontal)`. Errors name the input and filter shapes.
    public static func conv2d(
        input: [Int], filter: [Int], bias: [Int]? = nil, stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1
    ) throws(ShapeError) -> ConvGeometry {
        let shapes = "input \(input), filter \(filter)"
        guard input.count == 4 else {
            throw ShapeError("conv2d: input must be NHWC [N, H, W, C] (rank 4); got \(shapes)")
        }
        guard filter.count == 4 else {
            throw ShapeError("conv2d: filter must be HWIO [kh, kw, Cin/groups, Cout] (rank 4); got \(shapes)")
        }
        guard stride.0 >= 1, stride.1 >= 1, dilation.0 >= 1, dilation.1 >= 1, padding.0 >= 0, padding.1 >= 0 else {
            throw ShapeError("conv2d: stride \(stride) and dilation \(dilation) must be >= 1 and padding \(padding) >= 0 (\(shapes))")
        }
        let (inChannels, outChannels) = (input[3], filter[3])
        guard groups >= 1, inChannels % groups == 0, outChannels % groups == 0 else {
            throw ShapeError("conv2d: groups = \(groups) must divide the input channels (\(inChannels)) and the output channels (\(outChannels)); \(shapes)")
        }
        guard filter[2] == inChannels / groups else {
            throw ShapeError("conv2d: filter expects \(filter[2]) input channels per group, but the input has \(inChannels) channels in \(groups) group(s) (\(inChannels / groups) each); \(shapes)")
        }
        if let bias, bias != [outChannels] {
            throw ShapeError("conv2d: bias must have shape [\(outChannels)] (the filter's output channels); got bias \(bias), \(shapes)")
        }
        let geometry = ConvGeometry(
            batch: input[0], height: input[1], width: input[2], inChannels: inChannels, outChannels: outChannels,
            kernelHeight: filter[0], kernelWidth: filter[1], stride: stride, padding: padding,
            dilation: dilation, groups: groups)
        guard filter[0] >= 1, filter[1] >= 1, geometry.outHeight > 0, geometry.outWidth > 0 else {
            throw ShapeError("conv2d: empty output (\(geometry.outHeight) x \(geometry.outWidth)): the \(filter[0]) x \(filter[1]) kernel with dilation \(dilation) does not fit the \(input[1]) x \(input[2]) input with padding \(padding); \(shapes)")
        }
        return geometry
    }
}

/// 2-D convolution (cross-correlation, as in PyTorch) of an NHWC `input` `[N, H, W, Cin]` with an
/// HWIO `filter` `[kh, kw, Cin/groups, Cout]`, plus an optional `bias` `[Cout]`; returns
/// `[N, Ho, Wo, Cout]`. `stride`, `padding` (zeros, both sides) and `dilation` are
/// `(vertical, horizontal)`. `groups` splits the channels into independent convolutions;
/// `groups == Cin == Cout` is a depthwise convolution with filter `[kh, kw, 1, C]`.
///
/// Depthwise convolutions run an NHWC kernel vectorized over channels; all others run register
/// tiles of 8 pixels x 32 output channels on zero-padded images, with no patch matrix (see
/// `Conv2DKernel`). Both use every thread of `ThreadPool.shared`.
/// Differentiable with respect to input, filter and bias.
public func conv2d(
    _ input: Tensor, _ filter: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1
) -> Tensor {
    OpTracer.trace(groups > 1 && groups == input.shape.last && groups == filter.shape.last ? .depthwiseConv2d : .conv2d,
                   attributes: ["stride": .ints([stride.0, stride.1]), "padding": .ints([padding.0, padding.1]),
                                "dilation": .ints([dilation.0, dilation.1]), "groups": .int(groups)],
                   operands: [("input", input), ("filter", filter), ("bias", bias)],
                   shapes: { () throws(ShapeError) in
                       _ = try Shapes.conv2d(input: input.shape, filter: filter.shape, bias: bias?.shape, stride: stride,
                                             padding: padding, dilation: dilation, groups: groups)
                   }) {
        let geometry = checked { () throws(ShapeError) in
            try Shapes.conv2d(input: input.shape, filter: filter.shape, bias: bias?.shape, stride: stride,
                              padding: padding, dilation: dilation, groups: groups)
        }
        let outShape = [geometry.batch, geometry.outHeight, geometry.outWidth, geometry.outChannels]
        let value = input.withUnsafePointer { x in
            filter.withUnsafePointer { w in
                withOptionalPointer(bias) { b in
                    Tensor(shape: outShape) { y in
                        Conv2DKernel.forward(geometry, input: x, filter: w, bias: b, output: y)
                    }
                }
            }
        }
        let (inputValue, filterValue) = (input.detached(), filter.detached())
        let (needInput, needFilter, needBias) = (input.requiresGrad, filter.requiresGrad, bias?.requiresGrad ?? false)
        let inputs = bias.map { [input, filter, $0] } ?? [input, filter]
        return Tensor.record("conv2d", value, inputs: inputs) { gradOutput in
            var gradInput = needInput ? Tensor(shape: inputValue.shape) { _ in } : nil
            var gradFilter = needFilter ? Tensor(shape: filterValue.shape) { _ in } : nil
            var gradBias = needBias ? Tensor(shape: [geometry.outChannels]) { _ in } : nil
            inputValue.withUnsafePointer { x in
                filterValue.withUnsafePointer { w in
                    gradOutput.withUnsafePointer { dy in
                        withOptionalMutablePointer(&gradInput) { dx in
                            withOptionalMutablePointer(&gradFilter) { dw in
                                withOptionalMutablePointer(&gradBias) { db in
                                    Conv2DKernel.backward(geometry, input: x, filter: w, gradOutput: dy,
                                                          gradInput: dx, gradFilter: dw, gradBias: db)
                                }
                            }
                        }
                    }
                }
            }
            return bias == nil ? [gradInput, gradFilter] : [gradInput, gradFilter, gradBias]
        }
    }
}

/// Calls `body` with the storage of `tensor`, or nil.
private func withOptionalPointer<R>(_ tensor: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let tensor else { return body(nil) }
    return tensor.withUnsafePointer { body($0) }
}

/// Calls `body` with the writable storage of `tensor`, or nil.
private func withOptionalMutablePointer<R>(_ tensor: inout Tensor?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    guard tensor != nil else { return body(nil) }
    return tensor!.withUnsafeMutablePointer { body($0) }
}
