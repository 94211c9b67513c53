import Foundation

/// Runs one of the peer scripts in `shared/peers` (PyTorch) and reads the JSON it writes, so that
/// Minnow and its peer are timed back to back in one run on the same machine.
public struct PeerRunner: Sendable {
    /// The Python interpreter of the peers' venv (`shared/peers/setup.sh` prints it).
    public let python: String
    /// The folder holding the peer scripts.
    public let scriptsDirectory: String

    public init(python: String, scriptsDirectory: String) {
        self.python = python
        self.scriptsDirectory = scriptsDirectory
    }

    /// Why a peer run failed.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// PyTorch's conv2d times per shape (`bench_ops.py`): shape text → (forward, forward+backward)
    /// milliseconds, the median of its runs; and PyTorch's version.
    public func convTimes(shapes: [String], iterations: Int, repeats: Int) throws
        -> (times: [String: (forward: Double, forwardBackward: Double)], version: String) {
        struct Row: Decodable {
            let shape: String
            let forward: [Double], forwardBackward: [Double]
            let torch: String?
            enum CodingKeys: String, CodingKey { case shape, forward = "fwd_ms", forwardBackward = "fwd_bwd_ms", torch }
        }
        let rows: [Row] = try run(script: "bench_ops.py", arguments: ["--threads", "2", "--iters", "\(iterations)", "--repeats", "\(repeats)",
                                                                      "--shapes"] + shapes, output: "bench_ops.json")
        var times: [String: (forward: Double, forwardBackward: Double)] = [:]
        for row in rows {
            guard let forward = row.forward.first, let backward = row.forwardBackward.first else { continue }
            times[row.shape] = (forward, backward)
        }
        return (times, rows.first?.torch ?? "?")
    }

    /// PyTorch's training images/s per preset (`bench_train.py`, no distillation), the median of
    /// its runs; and PyTorch's version.
    public func trainingRates(models: [String], batch: Int, steps: Int, repeats: Int) throws -> (rates: [String: Double], version: String) {
        struct Output: Decodable {
            struct Row: Decodable {
                let model: String
                let imagesPerSecond: Double
                enum CodingKeys: String, CodingKey { case model, imagesPerSecond = "img_s_median" }
            }
            struct Versions: Decodable { let torch: String? }
            let results: [Row]
            let versions: Versions?
        }
        let output: Output = try run(script: "bench_train.py", arguments: ["--threads", "2", "--no-kd", "--batch", "\(batch)", "--steps", "\(steps)",
                                                                           "--repeats", "\(repeats)", "--models"] + models, output: "bench_train.json")
        return (Dictionary(output.results.map { ($0.model, $0.imagesPerSecond) }, uniquingKeysWith: { first, _ in first }),
                output.versions?.torch ?? "?")
    }

    /// ONNX Runtime's batch-1, one-thread latency of a preset (`export_onnx.py`: QDQ int8 with u8
    /// activations, and fp32), in milliseconds, the median of its runs.
    public func onnxRuntimeLatency(model: String, calls: Int, repeats: Int) throws -> (int8: Double, fp32: Double, version: String) {
        struct Output: Decodable {
            struct Latency: Decodable { let ms_median: Double }
            struct Row: Decodable { let latency: [String: Latency] }
            struct Versions: Decodable { let onnxruntime: String? }
            let results: [Row]
            let versions: Versions
        }
        let output: Output = try run(script: "export_onnx.py", arguments: ["--models", model, "--no-ckpt", "--n", "\(calls)", "--repeats", "\(repeats)"],
                                     output: "export_onnx.json")
        guard let row = output.results.first, let int8 = row.latency["int8_t1"], let fp32 = row.latency["fp32_t1"] else {
            throw Failure(description: "export_onnx.py reported no batch-1 latency for \(model)")
        }
        return (int8.ms_median, fp32.ms_median, output.versions.onnxruntime ?? "?")
    }

    /// LiteRT's (XNNPACK) batch-1, one-thread latency of a preset (`export_tflite.py`, run with
    /// the LiteRT venv's python: PT2E int8, and fp32), in milliseconds, the median of its runs.
    public func liteRTLatency(model: String, calls: Int, repeats: Int) throws -> (int8: Double, fp32: Double, version: String) {
        struct Output: Decodable {
            struct Variant: Decodable { let ms_median: Double }
            struct Row: Decodable { let variants: [String: Variant] }
            struct Versions: Decodable { let ai_edge_litert: String? }
            let results: [Row]
            let versions: Versions
        }
        let output: Output = try run(script: "export_tflite.py", arguments: ["--models", model, "--no-ckpt", "--acc-n", "0", "--n", "\(calls)",
                                                                            "--repeats", "\(repeats)"], output: "export_tflite.json")
        guard let row = output.results.first, let int8 = row.variants["int8"], let fp32 = row.variants["fp32"] else {
            throw Failure(description: "export_tflite.py reported no latency for \(model)")
        }
        return (int8.ms_median, fp32.ms_median, output.versions.ai_edge_litert ?? "?")
    }

    /// PyTorch's fp32 and QAT step times of `model` (Benchmarks/qat_step_pytorch.py, which prints one JSON line).
    public struct QATStepResult: Decodable, Sendable {
        public let fp32Ms: Double, qatMs: Double, ratio: Double, torch: String
        enum CodingKeys: String, CodingKey { case fp32Ms = "fp32_ms", qatMs = "qat_ms", ratio, torch }
    }

    public func qatStep(script: String, model: String, batch: Int, steps: Int, repeats: Int) throws -> QATStepResult {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Failure(description: "peer python not found or not executable: \(python) (run shared/peers/setup.sh; pass --peer-python)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--model", model, "--batch", "\(batch)", "--steps", "\(steps)", "--repeats", "\(repeats)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last else {
            throw Failure(description: "\(script) exited with \(process.terminationStatus)")
        }
        do {
            return try JSONDecoder().decode(QATStepResult.self, from: Data(line.utf8))
        } catch {
            throw Failure(description: "\(script) printed an unexpected line: \(line)")
        }
    }

    /// Runs `script` with `arguments` and decodes the JSON file `output` it wrote.
    func run<Output: Decodable>(script: String, arguments: [String], output: String) throws -> Output {
        let scriptPath = URL(fileURLWithPath: scriptsDirectory).appendingPathComponent(script).path
        guard FileManager.default.fileExists(atPath: scriptPath) else {
            throw Failure(description: "peer script not found: \(scriptPath) (pass --peers-dir)")
        }
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Failure(description: "peer python not found or not executable: \(python) (run shared/peers/setup.sh; pass --peer-python)")
        }
        let outDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-peer-\(getpid())")
        try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [scriptPath] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: scriptsDirectory)
        var environment = ProcessInfo.processInfo.environment
        environment["PEERS_OUT"] = outDirectory.path
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "peer \(script) exited with \(process.terminationStatus):\n\(text.suffix(2000))")
        }
        let file = outDirectory.appendingPathComponent(output)
        guard let data = try? Data(contentsOf: file) else {
            throw Failure(description: "peer \(script) wrote no \(file.path)")
        }
        do {
            return try JSONDecoder().decode(Output.self, from: data)
        } catch {
            throw Failure(description: "peer \(script) wrote \(file.path) in an unexpected form: \(error)")
        }
    }
}
