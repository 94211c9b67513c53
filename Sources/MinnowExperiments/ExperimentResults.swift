import Foundation
import MinnowCheckpoint
import MinnowNN
import MinnowTraining

/// The numbers a finished stage run leaves, read from its files and its commands' output.
public struct StageResults: Codable, Sendable, Equatable {
    public var parameters: Int?
    public var macs: Int?
    /// Top-1 on the validation images and on the test set of the model the run leaves: for a
    /// training run, of the epoch `best.h5` holds (chosen on validation); for `evaluate`, of the
    /// model it measures, in its arithmetic.
    public var validationTop1: Double?
    public var testTop1: Double?
    /// `fp32`, `fake-quant` (a QAT run's log), `int8` (integer arithmetic) or `runtime`.
    public var arithmetic: String?
    public var bestEpoch: Int?
    public var fileBytes: Int?
    public var arenaBytes: Int?
    public var latencyP50Milliseconds: Double?
    /// Estimated energy per inference (MACs and bytes moved; `minnow bench model`'s estimate).
    public var energyMicrojoules: Double?
    /// Per-epoch validation and test top-1 of a training run, for curves.
    public var curve: [EpochPoint]?

    public struct EpochPoint: Codable, Sendable, Equatable {
        public var epoch: Int
        public var trainLoss: Double
        public var validationTop1: Double?
        public var testTop1: Double?
    }

    public init() {}

    /// Reads what `run` left in its folder and printed (`outputs`: one per command).
    static func collect(_ run: StageRun, outputs: [String], validation: Int) -> StageResults {
        var results = StageResults()
        switch run.kind {
        case .train, .distill, .qat, .prune: results.readTraining(run.folder, quantized: run.kind == .qat)
        case .quantize: results.readQuantization(run.folder)
        case .export: results.fileBytes = (try? FileManager.default.attributesOfItem(atPath: run.output!.path)[.size] as? Int) ?? nil
        case .evaluate: results.readEvaluation(run, outputs: outputs, validation: validation)
        case .bench: results.readBench(run.folder.appendingPathComponent("bench.json"))
        }
        if let output = run.output, output.pathExtension == "h5" { results.readSize(output) }
        return results
    }

    /// The epoch `best.h5` holds, by the run's own best metric, from `metrics.jsonl` and `config.json`.
    mutating func readTraining(_ folder: URL, quantized: Bool) {
        guard let manifest = try? JSONDecoder().decode(TrainingRun.Manifest.self, from: Data(contentsOf: folder.appendingPathComponent("config.json"))),
              let text = try? String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8) else { return }
        let records = text.split(separator: "\n").compactMap { try? JSONDecoder().decode(EpochRecord.self, from: Data($0.utf8)) }
        let metric = manifest.checkpoints.bestMetric
        var best: EpochRecord?
        for record in records {
            if let value = metric.value(of: record), metric.improves(value, on: best.flatMap { metric.value(of: $0) }) { best = record }
        }
        curve = records.map { EpochPoint(epoch: $0.epoch, trainLoss: $0.trainLoss, validationTop1: $0.validation?.top1, testTop1: $0.test?.top1) }
        bestEpoch = best?.epoch
        validationTop1 = best?.validation?.top1
        testTop1 = best?.test?.top1
        arithmetic = quantized ? "fake-quant" : "fp32"
    }

    /// `quantization.json` of `minnow quantize`: the integer model's test top-1.
    mutating func readQuantization(_ folder: URL) {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("quantization.json")),
              let fields = try? JSONDecoder().decode([String: String].self, from: data) else { return }
        testTop1 = fields["int8_top1"].flatMap(Double.init)
        arithmetic = "int8"
    }

    /// The JSON lines of `minnow eval --json` (validation, then test) or `minnow run --json`.
    mutating func readEvaluation(_ run: StageRun, outputs: [String], validation: Int) {
        func json(_ output: String) -> [String: Any]? {
            output.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        let parsed = outputs.map(json)
        testTop1 = parsed.last??["top1"] as? Double
        if parsed.count == 2 { validationTop1 = parsed.first??["top1"] as? Double }
        arithmetic = run.measured?.pathExtension == "mnw" ? "runtime" : (parsed.last??["arithmetic"] as? String)
    }

    /// `bench.json` of `minnow bench model`.
    mutating func readBench(_ url: URL) {
        guard let data = try? Data(contentsOf: url), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let results = object["results"] as? [String: Any] else { return }
        latencyP50Milliseconds = results["p50"] as? Double
        arenaBytes = results["arenaBytes"] as? Int
        fileBytes = results["modelBytes"] as? Int
        macs = results["multiplyAccumulates"] as? Int
        if let energy = results["energy"] as? [String: Double] { energyMicrojoules = energy.values.reduce(0, +) / 1e6 }
    }

    /// Parameters and MACs of a checkpoint's model (its traced graph).
    mutating func readSize(_ url: URL) {
        guard let (model, config) = try? ModelCheckpoint.loadModel(from: url) else { return }
        parameters = model.parameterCount
        model.eval()
        macs = (try? ModelGraph.trace(model, inputShape: config.inputShape))?.totalMACs
    }
}

/// One row of an experiment's results table: a model a stage run made, with what the runs that
/// measured it (`evaluate`, `bench`) found.
public struct ResultRow: Codable, Sendable {
    public var stage: String
    public var kind: StageKind
    public var variant: String
    public var seed: UInt64?
    public var results: StageResults
    /// The evaluations of this model: `fp32`, `int8` or `runtime` → (validation, test) top-1.
    public var evaluations: [String: [String: Double]]
}

/// The results of an experiment's runs: one row per model (per variant and seed), and the mean
/// and standard deviation over seeds of each variant; written as `results.csv`, `results.json`
/// and `summary.csv` in the runs folder.
public struct ExperimentResults: Sendable {
    public var rows: [ResultRow]

    init(plan: ExperimentPlan, records: [StageRecord?]) {
        var rows: [Int: ResultRow] = [:]
        for (index, run) in plan.runs.enumerated() where run.kind.output != nil {
            guard let record = records[index], let results = record.results else { continue }
            rows[index] = ResultRow(stage: run.stage, kind: run.kind, variant: run.variant.joined(separator: " "), seed: run.seed,
                                    results: results, evaluations: [:])
        }
        // Quantization and export keep the architecture: their size is their input's.
        for (index, run) in plan.runs.enumerated() where [.quantize, .qat, .export].contains(run.kind) {
            guard var row = rows[index], let input = run.dependencies.first.flatMap({ rows[$0] }) else { continue }
            row.results.parameters = row.results.parameters ?? input.results.parameters
            row.results.macs = row.results.macs ?? input.results.macs
            rows[index] = row
        }
        for (index, run) in plan.runs.enumerated() {
            guard let measured = run.measuredRun, var row = rows[measured], let results = records[index]?.results else { continue }
            if run.kind == .bench {
                row.results.latencyP50Milliseconds = results.latencyP50Milliseconds
                row.results.arenaBytes = results.arenaBytes
                row.results.energyMicrojoules = results.energyMicrojoules
                row.results.fileBytes = results.fileBytes ?? row.results.fileBytes
                row.results.macs = row.results.macs ?? results.macs
            } else if let arithmetic = results.arithmetic {
                row.evaluations[arithmetic] = ["validation": results.validationTop1, "test": results.testTop1].compactMapValues { $0 }
            }
            rows[measured] = row
        }
        self.rows = rows.keys.sorted().map { rows[$0]! }
    }

    static let columns = ["stage", "kind", "variant", "seed", "parameters", "macs", "arithmetic", "best_epoch", "val_top1", "test_top1",
                          "int8_val_top1", "int8_test_top1", "runtime_test_top1", "file_bytes", "arena_bytes", "latency_p50_ms",
                          "energy_uj_estimate"]

    /// The CSV cells of a row, in `columns` order; the top-1 columns are the evaluation stage's
    /// numbers where there is one (the final model, evaluated once), else the training log's.
    static func cells(_ row: ResultRow) -> [String] {
        let r = row.results
        let float = row.evaluations["fp32"], int8 = row.evaluations["int8"]
        let validation = float?["validation"] ?? r.validationTop1, test = float?["test"] ?? r.testTop1
        func number(_ value: Double?, _ digits: Int = 4) -> String { value.map { String(format: "%.\(digits)f", $0) } ?? "" }
        func integer(_ value: Int?) -> String { value.map(String.init) ?? "" }
        return [row.stage, row.kind.rawValue, row.variant, row.seed.map(String.init) ?? "", integer(r.parameters), integer(r.macs),
                r.arithmetic ?? "", integer(r.bestEpoch), number(validation), number(test), number(int8?["validation"]),
                number(int8?["test"] ?? (r.arithmetic == "int8" ? r.testTop1 : nil)), number(row.evaluations["runtime"]?["test"]),
                integer(r.fileBytes), integer(r.arenaBytes), number(r.latencyP50Milliseconds, 4), number(r.energyMicrojoules, 3)]
    }

    /// Mean ± standard deviation (n−1) of the test and validation top-1 over the seeds of each
    /// stage and variant.
    public var summary: [(stage: String, variant: String, seeds: Int, validation: (Double, Double)?, test: (Double, Double)?)] {
        let groups = Dictionary(grouping: rows) { "\($0.stage)|\($0.variant)" }
        return groups.keys.sorted { a, b in
            (rows.firstIndex { "\($0.stage)|\($0.variant)" == a }!) < (rows.firstIndex { "\($0.stage)|\($0.variant)" == b }!)
        }.map { key in
            let members = groups[key]!
            func stats(_ pick: (ResultRow) -> Double?) -> (Double, Double)? { Self.meanAndDeviation(members.compactMap(pick)) }
            return (members[0].stage, members[0].variant, members.count, stats { Self.headline($0).validation }, stats { Self.headline($0).test })
        }
    }

    /// The mean and the sample standard deviation (n − 1; 0 for one value) of `values`, nil for none.
    public static func meanAndDeviation(_ values: [Double]) -> (mean: Double, deviation: Double)? {
        guard !values.isEmpty else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.count > 1 ? values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1) : 0
        return (mean, variance.squareRoot())
    }

    /// The top-1 a row stands for: its evaluation in the model's own arithmetic (fp32, int8 or
    /// the runtime's) where an `evaluate` stage measured it, else its training log's.
    public static func headline(_ row: ResultRow) -> (validation: Double?, test: Double?) {
        for arithmetic in ["runtime", "int8", "fp32"] {
            if let evaluation = row.evaluations[arithmetic] { return (evaluation["validation"], evaluation["test"]) }
        }
        return (row.results.validationTop1, row.results.testTop1)
    }

    public var csv: String {
        ([Self.columns] + rows.map(Self.cells)).map { $0.map(Self.quote).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    public var summaryCSV: String {
        func pair(_ value: (Double, Double)?) -> [String] { value.map { [String(format: "%.4f", $0.0), String(format: "%.4f", $0.1)] } ?? ["", ""] }
        let lines = [["stage", "variant", "seeds", "val_top1_mean", "val_top1_std", "test_top1_mean", "test_top1_std"]]
            + summary.map { [$0.stage, $0.variant, "\($0.seeds)"] + pair($0.validation) + pair($0.test) }
        return lines.map { $0.map(Self.quote).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// The summary as aligned text, for the terminal.
    public var summaryText: String {
        func percent(_ value: (Double, Double)?, seeds: Int) -> String {
            guard let value else { return "-" }
            return String(format: "%.2f%%", value.0 * 100) + (seeds > 1 ? String(format: " ± %.2f", value.1 * 100) : "")
        }
        let table = [["stage", "variant", "seeds", "val top-1", "test top-1"]]
            + summary.map { [$0.stage, $0.variant.isEmpty ? "-" : $0.variant, "\($0.seeds)", percent($0.validation, seeds: $0.seeds), percent($0.test, seeds: $0.seeds)] }
        let widths = (0..<5).map { column in table.map { $0[column].count }.max()! }
        return table.map { row in row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
            .joined(separator: "\n")
    }

    static func quote(_ cell: String) -> String {
        cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
    }

    /// Writes `results.csv`, `results.json` and `summary.csv` into `folder`, atomically.
    public func write(to folder: URL) throws {
        try Data(csv.utf8).write(to: folder.appendingPathComponent("results.csv"), options: .atomic)
        try Data(summaryCSV.utf8).write(to: folder.appendingPathComponent("summary.csv"), options: .atomic)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(rows).write(to: folder.appendingPathComponent("results.json"), options: .atomic)
    }
}
