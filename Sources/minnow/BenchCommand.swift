import ArgumentParser
import Foundation
import MinnowBench
import MinnowCheckpoint
import MinnowModels
import MinnowNN
import MinnowOptions
import MinnowQuantization
import MinnowRuntime
import MinnowTraining

/// `--json`: where a benchmark also writes its numbers.
struct JSONOutput: ParsableArguments {
    @Option(help: "Also write the results as JSON to this file.") var json: String?

    /// Writes `value` with the machine it was measured on and the peers' versions (`BenchRecord`).
    func write<T: Encodable>(_ value: T, peers: [String: String] = [:]) throws {
        guard let json else { return }
        try JSONFile.write(BenchRecord(value, peers: peers), to: URL(fileURLWithPath: json))
        print("wrote \(json)")
    }
}

/// Options shared by the benchmarks that compare against a peer.
struct PeerOptions: ParsableArguments {
    @Option(help: "Python of the peers' venv (made by shared/peers/setup.sh). Default: $PEERS_VENV/bin/python or ~/.cache/minnow-peers-venv/bin/python.")
    var peerPython: String?
    @Option(help: "Folder with the peer scripts (bench_ops.py, bench_train.py, ...). Default: $MINNOW_PEERS_DIR.")
    var peersDir: String?
    @Flag(help: "Measure Minnow only, without running the peer.") var noPeer = false
    @OptionGroup var output: JSONOutput

    /// The peer runner (`PeerRunner.configured`), or nil with --no-peer.
    func runner() throws -> PeerRunner? {
        noPeer ? nil : try PeerRunner.configured(python: peerPython, scripts: peersDir)
    }
}

/// Calls per timed run and timed runs: the kernel benchmarks' timing.
struct CallTiming: ParsableArguments {
    @Option(help: "Calls per timed run (at most 100000).") var iterations = 10
    @Option(help: "Timed runs; the median is reported (at most 1000).") var repeats = 5

    func validate() throws {
        try OptionCheck.within("--iterations", iterations, 1...100_000)
        try OptionCheck.within("--repeats", repeats, 1...1000)
    }
}

/// Batch, steps per timed run and timed runs: the training-step benchmarks' timing.
struct StepTiming: ParsableArguments {
    @Option(help: "Batch size (at most 4096).") var batch = 128
    @Option(help: "Steps per timed run (at most 10000).") var steps = 10
    @Option(help: "Timed runs; the median is reported (at most 1000).") var repeats = 3

    func validate() throws {
        try OptionCheck.within("--batch", batch, 1...4096)
        try OptionCheck.within("--steps", steps, 1...10_000)
        try OptionCheck.within("--repeats", repeats, 1...1000)
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark Minnow's kernels and training steps against PyTorch, in one run.",
        discussion: """
            Build in release mode first (swift build -c release). Each benchmark times Minnow, then \
            runs the same work in the peer (PyTorch, through shared/peers) right after, and prints \
            the ratio.

            Check that /proc/loadavg shows an idle machine: timings on a busy 2-core machine are \
            not comparable.
            """,
        subcommands: [Ops.self, GemmCommand.self, TrainThroughput.self, DistillThroughput.self, QATStep.self, Models.self, RuntimeModelBench.self])

    struct Ops: MinnowCommand {
        static let configuration = CommandConfiguration(
            abstract: "conv2d forward and forward+backward (3x3, 1x1, depthwise) on MobileNet-like shapes.",
            usage: "minnow bench ops [--shapes <shape> ...] [<options>]")

        @Option(parsing: .upToNextOption, help: "Shapes as N,H,W,Cin,Cout,k,stride,groups (groups == Cin is depthwise).")
        var shapes: [String] = ConvShape.mobileNetSet.map(\.description)
        @OptionGroup var timing: CallTiming
        @OptionGroup var peer: PeerOptions

        func validate() throws {
            for text in shapes where ConvShape(text) == nil {
                throw ValidationError("--shapes: invalid shape '\(text)': expected 8 integers N,H,W,Cin,Cout,k,stride,groups in 1...65536, groups dividing Cin and Cout, tensors of at most 2^28 elements")
            }
        }

        func execute() throws {
            print(Machine.current)
            let parsed = shapes.compactMap(ConvShape.init), (iterations, repeats) = (timing.iterations, timing.repeats)
            let minnow = parsed.map { shape in
                let t = benchmarkConv(shape, iterations: iterations, repeats: repeats)
                print("  minnow \(shape): fwd \(format(t.forward.median)) ms, fwd+bwd \(format(t.forwardBackward.median)) ms")
                return t
            }
            let torch = try peer.runner()?.convTimes(shapes: shapes, iterations: iterations, repeats: repeats)
            print("\n" + BenchReport.convolutions(parsed, minnow, peer: torch?.times ?? [:], iterations: iterations, repeats: repeats))
            try peer.output.write(minnow, peers: torch.map { ["torch": $0.version] } ?? [:])
        }
    }

    struct GemmCommand: MinnowCommand {
        static let configuration = CommandConfiguration(
            commandName: "gemm", abstract: "sgemm through Minnow's wrapper vs raw OpenBLAS (1 and 2 threads).",
            usage: "minnow bench gemm [--sizes <n> ...] [<options>]")

        @Option(parsing: .upToNextOption, help: "Square sizes n (n x n x n).") var sizes: [Int] = [256, 512, 1024]
        @OptionGroup var timing: CallTiming
        @OptionGroup var output: JSONOutput

        func validate() throws {
            guard !sizes.isEmpty else { throw ValidationError("--sizes needs at least one size") }
            for size in sizes { try OptionCheck.within("--sizes", size, 1...8192) }
        }

        func execute() throws {
            print(Machine.current)
            let results = sizes.map { benchmarkGemm(size: $0, iterations: timing.iterations, repeats: timing.repeats) }
            print(BenchReport.gemm(results, iterations: timing.iterations, repeats: timing.repeats))
            try output.write(results)
        }
    }

    struct TrainThroughput: MinnowCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Training throughput (images/s) of the reference models, Minnow vs PyTorch.",
            usage: "minnow bench train [--models <preset> ...] [<options>]")

        @Option(parsing: .upToNextOption, help: "Presets: \(ModelConfig.presetNames.joined(separator: ", ")).")
        var models: [String] = ModelConfig.presetNames
        @OptionGroup var timing: StepTiming
        @OptionGroup var peer: PeerOptions

        func validate() throws {
            for name in models { try OptionCheck.preset("--models", name) }
        }

        func execute() throws {
            print(Machine.current)
            let (batch, steps, repeats) = (timing.batch, timing.steps, timing.repeats)
            let results = try models.map { name in
                let t = try benchmarkTraining(ModelConfig.preset(name)!, name: name, batch: batch, steps: steps, repeats: repeats)
                print("  minnow \(name): \(format(t.imagesPerSecond.median, 1)) img/s")
                return t
            }
            let torch = try peer.runner()?.trainingRates(models: models, batch: batch, steps: steps, repeats: repeats)
            print("\n" + BenchReport.training(results, peer: torch?.rates ?? [:], batch: batch))
            try peer.output.write(results, peers: torch.map { ["torch": $0.version] } ?? [:])
        }
    }
}

extension Bench {
    struct DistillThroughput: MinnowCommand {
        static let configuration = CommandConfiguration(
            commandName: "distill",
            abstract: "Step time of a student: plain training vs KD with cached teacher logits vs KD with the teacher online.",
            usage: "minnow bench distill [<options>]",
            discussion: "Minnow only (no peer); the variants alternate. The cached KD step should cost at most 1.2x the plain step.")

        @Option(help: "Student preset.") var student = "student_mbv2"
        @Option(help: "Teacher preset (random weights: the time does not depend on them).") var teacher = "teacher"
        @OptionGroup var timing: StepTiming
        @OptionGroup var output: JSONOutput

        func validate() throws {
            try OptionCheck.preset("--student", student)
            try OptionCheck.preset("--teacher", teacher)
        }

        func execute() throws {
            print(Machine.current)
            let cacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-bench-distill-\(getpid())")
            defer { try? FileManager.default.removeItem(at: cacheDirectory) }
            let result = try benchmarkDistillation(
                student: ModelConfig.preset(student)!, studentName: student, teacher: ModelConfig.preset(teacher)!,
                teacherName: teacher, batch: timing.batch, steps: timing.steps, repeats: timing.repeats, cacheDirectory: cacheDirectory)
            print(BenchReport.distillation(result, steps: timing.steps, repeats: timing.repeats))
            try output.write(result)
        }
    }
}

extension Bench {
    struct QATStep: MinnowCommand {
        static let configuration = CommandConfiguration(
            commandName: "qat",
            abstract: "Cost of a QAT training step against the fp32 step of the same model, beside PyTorch's.",
            usage: "minnow bench qat [--model <preset>] [<options>]",
            discussion: """
                Times fp32 and QAT training steps of one model in alternating runs (batch norms \
                folded with batch statistics, observers moving: the costliest QAT phase), then \
                runs Benchmarks/qat_step_pytorch.py (PyTorch's FX-mode QAT with the fbgemm \
                qconfig, run eagerly) in the peers' venv for the same ratio.
                """)

        @Option(help: "Preset.") var model = "student_mbv2"
        @Option(help: "observers or lsq.") var method: QuantizationScheme.Method = .observers
        @OptionGroup var timing: StepTiming
        @Option(help: "The PyTorch QAT script.") var peerScript = "Benchmarks/qat_step_pytorch.py"
        @OptionGroup var peer: PeerOptions

        func validate() throws {
            try OptionCheck.preset("--model", model)
        }

        func execute() throws {
            print(Machine.current)
            let (batch, steps, repeats) = (timing.batch, timing.steps, timing.repeats)
            let result = try benchmarkQAT(ModelConfig.preset(model)!, name: model, method: method, batch: batch, steps: steps, repeats: repeats)
            let peerResult = try peer.runner()?.qatStep(script: peerScript, model: model, batch: batch, steps: steps, repeats: repeats)
            print(BenchReport.qat(result, peer: peerResult, steps: steps, repeats: repeats))
            try peer.output.write(result, peers: peerResult.map { ["torch": $0.torch] } ?? [:])
        }
    }
}

extension Bench {
    struct Models: MinnowCommand {
        static let configuration = CommandConfiguration(
            commandName: "models",
            abstract: "fp32 inference and training speed of checkpoints side by side (pruned ones).",
            usage: "minnow bench models <checkpoint> <checkpoint> ... [<options>]",
            discussion: """
                Times each checkpoint's float model in turn within every repeat: batch-1 \
                latency, batch throughput and a training step, with MACs and parameters; ratios \
                are to the first checkpoint (the unpruned model). Weights do not matter for \
                speed; the pruned models' channel counts do. See docs/pruning.md.
                """)

        @Argument(help: "Checkpoints (.h5) to compare; the first is the reference.") var checkpoints: [String]
        @Option(help: "Inference batch for the throughput column (at most 4096).") var inferenceBatch = 256
        @Option(help: "Training batch (at most 4096).") var trainBatch = 128
        @Option(help: "Repeats, each timing every model once (at most 1000).") var repeats = 5
        @OptionGroup var output: JSONOutput

        func validate() throws {
            guard !checkpoints.isEmpty else { throw ValidationError("give at least one checkpoint") }
            try OptionCheck.within("--inference-batch", inferenceBatch, 1...4096)
            try OptionCheck.within("--train-batch", trainBatch, 1...4096)
            try OptionCheck.within("--repeats", repeats, 1...1000)
        }

        func execute() throws {
            print(Machine.current)
            let models = try checkpoints.map { path -> (name: String, model: any Layer, inputShape: [Int], classes: Int) in
                let (model, config) = try ModelCheckpoint.loadModel(from: URL(fileURLWithPath: path))
                return (path, model, config.inputShape, config.classes)
            }
            let timings = try benchmarkModels(models, inferenceBatch: inferenceBatch, trainBatch: trainBatch, repeats: repeats)
            print(BenchReport.models(timings, repeats: repeats))
            try output.write(timings)
        }
    }
}

extension Bench {
    struct RuntimeModelBench: MinnowCommand {
        static let configuration = CommandConfiguration(
            commandName: "model",
            abstract: "The int8 runtime on a .mnw file: latency, throughput, sizes, allocations, energy; ONNX Runtime beside it.",
            usage: "minnow bench model <model.mnw> [--peer-model <preset>] [<options>]",
            discussion: """
                Times --runs batch-1 inferences one by one after --warmup (p50/p90/p99), then \
                --batch images in a row (throughput, one thread); counts heap allocations during \
                the timed inferences; estimates the energy per inference from MACs and bytes \
                moved (Horowitz 2014, labelled as an estimate). Then, in the same run, times ONNX \
                Runtime's int8 (QDQ) and fp32 batch-1 latency of --peer-model on one thread \
                (shared/peers/export_onnx.py). See docs/runtime.md.
                """)

        @Argument(help: "A model file (.mnw) from minnow export.") var model: String
        @OptionGroup var timing: RuntimeTimingOptions
        @Flag(help: "Also time each operator alone (median of --runs) and list them, slowest first.") var operators = false
        @Option(help: "The peers' preset of the same architecture (student_mbv2, student_squeeze, teacher).") var peerModel: String?
        @Option(help: "Python of the LiteRT venv (shared/peers/setup-litert.sh). Default: $PEERS_LITERT_VENV/bin/python or ~/.cache/minnow-peers-litert-venv/bin/python; skipped when absent.")
        var litertPython: String?
        @OptionGroup var peer: PeerOptions

        func execute() throws {
            print(Machine.current)
            guard let bytes = FileManager.default.contents(atPath: model).map({ [UInt8]($0) }) else { throw CLIError(message: "\(model): cannot read") }
            let (runs, warmup, kernels) = (timing.runs, timing.warmup, timing.kernels)
            let t = try benchmarkRuntime(bytes, runs: runs, warmup: warmup, batch: timing.batch, kernels: kernels.choice)
            print(BenchReport.runtime(t, model: model, warmup: warmup, kernels: kernels.choice.level))
            if operators {
                print(BenchReport.operators(try profileRuntime(bytes, runs: runs, warmup: warmup, kernels: kernels.choice), runs: runs))
            }
            let peers = try peerModel.flatMap { model in try peer.runner()?.runtimeComparison(model: model, litertPython: litertPython, minnowP50: t.p50) }
            peers?.lines.forEach { print($0) }
            try peer.output.write(t, peers: peers?.versions ?? [:])
        }
    }
}
