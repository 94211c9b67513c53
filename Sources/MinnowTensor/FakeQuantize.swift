import MinnowKernels
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

/// Fake quantization whose codes are clamped to `codes` (within the type's range): what an integer
/// layer with a fused activation outputs (`activationRange(.relu6, output:)` gives the codes of
/// `[0, 6]`). For a ReLU or ReLU6 this equals `fakeQuantize(activation(x), parameters)` in the
/// forward pass at the cost of one pass instead of three; the gradient passes where the code was
/// not clamped.
public func fakeQuantize(_ x: Tensor, _ parameters: QuantizationParameters, codes: (minimum: Int32, maximum: Int32)) -> Tensor {
    fakeQuantize(x, channels: [parameters], outer: 1, extent: 1, inner: x.count, codes: codes)
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
/// In float arithmetic only, so it vectorizes: `r = round(x · (1/scale))` (half to even), clamped
/// to the codes' range around the zero point, times the scale, which is QuantMath's
/// `dequantize(quantize(x))` bit for bit (an integer-valued float times the scale). NaN gives 0
/// (the zero point), as QuantMath does. The backward pass recomputes which elements were not
/// clamped from `x` rather than keeping a mask.
private func fakeQuantize(_ x: Tensor, channels: [QuantizationParameters], outer: Int, extent: Int, inner: Int,
                          codes: (minimum: Int32, maximum: Int32)? = nil) -> Tensor {
    func forEachRun(_ body: (_ base: Int, _ scale: Float, _ low: Float, _ high: Float) -> Void) {
        for o in 0..<outer {
            for c in 0..<extent {
                let p = channels[c]
                let low = Swift.max(p.type.minimum, codes?.minimum ?? p.type.minimum)
                let high = Swift.min(p.type.maximum, codes?.maximum ?? p.type.maximum)
                body((o * extent + c) * inner, p.scale, Float(low - p.zeroPoint), Float(high - p.zeroPoint))
            }
        }
    }
    let value = x.withUnsafePointer { input in
        Tensor(shape: x.shape) { output in
            forEachRun { base, scale, low, high in
                FakeQuantKernels.forward(input + base, output + base, count: inner, scale: scale, low: low, high: high)
            }
        }
    }
    return Tensor.record("fakeQuantize", value, inputs: [x]) { g -> [Tensor?] in
        let gradient = g.withUnsafePointer { upstream -> Tensor in
            x.withUnsafePointer { input -> Tensor in
                Tensor(shape: x.shape) { result in
                    forEachRun { base, scale, low, high in
                        FakeQuantKernels.straightThrough(input + base, upstream + base, result + base, count: inner, scale: scale, low: low, high: high)
                    }
                }
            }
        }
        return [gradient]
    }
}
