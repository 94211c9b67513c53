import MinnowKernels

extension Tensor {
    /// Views `shape` around `axis` as `[outer, extent, inner]`.
    func splitAround(axis: Int) -> (outer: Int, extent: Int, inner: Int) {
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        return (outer, shape[axis], inner)
    }

    /// Sum over one axis (no autodiff), keeping it with extent 1.
    func sumValues(axis: Int) -> Tensor {
        let (outer, extent, inner) = splitAround(axis: axis)
        var outShape = shape
        outShape[axis] = 1
        return withUnsafePointer { x in
            Tensor(shape: outShape) { y in
                ThreadPool.shared.parallelFor(range: outer, grain: Swift.max(1, elementwiseGrain / Swift.max(1, extent * inner))) { rows in
                    for o in rows {
                        let out = y + o * inner
                        out.initialize(repeating: 0, count: inner)
                        for e in 0..<extent {
                            let row = x + (o * extent + e) * inner
                            for i in 0..<inner { out[i] += row[i] }
                        }
                    }
                }
            }
        }
    }

    /// Sum over `axes` (all axes when empty is not what you want: pass them). Negative axes count from the end.
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let normalized = checked { () throws(ShapeError) in
            try axes.map { axis throws(ShapeError) in try Shapes.axis(axis, rank: rank, op: "sum", shape: shape) }
        }
        var value = detached()
        for axis in Set(normalized).sorted(by: >) { value = value.sumValues(axis: axis) }
        var keptShape = shape
        for axis in normalized { keptShape[axis] = 1 }
        let outShape = keepDims ? keptShape : shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
        value = value.reshapedValues(outShape)
        let inputShape = shape
        return Tensor.record("sum", value, inputs: [self]) { g in
            [g.reshaped(keptShape).broadcasted(to: inputShape)]
        }
    }

    /// Sum of all elements, as a rank-0 tensor.
    public func sum() -> Tensor { sum(axes: Array(0..<rank)) }

    /// Mean over `axes`.
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let normalized = checked { () throws(ShapeError) in
            try axes.map { axis throws(ShapeError) in try Shapes.axis(axis, rank: rank, op: "mean", shape: shape) }
        }
        let n = Set(normalized).reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims).scaled(by: 1 / Float(Swift.max(n, 1)))
    }

    /// Mean of all elements, as a rank-0 tensor.
    public func mean() -> Tensor { mean(axes: Array(0..<rank)) }

    /// Maximum over one axis; the gradient flows to the first maximal element.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let axis = checked { () throws(ShapeError) in try Shapes.axis(axis, rank: rank, op: "max", shape: shape) }
        let indices = argmaxValues(axis: axis)
        let (outer, extent, inner) = splitAround(axis: axis)
        var keptShape = shape
        keptShape[axis] = 1
        let values = withUnsafePointer { x in
            Tensor(shape: keptShape) { y in
                for o in 0..<outer {
                    for i in 0..<inner { y[o * inner + i] = x[(o * extent + indices[o * inner + i]) * inner + i] }
                }
            }
        }
        var outShape = shape
        if keepDims { outShape[axis] = 1 } else { outShape.remove(at: axis) }
        let inputShape = shape
        return Tensor.record("max", values.reshapedValues(outShape), inputs: [self]) { g in
            let flat = g.withUnsafePointer { Array(UnsafeBufferPointer(start: $0, count: outer * inner)) }
            return [Tensor(shape: inputShape) { dx in
                dx.initialize(repeating: 0, count: outer * extent * inner)
                for o in 0..<outer {
                    for i in 0..<inner { dx[(o * extent + indices[o * inner + i]) * inner + i] = flat[o * inner + i] }
                }
            }]
        }
    }

    /// Index of the maximum along `axis` (first one on ties), as Float-valued indices with that axis removed.
    public func argmax(axis: Int) -> Tensor {
        let axis = checked { () throws(ShapeError) in try Shapes.axis(axis, rank: rank, op: "argmax", shape: shape) }
        var outShape = shape
        outShape.remove(at: axis)
        return Tensor(shape: outShape, scalars: argmaxValues(axis: axis).map(Float.init))
    }

    /// Argmax over `axis` as `[outer * inner]` integers.
    func argmaxValues(axis: Int) -> [Int] {
        let (outer, extent, inner) = splitAround(axis: axis)
        require(extent > 0, "argmax/max: axis \(axis) of shape \(shape) is empty")
        var result = [Int](repeating: 0, count: outer * inner)
        withUnsafePointer { x in
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = x[o * extent * inner + i], bestIndex = 0
                    for e in 1..<extent where x[(o * extent + e) * inner + i] > best {
                        best = x[(o * extent + e) * inner + i]
                        bestIndex = e
                    }
                    result[o * inner + i] = bestIndex
                }
            }
        }
        return result
    }

    /// Repeats this tensor along broadcast axes to `target` (NumPy rules).
    public func broadcasted(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let shapeAfter = checked { () throws(ShapeError) in try Shapes.broadcast(shape, target, op: "broadcasted(to:)") }
        require(shapeAfter == target, "broadcasted(to:): shape \(shape) cannot be broadcast to \(target)")
        let value = Tensor.broadcastValues(Tensor.zeros(target), self.detached(), op: "broadcasted(to:)") { _, b in b }
        let inputShape = shape
        return Tensor.record("broadcast", value, inputs: [self]) { g in [g.sumToShape(inputShape)] }
    }
}
