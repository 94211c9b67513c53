import MinnowKernels
import MinnowTensor

/// GFLOP/s of Minnow's GEMM wrapper (pool-split, single-threaded OpenBLAS per chunk) and of raw
/// OpenBLAS with its own threads, on the same `n x n x n` problem.
public struct GemmTiming: Codable, Sendable {
    public let size: Int
    public let wrapperGFLOPS: TimingStats
    public let rawOpenBLAS1ThreadGFLOPS: TimingStats
    public let rawOpenBLAS2ThreadsGFLOPS: TimingStats
}

/// Times `n x n x n` sgemm through `Gemm.sgemm` and through raw `cblas_sgemm` with 1 and 2 threads.
public func benchmarkGemm(size n: Int, iterations: Int, repeats: Int) -> GemmTiming {
    var generator = SeededGenerator(seed: 1)
    let a = Tensor.randomNormal([n, n], generator: &generator)
    let b = Tensor.randomNormal([n, n], generator: &generator)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    defer { c.deallocate() }
    let flop = 2 * Double(n) * Double(n) * Double(n)
    func gflops(_ stats: TimingStats) -> TimingStats {
        // Fastest call gives the most GFLOP/s: min and max swap.
        TimingStats([flop / stats.median / 1e6, flop / stats.min / 1e6, flop / stats.max / 1e6])
    }
    return a.withUnsafePointer { pa in
        b.withUnsafePointer { pb in
            let wrapper = measure(iterations: iterations, repeats: repeats) {
                Gemm.sgemm(transposeA: false, transposeB: false, m: n, n: n, k: n, a: pa, b: pb, c: c)
            }
            let raw1 = measure(iterations: iterations, repeats: repeats) {
                Gemm.rawOpenBLAS(threads: 1, m: n, n: n, k: n, a: pa, b: pb, c: c)
            }
            let raw2 = measure(iterations: iterations, repeats: repeats) {
                Gemm.rawOpenBLAS(threads: 2, m: n, n: n, k: n, a: pa, b: pb, c: c)
            }
            return GemmTiming(size: n, wrapperGFLOPS: gflops(wrapper), rawOpenBLAS1ThreadGFLOPS: gflops(raw1),
                              rawOpenBLAS2ThreadsGFLOPS: gflops(raw2))
        }
    }
}
