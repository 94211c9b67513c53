import QuantMath

extension Shapes {
    /// Checks per-channel quantization of a tensor of `shape` along `axis` with `channels`
    /// parameter sets; returns the axis made non-negative.
    public static func fakeQuantize(_ shape: [Int], axis: Int, channels: Int) throws(ShapeError) -> Int {
        let axis = try Shapes.axis(axis, rank: shape.count, op: "fakeQuantize", shape: shape)
        guard shape[axis] == channels else {
            throw ShapeError("fakeQuantize: \(channels) parameter sets for axis \(axis) of extent \(shape[axis]) (shape \(shape))")
        }
        return axis
    }
}

/// Fake (simulated) quantization with one set of parameters for the whole tensor:
/// `dequantize(quantize(x))` with `QuantMath`'s arithmetic, so the values are the codes an integer
/// model computes with, as floats. The gradient is the straight-through estimator (Bengio et al.
/// 2013, as Jacob et al. 2018 train): passed unchanged where `x` quantizes inside the range, zero
/// where it was clamped. Equal, forward and backward, to PyTorch's
/// `fake_quantize_per_tensor_affine` (golden tests).
public func fakeQuantize(_ x: Tensor, _ parameters: QuantizationParameters) -> Tensor {
    fakeQuantize(x, channels: [parameters], outer: 1, extent: 1, inner: x.count)
}

/// Fake quantization with one set of parameters per index of `axis` (per output channel: axis 3
/// of an HWIO filter, or the last axis of an activation), as PyTorch's
/// `fake_quantize_per_channel_affine`.
public func fakeQuantize(_ x: Tensor, perChannel parameters: [QuantizationParameters], axis: Int) -> Tensor {
    let axis = checked { () throws(ShapeError) in try Shapes.fakeQuantize(x.shape, axis: axis, channels: parameters.count) }
    return fakeQuantize(x, channels: parameters, outer: x.shape[..<axis].reduce(1, *), extent: x.shape[axis],
                        inner: x.shape[(axis + 1)...].reduce(1, *))
}

/// The shared loop: element `(o, c, i)` of the `[outer, extent, inner]` view uses `channels[c]`.
private func fakeQuantize(_ x: Tensor, channels: [QuantizationParameters], outer: Int, extent: Int, inner: Int) -> Tensor {
    var mask = [Float](repeating: 0, count: x.count)
    let value = x.withUnsafePointer { input in
        Tensor(shape: x.shape) { output in
            mask.withUnsafeMutableBufferPointer { kept in
                for o in 0..<outer {
                    for c in 0..<extent {
                        let parameters = channels[c], base = (o * extent + c) * inner
                        for i in base..<(base + inner) {
                            output[i] = parameters.dequantize(parameters.quantize(input[i]))
                            kept[i] = parameters.isInRange(input[i]) ? 1 : 0
                        }
                    }
                }
            }
        }
    }
    let keep = Tensor(shape: x.shape, scalars: mask)
    return Tensor.record("fakeQuantize", value, inputs: [x]) { g in [g * keep] }
}
