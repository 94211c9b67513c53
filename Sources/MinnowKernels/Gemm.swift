import CBLAS

/// Single-precision GEMM on row-major matrices, `C = alpha * op(A) * op(B) + beta * C`,
/// split over `ThreadPool.shared` with each chunk calling single-threaded OpenBLAS.
///
/// The split follows the shape: rows of C when M is large, columns when N is large, and
/// otherwise the reduction dimension K (each thread accumulates a partial C, summed at the end),
/// which is the shape of a weight gradient (`K x N` output, a long reduction over the batch).
public enum Gemm {
    /// OpenBLAS runs single-threaded: the pool owns the cores. Called once, lazily.
    private static let configured: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// The kernel family OpenBLAS chose for this CPU at start-up (`Haswell`, `Zen`, `SkylakeX`, …;
    /// the `OPENBLAS_CORETYPE` environment variable overrides the choice). Families add a product's
    /// terms in different orders, so float results can differ in their last bits between them.
    public static var openBLASCore: String { String(cString: openblas_get_corename()) }

    /// Work below this many multiply-adds runs on one thread (splitting costs more than it saves).
    static let parallelThreshold = 1 << 18

    /// `C[M,N] = alpha * op(A) * op(B) + beta * C`. `A` is `M x K` (or `K x M` when `transposeA`),
    /// `B` is `K x N` (or `N x K` when `transposeB`), all row-major and contiguous.
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        beta: Float = 0, c: UnsafeMutablePointer<Float>
    ) {
        _ = configured
        let pool = ThreadPool.shared
        let threads = pool.threadCount
        if threads == 1 || m * n * k < parallelThreshold {
            call(transposeA, transposeB, m, n, k, alpha, a, b, beta, c, ldc: n)
            return
        }
        let lda = transposeA ? m : k
        let ldb = transposeB ? k : n
        if m >= 8 * threads && m >= n {
            // Rows of C: each chunk takes a band of A's rows.
            pool.parallelFor(range: m, grain: max(8, m / threads)) { rows in
                let aStart = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
                callStrided(transposeA, transposeB, rows.count, n, k, alpha, aStart, lda, b, ldb,
                            beta, c + rows.lowerBound * n, n)
            }
        } else if n >= 8 * threads {
            pool.parallelFor(range: n, grain: max(8, n / threads)) { cols in
                let bStart = transposeB ? b + cols.lowerBound * ldb : b + cols.lowerBound
                callStrided(transposeA, transposeB, m, cols.count, k, alpha, a, lda, bStart, ldb,
                            beta, c + cols.lowerBound, n)
            }
        } else {
            splitReduction(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c)
        }
    }

    private static func splitReduction(
        _ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>
    ) {
        let parts = ThreadPool.shared.threadCount
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: m * n * (parts - 1))
        defer { partials.deallocate() }
        ThreadPool.shared.parallelFor(chunks: parts) { part in
            let start = k * part / parts
            let end = k * (part + 1) / parts
            let aStart = ta ? a + start * lda : a + start
            let bStart = tb ? b + start : b + start * ldb
            let out = part == 0 ? c : partials + (part - 1) * m * n
            callStrided(ta, tb, m, n, end - start, alpha, aStart, lda, bStart, ldb,
                        part == 0 ? beta : 0, out, n)
        }
        for part in 1..<parts {
            let source = partials + (part - 1) * m * n
            for i in 0..<(m * n) { c[i] += source[i] }
        }
    }

    @inline(__always)
    private static func call(
        _ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        callStrided(ta, tb, m, n, k, alpha, a, ta ? m : k, b, tb ? k : n, beta, c, ldc)
    }

    @inline(__always)
    private static func callStrided(
        _ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            return
        }
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }

    /// Raw OpenBLAS with its own threads (`threads`), for benchmarking the wrapper against it.
    public static func rawOpenBLAS(
        threads: Int, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
    ) {
        openblas_set_num_threads(Int32(threads))
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(k), b, Int32(n), 0, c, Int32(n))
        openblas_set_num_threads(1)
    }
}
