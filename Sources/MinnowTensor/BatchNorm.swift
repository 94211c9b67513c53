import MinnowKernels

extension Shapes {
    /// Checks the arguments of `batchNorm` and returns the input viewed as `[rows, channels]`:
    /// channels are the last axis of a rank >= 2 input; `scale`, `offset` and the running
    /// statistics are `[channels]`; training needs more than one value per channel.
    public static func batchNorm(
        input: [Int], scale: [Int], offset: [Int], runningMean: [Int], runningVariance: [Int],
        training: Bool, momentum: Float, epsilon: Float
    ) throws(ShapeError) -> (rows: Int, channels: Int) {
        guard input.count >= 2 else {
            throw ShapeError("batchNorm: input needs rank >= 2 with channels last ([N, C] or [N, H, W, C]), got \(input)")
        }
        let channels = input[input.count - 1]
        let rows = Tensor.elementCount(Array(input.dropLast()))
        for (name, shape) in [("scale", scale), ("offset", offset), ("runningMean", runningMean),
                              ("runningVariance", runningVariance)] where shape != [channels] {
            throw ShapeError("batchNorm: \(name) has shape \(shape), expected [\(channels)] for input \(input)")
        }
        guard rows > (training ? 1 : 0) else {
            throw ShapeError("batchNorm: \(training ? "training needs more than one value" : "needs a value") per channel, input \(input) has \(rows)")
        }
        guard (0...1).contains(momentum), epsilon >= 0 else {
            throw ShapeError("batchNorm: momentum \(momentum) must be in [0, 1] and epsilon \(epsilon) non-negative (input \(input))")
        }
        return (rows, channels)
    }
}

/// Batch normalization over every axis but the last (the channels): Ioffe & Szegedy, 2015,
/// "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift".
///
/// `y = scale * (x - mean) / sqrt(variance + epsilon) + offset`, per channel. In training the
/// mean and the biased variance of the batch normalize `x`, and the running statistics are
/// updated in place as in PyTorch: `running = (1 - momentum) * running + momentum * batch`, with
/// the unbiased variance. In evaluation the running statistics normalize `x` and are not changed.
/// Works for `[N, C]` (BatchNorm1d) and `[N, H, W, C]` (BatchNorm2d) alike.
///
/// Gradients flow to `x`, `scale` and `offset` (never to the running statistics). In training
/// the input gradient is the closed form through the batch statistics,
/// `dx = scale / sigma * (dy - mean(dy) - xhat * mean(dy * xhat))`; in evaluation it is `scale / sigma * dy`.
public func batchNorm(
    _ x: Tensor, scale: Tensor, offset: Tensor, runningMean: inout Tensor, runningVariance: inout Tensor,
    training: Bool, momentum: Float = 0.1, epsilon: Float = 1e-5
) -> Tensor {
    OpTracer.trace(.batchNorm, attributes: ["training": .bool(training), "momentum": .float(momentum), "epsilon": .float(epsilon)],
                   operands: [("input", x), ("scale", scale), ("offset", offset), ("running_mean", runningMean),
                              ("running_variance", runningVariance)],
                   shapes: { () throws(ShapeError) in
                       _ = try Shapes.batchNorm(input: x.shape, scale: scale.shape, offset: offset.shape, runningMean: runningMean.shape,
                                                runningVariance: runningVariance.shape, training: training, momentum: momentum,
                                                epsilon: epsilon)
                   }) {
        let (rows, c) = checked { () throws(ShapeError) in
            try Shapes.batchNorm(input: x.shape, scale: scale.shape, offset: offset.shape, runningMean: runningMean.shape,
                                 runningVariance: runningVariance.shape, training: training, momentum: momentum, epsilon: epsilon)
        }
        var center = [Float](repeating: 0, count: c), variance = [Float](repeating: 0, count: c)
        if training {
            x.withUnsafePointer { ChannelKernels.meanAndVariance($0, rows: rows, channels: c, mean: &center, variance: &variance) }
            let unbiased = Float(rows) / Float(rows - 1)
            runningMean.withUnsafeMutablePointer { running in
                for k in 0..<c { running[k] = (1 - momentum) * running[k] + momentum * center[k] }
            }
            runningVariance.withUnsafeMutablePointer { running in
                for k in 0..<c { running[k] = (1 - momentum) * running[k] + momentum * variance[k] * unbiased }
            }
        } else {
            center = runningMean.scalars
            variance = runningVariance.scalars
        }
        let inverseDeviation = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let gamma = scale.scalars
        let a = (0..<c).map { gamma[$0] * inverseDeviation[$0] }
        let b = offset.scalars.enumerated().map { $1 - center[$0] * a[$0] }
        let value = x.withUnsafePointer { px in
            Tensor(shape: x.shape) { ChannelKernels.affine(px, rows: rows, channels: c, scale: a, shift: b, output: $0) }
        }
        let input = x.detached()
        let (needX, needScale, needOffset) = (x.requiresGrad, scale.requiresGrad, offset.requiresGrad)
        return Tensor.record("batchNorm", value, inputs: [x, scale, offset]) { g in
            var sumG = [Float](repeating: 0, count: c), sumGCentered = [Float](repeating: 0, count: c)
            if training || needScale || needOffset {
                g.withUnsafePointer { pg in
                    input.withUnsafePointer { px in
                        ChannelKernels.gradientSums(outputGradient: pg, input: px, center: center, rows: rows, channels: c,
                                                    sumGradient: &sumG, sumGradientTimesCentered: &sumGCentered)
                    }
                }
            }
            let gradScale = needScale
                ? Tensor(shape: [c], scalars: (0..<c).map { sumGCentered[$0] * inverseDeviation[$0] }) : nil
            let gradOffset = needOffset ? Tensor(shape: [c], scalars: sumG) : nil
            guard needX else { return [nil, gradScale, gradOffset] }
            // dx = a * dy + slope * x + intercept, per channel.
            var slope = [Float](repeating: 0, count: c), intercept = [Float](repeating: 0, count: c)
            if training {
                let m = Float(rows)
                for k in 0..<c {
                    slope[k] = -a[k] * inverseDeviation[k] * inverseDeviation[k] * sumGCentered[k] / m
                    intercept[k] = -a[k] * sumG[k] / m - slope[k] * center[k]
                }
            }
            let gradX = g.withUnsafePointer { pg in
                input.withUnsafePointer { px in
                    Tensor(shape: input.shape) {
                        ChannelKernels.affine(pg, px, rows: rows, channels: c, a: a, b: slope, d: intercept, output: $0)
                    }
                }
            }
            return [gradX, gradScale, gradOffset]
        }
    }
}
