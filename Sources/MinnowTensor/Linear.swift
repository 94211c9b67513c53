extension Shapes {
    /// Checks `linear(x, weight:, bias:)` and returns its output shape: `x` is `[..., in]`,
    /// `weight` is `[in, out]`, `bias` (if any) is `[out]`; the output is `[..., out]`.
    public static func linear(input: [Int], weight: [Int], bias: [Int]?) throws(ShapeError) -> [Int] {
        guard input.count >= 1, weight.count == 2 else {
            throw ShapeError("linear: need input [..., in] and weight [in, out], got input \(input) and weight \(weight)")
        }
        guard input[input.count - 1] == weight[0] else {
            throw ShapeError("linear: input \(input) has \(input[input.count - 1]) features, weight \(weight) expects \(weight[0])")
        }
        if let bias, bias != [weight[1]] {
            throw ShapeError("linear: bias has shape \(bias), expected [\(weight[1])] for weight \(weight)")
        }
        return input.dropLast() + [weight[1]]
    }
}

/// A fully connected layer: `x * weight + bias` with `x` `[..., in]`, `weight` `[in, out]` and
/// `bias` `[out]`. Leading axes of `x` are folded into one batch axis for a single GEMM.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    OpTracer.trace(.linear, operands: [("input", x), ("weight", weight), ("bias", bias)],
                   shapes: { () throws(ShapeError) in _ = try Shapes.linear(input: x.shape, weight: weight.shape, bias: bias?.shape) }) {
        let outShape = checked { () throws(ShapeError) in
            try Shapes.linear(input: x.shape, weight: weight.shape, bias: bias?.shape)
        }
        let product = matmul(x.rank == 2 ? x : x.reshaped([-1, weight.shape[0]]), weight)
        let output = bias.map { product + $0 } ?? product
        return x.rank == 2 ? output : output.reshaped(outShape)
    }
}
