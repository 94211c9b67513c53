import CRuntimeKernels
import QuantMath

/// Max pooling of an HWC int8 image (input and output share their parameters: max commutes with
/// the affine map); padded positions are skipped. Arguments `[input, output, kernelH, kernelW,
/// strideH, strideW, padH, padW]`.
public struct MaxPool: RuntimeOperator {
    static let code = OperatorCode.maxPool
    public var input: Int, output: Int
    public var kernel: Extent, stride: Extent, padding: Extent

    public init(input: Int, output: Int, kernel: Extent, stride: Extent, padding: Extent) {
        (self.input, self.output, self.kernel, self.stride, self.padding) = (input, output, kernel, stride, padding)
    }

    init(arguments: [Int32]) throws(OperatorArgumentError) {
        let a = try Self.checked(arguments, count: 8)
        self.init(input: a[0], output: a[1], kernel: Extent(a[2], a[3]), stride: Extent(a[4], a[5]), padding: Extent(a[6], a[7]))
    }

    var arguments: [Int32] {
        [input, output, kernel.height, kernel.width, stride.height, stride.width, padding.height, padding.width].map { Int32(truncatingIfNeeded: $0) }
    }

    static func tensorPositions(_ arguments: [Int32]) -> (reads: [Int], writes: [Int]) {
        (arguments.count > 0 ? [0] : [], arguments.count > 1 ? [1] : [])
    }

    func validate(_ v: inout OperatorValidation) throws(ModelFormatError) {
        let x = try v.activationInput(input)
        let out = try v.activationOutput(output)
        guard x.shape.count == 3, kernel.height >= 1, kernel.width >= 1, stride.height >= 1, stride.width >= 1, padding.height >= 0,
              padding.width >= 0, padding.height < kernel.height, padding.width < kernel.width, padding.height <= x.shape[0],
              padding.width <= x.shape[1] else {
            throw v.fail("pooling geometry \(arguments[2...])")
        }
        let (spanH, spanW) = (x.shape[0] + 2 * padding.height - kernel.height, x.shape[1] + 2 * padding.width - kernel.width)
        let (h, w) = (spanH / stride.height + 1, spanW / stride.width + 1)
        guard spanH >= 0, spanW >= 0, out.shape == [h, w, x.shape[2]] else { throw v.fail("output shape \(out.shape), expected [\(h), \(w), \(x.shape[2])]") }
        // The kernels visit only the window positions inside the input.
        try v.addWork(out.elementCount, min(kernel.height, x.shape[0]), min(kernel.width, x.shape[1]))
    }

    func prepare(_ p: OperatorPreparation) -> PreparedKernel {
        let x = p.model.tensors[input].shape, out = p.model.tensors[output].shape
        let (codes, result) = (p.codes(input), p.codes(output))
        if let maxPool = p.kernels?.pointee.max_pool {
            let arguments = p.store(mnw_max_pool(input: UnsafePointer(codes.baseAddress), height: Int32(x[0]), width: Int32(x[1]), channels: Int32(x[2]),
                                                 kernel_height: Int32(kernel.height), kernel_width: Int32(kernel.width),
                                                 stride_height: Int32(stride.height), stride_width: Int32(stride.width),
                                                 padding_height: Int32(padding.height), padding_width: Int32(padding.width),
                                                 output_height: Int32(out[0]), output_width: Int32(out[1]), output: result.baseAddress))
            return { maxPool(arguments) }
        }
        let (k, s, pad) = ((kernel.height, kernel.width), (stride.height, stride.width), (padding.height, padding.width))
        return {
            ReferenceKernels.maxPool(batch: 1, height: x[0], width: x[1], channels: x[2], kernel: k, stride: s, padding: pad,
                                     input: UnsafeBufferPointer(codes), output: result)
        }
    }

    func summary(_ model: RuntimeModel) -> (description: String, multiplyAccumulates: Int) {
        ("max pool \(kernel.height)x\(kernel.width)/\(stride.height) -> \(model.tensors[output].shape.map(String.init).joined(separator: "x"))", 0)
    }
}

extension ReferenceKernels {
    /// Max pooling of NHWC int8 codes (input and output share their parameters: max commutes with
    /// the affine map). Padded positions are skipped.
    public static func maxPool(batch: Int, height: Int, width: Int, channels: Int, kernel: (Int, Int), stride: (Int, Int),
                               padding: (Int, Int), input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>) {
        let outHeight = (height + 2 * padding.0 - kernel.0) / stride.0 + 1, outWidth = (width + 2 * padding.1 - kernel.1) / stride.1 + 1
        for n in 0..<batch {
            for oy in 0..<outHeight {
                for ox in 0..<outWidth {
                    for c in 0..<channels {
                        var best = Int8.min
                        // Only the window positions inside the input (padding never wins a max).
                        let (top, left) = (oy * stride.0 - padding.0, ox * stride.1 - padding.1)
                        let (rowStart, columnStart) = (Swift.max(top, 0), Swift.max(left, 0))
                        for iy in rowStart..<Swift.max(Swift.min(top + kernel.0, height), rowStart) {
                            for ix in columnStart..<Swift.max(Swift.min(left + kernel.1, width), columnStart) {
                                best = Swift.max(best, input[((n * height + iy) * width + ix) * channels + c])
                            }
                        }
                        output[((n * outHeight + oy) * outWidth + ox) * channels + c] = best
                    }
                }
            }
        }
    }
}
