import MinnowKernels

extension Shapes {
    /// Checks a global pooling: the input must be NHWC.
    public static func globalPool(_ input: [Int]) throws(ShapeError) {
        guard input.count == 4 else { throw ShapeError("globalAvgPool2d: input must be NHWC [N, H, W, C], got \(input)") }
    }

    /// Checks a 2-D pooling of an NHWC input and returns the output shape `[N, Ho, Wo, C]`,
    /// `Ho = (H + 2 * padding.0 - kernelSize.0) / stride.0 + 1` (likewise `Wo`). As in PyTorch,
    /// padding may be at most half the kernel, so no window lies entirely in the padding.
    public static func pool2d(
        _ input: [Int], kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int), op: String
    ) throws(ShapeError) -> [Int] {
        let describe = "kernel \(kernelSize), stride \(stride), padding \(padding)"
        guard input.count == 4 else {
            throw ShapeError("\(op): input must be NHWC [N, H, W, C], got \(input)")
        }
        guard kernelSize.0 >= 1, kernelSize.1 >= 1, stride.0 >= 1, stride.1 >= 1, padding.0 >= 0, padding.1 >= 0 else {
            throw ShapeError("\(op): kernel and stride must be positive and padding non-negative, got \(describe) for input \(input)")
        }
        guard padding.0 <= kernelSize.0 / 2, padding.1 <= kernelSize.1 / 2 else {
            throw ShapeError("\(op): padding must be at most half the kernel, got \(describe) for input \(input)")
        }
        let (height, width) = (input[1] + 2 * padding.0, input[2] + 2 * padding.1)
        guard height >= kernelSize.0, width >= kernelSize.1 else {
            throw ShapeError("\(op): padded input \(height)x\(width) is smaller than the kernel (\(describe), input \(input))")
        }
        return [input[0], (height - kernelSize.0) / stride.0 + 1, (width - kernelSize.1) / stride.1 + 1, input[3]]
    }
}

extension PoolGeometry {
    /// The checked geometry of a pooling of `input`.
    init(_ input: [Int], kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int), op: String) {
        checked { () throws(ShapeError) in
            _ = try Shapes.pool2d(input, kernelSize: kernelSize, stride: stride, padding: padding, op: op)
        }
        self.init(batch: input[0], height: input[1], width: input[2], channels: input[3],
                  kernel: kernelSize, stride: stride, padding: padding)
    }

    var outputShape: [Int] { [batch, outputHeight, outputWidth, channels] }
}

/// 2-D max pooling of an NHWC tensor `[N, H, W, C]` to `[N, Ho, Wo, C]`.
///
/// Padded positions are skipped, so they never win (not even over negative inputs). The gradient
/// goes to the argmax of each window, the first one in row-major order on ties, as in PyTorch.
public func maxPool2d(_ x: Tensor, kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int) = (0, 0)) -> Tensor {
    OpTracer.trace(.maxPool2d, attributes: poolAttributes(kernelSize, stride, padding), operands: [("input", x)],
                   shapes: { () throws(ShapeError) in
                       _ = try Shapes.pool2d(x.shape, kernelSize: kernelSize, stride: stride, padding: padding, op: "maxPool2d")
                   }) {
        let geometry = PoolGeometry(x.shape, kernelSize: kernelSize, stride: stride, padding: padding, op: "maxPool2d")
        var argmax = [Int32](repeating: 0, count: geometry.outputCount)
        let value = x.withUnsafePointer { px in
            Tensor(shape: geometry.outputShape) { py in
                argmax.withUnsafeMutableBufferPointer {
                    Pooling.maxForward(geometry, input: px, output: py, argmax: $0.baseAddress!)
                }
            }
        }
        let (winners, inputShape) = (argmax, x.shape)
        return Tensor.record("maxPool2d", value, inputs: [x]) { g in
            [g.withUnsafePointer { pg in
                Tensor(shape: inputShape) { Pooling.maxBackward(geometry, outputGradient: pg, argmax: winners, inputGradient: $0) }
            }]
        }
    }
}

/// 2-D average pooling of an NHWC tensor `[N, H, W, C]` to `[N, Ho, Wo, C]`, with PyTorch's
/// default `count_include_pad = true`: every window sum is divided by the kernel area, padded
/// zeros included.
public func avgPool2d(_ x: Tensor, kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int) = (0, 0)) -> Tensor {
    OpTracer.trace(.avgPool2d, attributes: poolAttributes(kernelSize, stride, padding), operands: [("input", x)],
                   shapes: { () throws(ShapeError) in
                       _ = try Shapes.pool2d(x.shape, kernelSize: kernelSize, stride: stride, padding: padding, op: "avgPool2d")
                   }) {
        let geometry = PoolGeometry(x.shape, kernelSize: kernelSize, stride: stride, padding: padding, op: "avgPool2d")
        let value = x.withUnsafePointer { px in
            Tensor(shape: geometry.outputShape) { Pooling.averageForward(geometry, input: px, output: $0) }
        }
        let inputShape = x.shape
        return Tensor.record("avgPool2d", value, inputs: [x]) { g in
            [g.withUnsafePointer { pg in
                Tensor(shape: inputShape) { Pooling.averageBackward(geometry, outputGradient: pg, inputGradient: $0) }
            }]
        }
    }
}

/// Mean over the spatial axes: `[N, H, W, C]` to `[N, C]`.
public func globalAvgPool2d(_ x: Tensor) -> Tensor {
    OpTracer.trace(.globalAvgPool2d, operands: [("input", x)], shapes: { () throws(ShapeError) in try Shapes.globalPool(x.shape) }) {
        checked { () throws(ShapeError) in try Shapes.globalPool(x.shape) }
        let (batch, pixels, channels) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
        let value = x.withUnsafePointer { px in
            Tensor(shape: [batch, channels]) {
                Pooling.globalAverageForward(batch: batch, pixels: pixels, channels: channels, input: px, output: $0)
            }
        }
        let inputShape = x.shape
        return Tensor.record("globalAvgPool2d", value, inputs: [x]) { g in
            [g.withUnsafePointer { pg in
                Tensor(shape: inputShape) {
                    Pooling.globalAverageBackward(batch: batch, pixels: pixels, channels: channels, outputGradient: pg, inputGradient: $0)
                }
            }]
        }
    }
}

/// The attributes of a traced pooling op.
private func poolAttributes(_ kernelSize: (Int, Int), _ stride: (Int, Int), _ padding: (Int, Int)) -> [String: OpAttribute] {
    ["kernel_size": .ints([kernelSize.0, kernelSize.1]), "stride": .ints([stride.0, stride.1]),
     "padding": .ints([padding.0, padding.1])]
}
