extension Shapes {
    /// Checks a dropout rate: it must lie in [0, 1].
    public static func dropout(_ shape: [Int], rate: Float) throws(ShapeError) {
        guard rate >= 0 && rate <= 1 else {
            throw ShapeError("dropout: rate \(rate) is outside [0, 1] (input \(shape))")
        }
    }
}

/// Inverted dropout (Srivastava et al., 2014, "Dropout: A Simple Way to Prevent Neural Networks
/// from Overfitting"): in training each element is zeroed with probability `rate` and the kept
/// ones are scaled by `1 / (1 - rate)`, so evaluation needs no rescaling.
///
/// Returns `x` itself when not training or when `rate` is 0 (the generator is then not used).
/// Otherwise draws one uniform number per element from `generator` (element `i` is kept when its
/// draw is `>= rate`), so the same generator state gives the same mask. With `rate` 1 every
/// element is dropped. The gradient is the output gradient times the same mask.
public func dropout(_ x: Tensor, rate: Float, training: Bool, generator: inout SeededGenerator) -> Tensor {
    OpTracer.trace(.dropout, attributes: ["rate": .float(rate), "training": .bool(training)], operands: [("input", x)],
                   shapes: { () throws(ShapeError) in try Shapes.dropout(x.shape, rate: rate) }) {
        checked { () throws(ShapeError) in try Shapes.dropout(x.shape, rate: rate) }
        guard training && rate > 0 else { return x }
        let keep: Float = rate < 1 ? 1 / (1 - rate) : 0
        let n = x.count
        let mask = Tensor(shape: x.shape) { m in
            for i in 0..<n { m[i] = generator.nextUnitFloat() >= rate ? keep : 0 }
        }
        let value = x.zipValues(mask, *)
        return Tensor.record("dropout", value, inputs: [x]) { g in [g.zipValues(mask, *)] }
    }
}
