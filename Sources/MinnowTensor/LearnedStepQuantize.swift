import QuantMath

/// Fake quantization with a learned step size (LSQ, Esser et al. 2020, "Learned Step Size
/// Quantization"): `step` holds one scale per index of `axis` (or one for the whole tensor when
/// `axis` is nil); zero points are fixed. The forward pass is `fakeQuantize` with scales
/// `max(step, QuantizationParameters.minimumScale)`. Gradients:
/// - to `x`: the straight-through estimator (passed where `x` quantizes inside the range);
/// - to `step`: per element `(q - z) - x / s` inside the range and `q - z` (the clamped code's
///   offset) outside, summed per scale and multiplied by `gradientScale` (the paper's
///   `1 / sqrt(N * Qp)`).
///
/// Equal, forward and backward, to PyTorch's `_fake_quantize_learnable_per_tensor_affine` and
/// `_fake_quantize_learnable_per_channel_affine` with `grad_factor = gradientScale` (golden tests;
/// Minnow learns no zero point).
public func learnedStepQuantize(_ x: Tensor, step: Tensor, zeroPoints: [Int32], type: QuantizedType = .int8, axis: Int?,
                                gradientScale: Float) -> Tensor {
    let (outer, extent, inner): (Int, Int, Int)
    if let axis {
        let axis = checked { () throws(ShapeError) in try Shapes.fakeQuantize(x.shape, axis: axis, channels: step.count) }
        (outer, extent, inner) = (x.shape[..<axis].reduce(1, *), x.shape[axis], x.shape[(axis + 1)...].reduce(1, *))
    } else {
        checked { () throws(ShapeError) in
            guard step.count == 1 else { throw ShapeError("learnedStepQuantize: one step for the whole tensor, got \(step.count)") }
        }
        (outer, extent, inner) = (1, 1, x.count)
    }
    checked { () throws(ShapeError) in
        guard zeroPoints.count == step.count else {
            throw ShapeError("learnedStepQuantize: \(zeroPoints.count) zero points for \(step.count) steps")
        }
    }
    let parameters = step.scalars.enumerated().map { channel, scale in
        QuantizationParameters(scale: Swift.max(scale, QuantizationParameters.minimumScale), zeroPoint: zeroPoints[channel], type: type)
    }
    var keep = [Float](repeating: 0, count: x.count), stepSlope = [Float](repeating: 0, count: x.count)
    let value = x.withUnsafePointer { input in
        Tensor(shape: x.shape) { output in
            for o in 0..<outer {
                for c in 0..<extent {
                    let p = parameters[c], base = (o * extent + c) * inner
                    for i in base..<(base + inner) {
                        let code = p.quantize(input[i])
                        output[i] = p.dequantize(code)
                        let inside = p.isInRange(input[i])
                        keep[i] = inside ? 1 : 0
                        stepSlope[i] = inside ? Float(code - p.zeroPoint) - input[i] * (1 / p.scale) : Float(code - p.zeroPoint)
                    }
                }
            }
        }
    }
    let stepShape = step.shape
    return Tensor.record("learnedStepQuantize", value, inputs: [x, step]) { g in
        let upstream = g.scalars
        var stepGradient = [Float](repeating: 0, count: extent)
        for o in 0..<outer {
            for c in 0..<extent {
                let base = (o * extent + c) * inner
                var sum: Float = 0
                for i in base..<(base + inner) { sum += upstream[i] * stepSlope[i] }
                stepGradient[c] += sum
            }
        }
        return [g * Tensor(shape: x.shape, scalars: keep),
                Tensor(shape: stepShape, scalars: stepGradient.map { $0 * gradientScale })]
    }
}
