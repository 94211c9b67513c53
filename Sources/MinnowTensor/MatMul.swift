import MinnowKernels

extension Shapes {
    /// Output shape of `matmul(a, b)`: `[..., M, K] x [..., K, N]`, batch axes equal, or `b` of rank 2 shared by the batch.
    public static func matmul(_ a: [Int], _ b: [Int]) throws(ShapeError) -> [Int] {
        guard a.count >= 2, b.count >= 2 else {
            throw ShapeError("matmul: both operands need rank >= 2, got \(a) and \(b)")
        }
        guard a[a.count - 1] == b[b.count - 2] else {
            throw ShapeError("matmul: inner dimensions differ: \(a) x \(b) (\(a[a.count - 1]) vs \(b[b.count - 2]))")
        }
        let batchA = Array(a.dropLast(2)), batchB = Array(b.dropLast(2))
        guard batchB.isEmpty || batchA == batchB else {
            throw ShapeError("matmul: batch axes differ: \(a) x \(b) (the second operand may also be rank 2)")
        }
        return batchA + [a[a.count - 2], b[b.count - 1]]
    }
}

/// Matrix product `a x b` over the last two axes (batched over leading axes), via OpenBLAS sgemm.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    matmul(a, b, transposeA: false, transposeB: false)
}

/// Matrix product with either operand transposed in its last two axes, without materializing it.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
    let viewA = transposeA ? Shapes.swapLastTwo(a.shape) : a.shape
    let viewB = transposeB ? Shapes.swapLastTwo(b.shape) : b.shape
    let outShape = checked { () throws(ShapeError) in try Shapes.matmul(viewA, viewB) }
    let m = viewA[viewA.count - 2], k = viewA[viewA.count - 1], n = viewB[viewB.count - 1]
    let batch = Tensor.elementCount(Array(viewA.dropLast(2)))
    let sharedB = b.rank == 2
    let value = a.withUnsafePointer { pa in
        b.withUnsafePointer { pb in
            Tensor(shape: outShape) { pc in
                for i in 0..<batch {
                    Gemm.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                               a: pa + i * m * k, b: pb + (sharedB ? 0 : i * k * n), c: pc + i * m * n)
                }
            }
        }
    }
    let (valueA, valueB) = (a.detached(), b.detached())
    let (needA, needB) = (a.requiresGrad, b.requiresGrad)
    return Tensor.record("matmul", value, inputs: [a, b]) { g in
        // C = op(A) op(B): dop(A) = g op(B)^T, dop(B) = op(A)^T g.
        // dop(A) = g op(B)^T; when A was transposed, dA is its transpose.
        let gradOpA: Tensor? = needA ? matmul(g, valueB, transposeA: false, transposeB: !transposeB) : nil
        let gradA = transposeA ? gradOpA?.transposed() : gradOpA
        var gradB: Tensor? = nil
        if needB {
            if sharedB && batch > 1 {
                // Fold the batch into the rows: [B*M, K]^T x [B*M, N].
                let flatA = transposeA ? valueA.transposed().reshaped([batch * m, k]) : valueA.reshaped([batch * m, k])
                let flatG = g.reshaped([batch * m, n])
                gradB = transposeB ? matmul(flatG, flatA, transposeA: true, transposeB: false)
                                   : matmul(flatA, flatG, transposeA: true, transposeB: false)
            } else {
                gradB = transposeB ? matmul(g, valueA, transposeA: true, transposeB: transposeA)
                                   : matmul(valueA, g, transposeA: !transposeA, transposeB: false)
            }
        }
        return [gradA, gradB]
    }
}

extension Shapes {
    static func swapLastTwo(_ shape: [Int]) -> [Int] {
        guard shape.count >= 2 else { return shape }
        var result = shape
        result.swapAt(shape.count - 1, shape.count - 2)
        return result
    }
}
