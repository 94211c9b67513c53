import MinnowKernels

extension Tensor {
    /// The same storage under another shape (no autodiff, no copy).
    func reshapedValues(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }

    /// The same elements under `newShape`; one extent may be -1 (inferred). Shares storage.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        OpTracer.trace(.reshape, attributes: ["shape": .ints(Array(((try? Shapes.reshape(shape, to: newShape)) ?? newShape).dropFirst()))],
                       operands: [("input", self)], shapes: { () throws(ShapeError) in _ = try Shapes.reshape(shape, to: newShape) }) {
            let resolved = checked { () throws(ShapeError) in try Shapes.reshape(shape, to: newShape) }
            let inputShape = shape
            return Tensor.record("reshape", reshapedValues(resolved), inputs: [self]) { g in [g.reshaped(inputShape)] }
        }
    }

    /// `[N, ...]` to `[N, product of the rest]`.
    public func flattenedBatch() -> Tensor {
        require(rank >= 1, "flattenedBatch: needs rank >= 1, got shape \(shape)")
        return OpTracer.trace(.flatten, operands: [("input", self)]) { reshaped([shape[0], -1]) }
    }

    /// Axes reordered: output axis `i` is input axis `permutation[i]`.
    public func permuted(_ permutation: [Int]) -> Tensor {
        checked { () throws(ShapeError) in
            guard permutation.sorted() == Array(0..<rank) else {
                throw ShapeError("permuted: \(permutation) is not a permutation of the axes of shape \(shape)")
            }
        }
        let outShape = permutation.map { shape[$0] }
        let inStrides = Tensor.strides(shape)
        let permutedStrides = permutation.map { inStrides[$0] }
        let n = count
        let value = withUnsafePointer { x in
            Tensor(shape: outShape) { y in
                guard n > 0 else { return }
                let inner = outShape[rank - 1], innerStride = permutedStrides[rank - 1]
                ThreadPool.shared.parallelFor(range: n / inner, grain: Swift.max(1, elementwiseGrain / inner)) { rows in
                    for row in rows {
                        var offset = 0, rest = row
                        for axis in stride(from: rank - 2, through: 0, by: -1) {
                            offset += (rest % outShape[axis]) * permutedStrides[axis]
                            rest /= outShape[axis]
                        }
                        let out = y + row * inner
                        for j in 0..<inner { out[j] = x[offset + j * innerStride] }
                    }
                }
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return Tensor.record("permute", value, inputs: [self]) { g in [g.permuted(inverse)] }
    }

    /// The last two axes swapped.
    public func transposed() -> Tensor {
        require(rank >= 2, "transposed: needs rank >= 2, got shape \(shape)")
        var permutation = Array(0..<rank)
        permutation.swapAt(rank - 1, rank - 2)
        return permuted(permutation)
    }

    /// Tensors joined along `axis`; all other extents must match.
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        let rank = tensors.first?.rank ?? 0
        return OpTracer.trace(.concat, attributes: ["axis": .int(axis < 0 ? axis + rank : axis)],
                              operands: tensors.enumerated().map { ("inputs.\($0.offset)", $0.element) },
                              shapes: { () throws(ShapeError) in _ = try Shapes.concatenate(tensors.map(\.shape), axis: axis) }) {
            untracedConcatenate(tensors, axis: axis)
        }
    }

    private static func untracedConcatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        require(!tensors.isEmpty, "concatenate: no tensors")
        let first = tensors[0]
        let axis = checked { () throws(ShapeError) in try Shapes.concatenate(tensors.map(\.shape), axis: axis) }
        let extents = tensors.map { $0.shape[axis] }
        var outShape = first.shape
        outShape[axis] = extents.reduce(0, +)
        let outer = first.shape[..<axis].reduce(1, *)
        let inner = first.shape[(axis + 1)...].reduce(1, *)
        let value = Tensor(shape: outShape) { y in
            var start = 0
            for (t, extent) in zip(tensors, extents) {
                t.withUnsafePointer { x in
                    for o in 0..<outer {
                        (y + (o * outShape[axis] + start) * inner).update(from: x + o * extent * inner, count: extent * inner)
                    }
                }
                start += extent
            }
        }
        return Tensor.record("concatenate", value, inputs: tensors) { g in
            var start = 0
            return extents.map { extent in
                defer { start += extent }
                return g.sliced(axis: axis, start ..< start + extent)
            }
        }
    }

    /// Elements `range` along `axis`.
    public func sliced(axis: Int, _ range: Range<Int>) -> Tensor {
        let axis = checked { () throws(ShapeError) in
            let axis = try Shapes.axis(axis, rank: rank, op: "sliced", shape: shape)
            guard range.lowerBound >= 0 && range.upperBound <= shape[axis] else {
                throw ShapeError("sliced: range \(range) out of bounds for axis \(axis) of shape \(shape)")
            }
            return axis
        }
        let (outer, extent, inner) = splitAround(axis: axis)
        var outShape = shape
        outShape[axis] = range.count
        let value = withUnsafePointer { x in
            Tensor(shape: outShape) { y in
                for o in 0..<outer {
                    (y + o * range.count * inner).update(from: x + (o * extent + range.lowerBound) * inner, count: range.count * inner)
                }
            }
        }
        let inputShape = shape
        return Tensor.record("slice", value, inputs: [self]) { g in
            var pad = [(Int, Int)](repeating: (0, 0), count: inputShape.count)
            pad[axis] = (range.lowerBound, inputShape[axis] - range.upperBound)
            return [g.padded(pad)]
        }
    }

    /// Rows `indices` of the first axis (a batch gather), in that order.
    public func gathered(rows indices: [Int]) -> Tensor {
        require(rank >= 1, "gathered(rows:): needs rank >= 1, got shape \(shape)")
        let rowSize = count / Swift.max(shape[0], 1)
        for index in indices {
            require(index >= 0 && index < shape[0], "gathered(rows:): row \(index) out of range for shape \(shape)")
        }
        var outShape = shape
        outShape[0] = indices.count
        let value = withUnsafePointer { x in
            Tensor(shape: outShape) { y in
                for (i, index) in indices.enumerated() { (y + i * rowSize).update(from: x + index * rowSize, count: rowSize) }
            }
        }
        let inputShape = shape
        return Tensor.record("gather", value, inputs: [self]) { g in
            [g.withUnsafePointer { gy in
                Tensor(shape: inputShape) { dx in
                    dx.initialize(repeating: 0, count: Tensor.elementCount(inputShape))
                    for (i, index) in indices.enumerated() {
                        for j in 0..<rowSize { dx[index * rowSize + j] += gy[i * rowSize + j] }
                    }
                }
            }]
        }
    }

    /// Zero padding: `padding[axis] = (before, after)` for every axis.
    public func padded(_ padding: [(Int, Int)], value padValue: Float = 0) -> Tensor {
        checked { () throws(ShapeError) in
            guard padding.count == rank, padding.allSatisfy({ $0.0 >= 0 && $0.1 >= 0 }) else {
                throw ShapeError("padded: need \(rank) non-negative (before, after) pairs for shape \(shape), got \(padding)")
            }
        }
        let outShape = zip(shape, padding).map { $0 + $1.0 + $1.1 }
        let outStrides = Tensor.strides(outShape)
        let offset = zip(padding, outStrides).reduce(0) { $0 + $1.0.0 * $1.1 }
        let inner = shape.last ?? 1
        let n = count
        let value = withUnsafePointer { x in
            Tensor(shape: outShape) { y in
                y.initialize(repeating: padValue, count: Tensor.elementCount(outShape))
                guard n > 0 else { return }
                for row in 0..<(n / inner) {
                    var target = offset, rest = row
                    for axis in stride(from: rank - 2, through: 0, by: -1) {
                        target += (rest % shape[axis]) * outStrides[axis]
                        rest /= shape[axis]
                    }
                    (y + target).update(from: x + row * inner, count: inner)
                }
            }
        }
        let inputShape = shape
        return Tensor.record("pad", value, inputs: [self]) { g in
            var result = g
            for (axis, (before, _)) in padding.enumerated() where before > 0 || result.shape[axis] != inputShape[axis] {
                result = result.sliced(axis: axis, before ..< before + inputShape[axis])
            }
            return [result]
        }
    }
}

extension Shapes {
    /// Resolves a reshape target with at most one -1 extent.
    public static func reshape(_ shape: [Int], to target: [Int]) throws(ShapeError) -> [Int] {
        let count = Tensor.elementCount(shape)
        let inferred = target.filter { $0 == -1 }.count
        guard inferred <= 1, target.allSatisfy({ $0 >= -1 }) else {
            throw ShapeError("reshaped: target \(target) may have one -1 and no other negative extent (from \(shape))")
        }
        if inferred == 1 {
            let known = target.filter { $0 != -1 }.reduce(1, *)
            guard known > 0, count % known == 0 else {
                throw ShapeError("reshaped: cannot reshape \(shape) (\(count) elements) to \(target)")
            }
            return target.map { $0 == -1 ? count / known : $0 }
        }
        guard Tensor.elementCount(target) == count else {
            throw ShapeError("reshaped: cannot reshape \(shape) (\(count) elements) to \(target) (\(Tensor.elementCount(target)) elements)")
        }
        return target
    }
}

extension Shapes {
    /// Checks a concatenation of tensors of `shapes` along `axis` (negative counts from the end):
    /// at least one tensor, equal ranks, equal extents outside the axis. Returns the axis.
    public static func concatenate(_ shapes: [[Int]], axis: Int) throws(ShapeError) -> Int {
        guard let first = shapes.first else { throw ShapeError("concatenate: no tensors") }
        let axis = try Shapes.axis(axis, rank: first.count, op: "concatenate", shape: first)
        for shape in shapes where shape.count != first.count
            || shape.enumerated().contains(where: { $0.offset != axis && $0.element != first[$0.offset] }) {
            throw ShapeError("concatenate: shapes \(first) and \(shape) differ outside axis \(axis)")
        }
        return axis
    }
}
