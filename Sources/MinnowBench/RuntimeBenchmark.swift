import CAllocationCounter
import MinnowRuntime

/// The int8 runtime on one model file: batch-1 latency percentiles, sequential throughput,
/// sizes, MACs, heap allocations per inference, and an energy estimate.
public struct RuntimeTiming: Codable, Sendable {
    public let runs: Int
    /// Milliseconds per inference: 50th, 90th and 99th percentiles over `runs` timed inferences.
    public let p50: Double, p90: Double, p99: Double
    /// Images per second classifying `batch` images one after another, one thread.
    public let imagesPerSecond: Double
    public let batch: Int
    public let modelBytes: Int, arenaBytes: Int, multiplyAccumulates: Int
    /// Heap allocations per inference (counted by CAllocationCounter); nil where not countable.
    public let allocationsPerInference: Double?
    public let energy: EnergyEstimate
}

/// An estimate of the energy of one inference from operation counts and memory traffic, with the
/// 45 nm per-operation energies of Horowitz 2014 ("Computing's energy problem", ISSCC): an 8-bit
/// multiply 0.2 pJ, a 32-bit add 0.1 pJ (the accumulation), reading 64 bits from a 32 KB SRAM
/// 20 pJ (activations, per byte 2.5 pJ) and from a 1 MB SRAM 100 pJ (weights, per byte 12.5 pJ).
/// `picojoules = MACs * 0.3 + activationBytes * 2.5 + weightBytes * 12.5`. An estimate: no
/// caches, no instruction overhead, no static power.
public struct EnergyEstimate: Codable, Sendable {
    public let arithmeticPicojoules: Double, activationPicojoules: Double, weightPicojoules: Double
    public var totalMicrojoules: Double { (arithmeticPicojoules + activationPicojoules + weightPicojoules) / 1e6 }

    public init(model: RuntimeModel) {
        var activationBytes = 0, weightBytes = 0
        for entry in model.operators {
            let (reads, writes) = entry.tensors
            for tensor in (reads + writes).map({ model.tensors[$0] }) {
                if tensor.storage == .arena { activationBytes += tensor.byteLength } else { weightBytes += tensor.byteLength }
            }
        }
        arithmeticPicojoules = Double(model.multiplyAccumulates) * 0.3
        activationPicojoules = Double(activationBytes) * 2.5
        weightPicojoules = Double(weightBytes) * 12.5
    }
}

/// Times `bytes` (a `.mnw` file) in the runtime: `warmup` untimed inferences, then `runs` timed
/// one by one; then `batch` images in a row for throughput. Inputs are fixed pseudo-random codes.
public func benchmarkRuntime(_ bytes: [UInt8], runs: Int, warmup: Int, batch: Int, kernels: KernelChoice = .fastest) throws -> RuntimeTiming {
    try bytes.withUnsafeBytes { raw in
        let model = try RuntimeModel(bytes: raw)
        let interpreter = try Interpreter(model: model, kernels: kernels)
        var state: UInt32 = 12345
        for i in 0..<interpreter.input.count {
            state = state &* 1_103_515_245 &+ 12345
            interpreter.input[i] = Int8(truncatingIfNeeded: state >> 16)
        }
        for _ in 0..<warmup { interpreter.invoke() }
        let clock = ContinuousClock()
        var samples: [Double] = []
        samples.reserveCapacity(runs)
        let allocationsBefore = minnow_allocation_count()
        for _ in 0..<runs {
            let start = clock.now
            interpreter.invoke()
            samples.append(milliseconds(clock.now - start))
        }
        let allocations = minnow_allocation_count() - allocationsBefore
        let start = clock.now
        for _ in 0..<batch { interpreter.invoke() }
        let batchSeconds = milliseconds(clock.now - start) / 1000
        samples.sort()
        func percentile(_ p: Double) -> Double { samples[min(samples.count - 1, Int((p * Double(samples.count)).rounded(.down)))] }
        return RuntimeTiming(runs: runs, p50: percentile(0.5), p90: percentile(0.9), p99: percentile(0.99),
                             imagesPerSecond: Double(batch) / batchSeconds, batch: batch, modelBytes: bytes.count, arenaBytes: model.arenaSize,
                             multiplyAccumulates: model.multiplyAccumulates,
                             allocationsPerInference: minnow_allocation_counting() == 1 ? Double(allocations) / Double(runs) : nil,
                             energy: EnergyEstimate(model: model))
    }
}

private func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) * 1e-15
}

/// One operator's share of an inference (`profileRuntime`).
public struct OperatorTiming: Codable, Sendable {
    public let index: Int
    /// The operator and its output shape, e.g. "convolution 3x3/2 dw -> 14x14x48".
    public let description: String
    public let multiplyAccumulates: Int
    /// The median over the runs, in microseconds.
    public let microseconds: Double
}

/// Times each operator of `bytes` (a `.mnw` file) alone, `runs` times after `warmup` inferences
/// (the median per operator), as TFLite's `benchmark_model --enable_op_profiling` does.
public func profileRuntime(_ bytes: [UInt8], runs: Int, warmup: Int, kernels: KernelChoice = .fastest) throws -> [OperatorTiming] {
    try bytes.withUnsafeBytes { raw in
        let model = try RuntimeModel(bytes: raw)
        let interpreter = try Interpreter(model: model, kernels: kernels)
        for _ in 0..<warmup { interpreter.invoke() }
        let clock = ContinuousClock()
        var samples = [[Double]](repeating: [], count: model.operators.count)
        for _ in 0..<runs {
            for index in model.operators.indices {
                let start = clock.now
                interpreter.invoke(operator: index)
                samples[index].append(milliseconds(clock.now - start) * 1000)
            }
        }
        return model.operations.enumerated().map { index, op in
            let sorted = samples[index].sorted()
            let (description, macs) = op.summary(model)
            return OperatorTiming(index: index, description: description, multiplyAccumulates: macs, microseconds: sorted[sorted.count / 2])
        }
    }
}
