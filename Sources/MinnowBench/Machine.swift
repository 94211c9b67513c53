import CBuildInfo
import Foundation
import MinnowKernels
import MinnowRuntime
import MinnowTensor

/// Where a benchmark ran, written beside every number it reports (a ratio means nothing without
/// its machine): the CPU, its vector features, what the build targeted, the fp32 convolutions'
/// register tiles, OpenBLAS's kernel family, the runtime's kernel level and the threads.
public struct Machine: Codable, Sendable, CustomStringConvertible {
    /// The CPU's model name (`/proc/cpuinfo`), or "unknown".
    public let cpu: String
    /// The vector features the CPU reports of those Minnow's kernels choose between.
    public let cpuFeatures: [String]
    /// `MINNOW_TARGET_CPU` of the build and the widest vector instruction set its code may use.
    public let buildTarget: String, buildVectorISA: String
    /// The register tiles of the fp32 direct convolutions this build uses (`RegisterTiles.forThisBuild`).
    public let convolutionTiles: String
    /// The kernel family OpenBLAS runs here (`Gemm.openBLASCore`: `Haswell`, `Zen`, `SkylakeX`, or
    /// `Prescott` on a CPU it does not know): the linear layers' and `bench gemm`'s speed and bits.
    public let openBLASCore: String
    /// The int8 runtime's kernel level `fastest` picks on this CPU.
    public let runtimeKernels: String
    /// Threads of the fp32 kernels (`MINNOW_NUM_THREADS`, else the cores).
    public let threads: Int

    /// This machine and build.
    public static var current: Machine {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let lines = info.split(separator: "\n")
        func field(_ name: String) -> String? {
            lines.first { $0.hasPrefix(name) }.flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let flags = Set((field("flags") ?? field("Features") ?? "").split(separator: " ").map(String.init))
        return Machine(cpu: field("model name") ?? field("CPU part").map { "ARM part \($0)" } ?? "unknown",
                       cpuFeatures: ["avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "asimd", "asimddp"].filter(flags.contains),
                       buildTarget: String(cString: mnw_build_target_cpu()), buildVectorISA: String(cString: mnw_build_vector_isa()),
                       convolutionTiles: RegisterTiles.forThisBuild.rawValue, openBLASCore: Gemm.openBLASCore,
                       runtimeKernels: KernelChoice.detected, threads: Threads.count)
    }

    public var description: String {
        "machine: \(cpu) [\(cpuFeatures.joined(separator: " "))]; build for \(buildTarget) (\(buildVectorISA)); fp32 tiles \(convolutionTiles); OpenBLAS \(openBLASCore); int8 kernels \(runtimeKernels); \(threads) threads"
    }
}

/// A benchmark's numbers with the machine they were measured on, as `--json` writes them.
public struct BenchRecord<Results: Encodable>: Encodable {
    public let machine: Machine
    /// The peers' versions, where a peer ran (name → version).
    public let peers: [String: String]
    public let results: Results

    public init(_ results: Results, peers: [String: String] = [:], machine: Machine = .current) {
        (self.machine, self.peers, self.results) = (machine, peers, results)
    }
}
