import Foundation
import MinnowRuntime
import MinnowTensor

/// `value` with `digits` decimals, as the benchmark tables print numbers.
public func format(_ value: Double, _ digits: Int = 3) -> String {
    String(format: "%.\(digits)f", value)
}

/// `count` of `total` as a percentage with two decimals.
public func percent(_ count: Int, _ total: Int) -> String {
    String(format: "%.2f%%", 100 * Double(count) / Double(max(total, 1)))
}

extension PeerRunner {
    /// The peer runner of the scripts in `scripts` (else `MINNOW_PEERS_DIR`: the peers are not part
    /// of this repository, so there is no default) run by `python` (else `$PEERS_VENV/bin/python`,
    /// else `~/.cache/minnow-peers-venv/bin/python`).
    public static func configured(python: String?, scripts: String?) throws -> PeerRunner {
        let environment = ProcessInfo.processInfo.environment
        guard let scripts = scripts ?? environment["MINNOW_PEERS_DIR"] else {
            throw Failure(description: "the peer scripts' folder is not set: give --peers-dir DIR or set MINNOW_PEERS_DIR (or --no-peer to measure Minnow alone)")
        }
        let python = python ?? environment["PEERS_VENV"].map { $0 + "/bin/python" } ?? (NSHomeDirectory() + "/.cache/minnow-peers-venv/bin/python")
        return PeerRunner(python: python, scriptsDirectory: scripts)
    }

    /// The Python of the LiteRT venv: `python`, else `$PEERS_LITERT_VENV/bin/python`, else
    /// `~/.cache/minnow-peers-litert-venv/bin/python`.
    public static func liteRTPython(_ python: String?) -> String {
        python ?? ProcessInfo.processInfo.environment["PEERS_LITERT_VENV"].map { $0 + "/bin/python" }
            ?? (NSHomeDirectory() + "/.cache/minnow-peers-litert-venv/bin/python")
    }
}

extension PeerRunner {
    /// ONNX Runtime's, then LiteRT's (when a venv is at `liteRTPython(litertPython)`) int8 and fp32
    /// batch-1 latency of the peers' `model` beside Minnow's `minnowP50`: the report lines and the
    /// versions measured.
    public func runtimeComparison(model: String, litertPython: String?, minnowP50: Double) throws -> (lines: [String], versions: [String: String]) {
        let ort = try onnxRuntimeLatency(model: model, calls: 300, repeats: 3)
        var lines = [BenchReport.peerRuntime("ONNX Runtime", version: ort.version, model: model, int8: ort.int8, fp32: ort.fp32, minnowP50: minnowP50)]
        var versions = ["onnxruntime": ort.version]
        let litert = Self.liteRTPython(litertPython)
        guard FileManager.default.isExecutableFile(atPath: litert) else {
            return (lines + ["LiteRT: no venv at \(litert) (shared/peers/setup-litert.sh makes one); not measured"], versions)
        }
        let lite = try PeerRunner(python: litert, scriptsDirectory: scriptsDirectory).liteRTLatency(model: model, calls: 300, repeats: 3)
        versions["ai_edge_litert"] = lite.version
        lines.append(BenchReport.peerRuntime("LiteRT", version: lite.version + " (XNNPACK)", model: model, int8: lite.int8, fp32: lite.fp32, minnowP50: minnowP50))
        return (lines, versions)
    }
}

/// The tables `minnow bench` prints: each takes Minnow's timings and the peer's (absent: "-").
public enum BenchReport {
    /// conv2d forward and forward+backward per shape; ratio = PyTorch time / Minnow time.
    public static func convolutions(_ shapes: [ConvShape], _ timings: [ConvTiming], peer: [String: (forward: Double, forwardBackward: Double)],
                                    iterations: Int, repeats: Int) -> String {
        let rows = zip(shapes, timings).map { shape, timing -> [String] in
            let p = peer[shape.description]
            return [shape.description, format(shape.forwardFLOP / 1e6, 1),
                    format(timing.forward.median), p.map { format($0.forward) } ?? "-", p.map { format($0.forward / timing.forward.median, 2) } ?? "-",
                    format(timing.forwardBackward.median), p.map { format($0.forwardBackward) } ?? "-",
                    p.map { format($0.forwardBackward / timing.forwardBackward.median, 2) } ?? "-",
                    format(shape.forwardFLOP / timing.forward.median / 1e6, 1)]
        }
        return "conv2d, batch as given, ms per call (median of \(repeats) runs x \(iterations) calls); ratio = PyTorch time / Minnow time (> 1: Minnow faster)\n"
            + formatTable(["N,H,W,Cin,Cout,k,s,g", "MFLOP", "fwd", "torch fwd", "ratio", "fwd+bwd", "torch fwd+bwd", "ratio", "fwd GFLOP/s"], rows)
    }

    /// sgemm GFLOP/s through Minnow's wrapper and raw OpenBLAS.
    public static func gemm(_ timings: [GemmTiming], iterations: Int, repeats: Int) -> String {
        let rows = timings.map { t in
            ["\(t.size)", format(t.wrapperGFLOPS.median, 1), format(t.rawOpenBLAS1ThreadGFLOPS.median, 1), format(t.rawOpenBLAS2ThreadsGFLOPS.median, 1),
             format(t.wrapperGFLOPS.median / t.rawOpenBLAS2ThreadsGFLOPS.median, 2)]
        }
        return "sgemm GFLOP/s (median of \(repeats) runs x \(iterations) calls); ratio = wrapper / raw OpenBLAS with 2 threads\n"
            + formatTable(["n", "Minnow wrapper", "OpenBLAS 1 thr", "OpenBLAS 2 thr", "ratio"], rows)
    }

    /// Training images per second per model; ratio = Minnow / PyTorch.
    public static func training(_ timings: [TrainTiming], peer: [String: Double], batch: Int) -> String {
        let rows = timings.map { t -> [String] in
            let p = peer[t.model]
            return [t.model, format(t.imagesPerSecond.median, 1), "\(format(t.imagesPerSecond.min, 1))-\(format(t.imagesPerSecond.max, 1))",
                    p.map { format($0, 1) } ?? "-", p.map { format(t.imagesPerSecond.median / $0, 2) } ?? "-"]
        }
        return "Training img/s, batch \(batch), SGD momentum 0.9, cross-entropy, both cores; ratio = Minnow / PyTorch (> 1: Minnow faster)\n"
            + formatTable(["model", "Minnow img/s", "min-max", "PyTorch img/s", "ratio"], rows)
    }

    /// A student's step: plain, KD with cached logits, KD with the teacher online.
    public static func distillation(_ t: DistillTiming, steps: Int, repeats: Int) -> String {
        let plain = t.plainMs.median
        let rows = [("plain (cross-entropy)", t.plainMs), ("KD, cached teacher logits", t.cachedKDMs), ("KD, teacher online", t.onlineKDMs)].map { name, stats in
            [name, format(stats.median, 1), "\(format(stats.min, 1))-\(format(stats.max, 1))", format(stats.median / plain, 2)]
        }
        return "\(t.student) training step, batch \(t.batch), teacher \(t.teacher); median of \(repeats) epochs x \(steps) steps; ratio = time / plain time\n"
            + formatTable(["variant", "ms/step", "min-max", "ratio"], rows)
            + "\ncache fill (one teacher pass over \(t.cachedImages) images): \(format(t.cachePassSeconds, 2)) s"
    }

    /// fp32 and QAT step times and their ratio, Minnow's and the peer's.
    public static func qat(_ t: QATTiming, peer: PeerRunner.QATStepResult?, steps: Int, repeats: Int) -> String {
        var rows = [["Minnow", format(t.floatMs.median, 1), format(t.qatMs.median, 1), format(t.ratio, 2)]]
        if let peer { rows.append(["PyTorch \(peer.torch)", format(peer.fp32Ms, 1), format(peer.qatMs, 1), format(peer.ratio, 2)]) }
        return "\(t.model) training step, batch \(t.batch), \(t.method); median of \(repeats) runs x \(steps) steps; ratio = QAT / fp32\n"
            + formatTable(["", "fp32 ms/step", "QAT ms/step", "ratio"], rows)
    }

    /// Checkpoints side by side; x = time / the first model's time.
    public static func models(_ timings: [ModelTiming], repeats: Int) -> String {
        guard let reference = timings.first else { return "" }
        let batch = reference.inferenceBatch
        return "fp32, \(Threads.count) threads; median of \(repeats) repeats; x = time / first model's time\n"
            + formatTable(["checkpoint", "MACs", "params", "b1 ms", "x", "b\(batch) img/s", "x", "train ms", "x"], timings.map { t in
                [t.name, "\(t.macs)", "\(t.parameters)", format(t.latencyMs.median), format(t.latencyMs.median / reference.latencyMs.median, 2),
                 format(Double(batch) * 1000 / t.batchMs.median, 0), format(t.batchMs.median / reference.batchMs.median, 2),
                 format(t.trainStepMs.median, 1), format(t.trainStepMs.median / reference.trainStepMs.median, 2)]
            })
    }

    /// The runtime's latency, throughput, sizes, allocations and estimated energy.
    public static func runtime(_ t: RuntimeTiming, model: String, warmup: Int, kernels: String) -> String {
        "\(model): Minnow int8 runtime, 1 thread, \(t.runs) inferences after \(warmup), \(kernels) kernels\n"
            + formatTable(["measure", "value"], [
                ["latency p50 / p90 / p99 (ms)", "\(format(t.p50, 4)) / \(format(t.p90, 4)) / \(format(t.p99, 4))"],
                ["throughput, \(t.batch) in a row (img/s)", format(t.imagesPerSecond, 0)],
                ["model file (bytes)", "\(t.modelBytes)"], ["arena (bytes)", "\(t.arenaBytes)"], ["MACs", "\(t.multiplyAccumulates)"],
                ["heap allocations per inference", t.allocationsPerInference.map { format($0, 2) } ?? "not countable here"],
                ["energy per inference, ESTIMATE (uJ)", format(t.energy.totalMicrojoules, 2)],
            ])
            + "\nenergy estimate = MACs x 0.3 pJ + activation bytes x 2.5 pJ + weight bytes x 12.5 pJ (Horowitz 2014, 45 nm)"
    }

    /// Each operator's median time, MACs and share of the sum, slowest first.
    public static func operators(_ timings: [OperatorTiming], runs: Int) -> String {
        let total = timings.reduce(0) { $0 + $1.microseconds }
        return "per operator (median of \(runs) runs each; sum \(format(total, 1)) us):\n"
            + formatTable(["#", "operator", "MACs", "us", "share", "GMAC/s"], timings.sorted { $0.microseconds > $1.microseconds }.map { t in
                [String(t.index), t.description, String(t.multiplyAccumulates), format(t.microseconds, 2), format(100 * t.microseconds / total, 1) + "%",
                 t.multiplyAccumulates == 0 ? "-" : format(Double(t.multiplyAccumulates) / t.microseconds / 1000, 1)]
            })
    }

    /// One peer runtime's batch-1 latency beside Minnow's p50.
    public static func peerRuntime(_ name: String, version: String, model: String, int8: Double, fp32: Double, minnowP50: Double) -> String {
        "\(name) \(version), \(model), batch 1, 1 thread: int8 \(format(int8, 4)) ms, fp32 \(format(fp32, 4)) ms; Minnow p50 / \(name) int8 = \(format(minnowP50 / int8, 2))x"
    }
}
