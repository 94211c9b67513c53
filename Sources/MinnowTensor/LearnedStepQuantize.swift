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
    let scales = step.scalars.map { Swift.max($0, QuantizationParameters.minimumScale) }
    let bounds = zeroPoints.map { (low: Float(type.minimum - $0), high: Float(type.maximum - $0)) }
    let value = x.withUnsafePointer { input in
        Tensor(shape: x.shape) { output in
            for o in 0..<outer {
                for c in 0..<extent {
                    let base = (o * extent + c) * inner, (scale, low, high) = (scales[c], bounds[c].low, bounds[c].high)
                    let inverse = 1 / scale
                    for i in base..<(base + inner) {
                        let scaled = (input[i] * inverse).rounded(.toNearestOrEven)
                        output[i] = scaled == scaled ? (Swift.min(Swift.max(scaled, low), high) + 0) * scale : 0
                    }
                }
            }
        }
    }
    let stepShape = step.shape
    return Tensor.record("learnedStepQuantize", value, inputs: [x, step]) { g -> [Tensor?] in
        // Recomputed from x: inside the range, dx = g and ds += g ((q - z) - x/s); outside, dx = 0
        // and ds += g (clamped q - z).
        var stepGradient = [Float](repeating: 0, count: extent)
        let gradient = g.withUnsafePointer { upstream -> Tensor in
            x.withUnsafePointer { input -> Tensor in
                Tensor(shape: x.shape) { result in
                    for o in 0..<outer {
                        for c in 0..<extent {
                            let base = (o * extent + c) * inner, (low, high) = (bounds[c].low, bounds[c].high)
                            let inverse = 1 / scales[c]
                            var sum: Float = 0
                            for i in base..<(base + inner) {
                                let real = input[i] * inverse, scaled = real.rounded(.toNearestOrEven)
                                let clamped = Swift.min(Swift.max(scaled, low), high), inside: Float = scaled == clamped ? 1 : 0
                                result[i] = upstream[i] * inside
                                sum += upstream[i] * (inside == 1 ? clamped - real : clamped)
                            }
                            stepGradient[c] += sum
                        }
                    }
                }
            }
        }
        return [gradient, Tensor(shape: stepShape, scalars: stepGradient.map { $0 * gradientScale })]
    }
}
