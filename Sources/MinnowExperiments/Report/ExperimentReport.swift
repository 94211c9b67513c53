import Foundation
import MinnowPruning
import MinnowWorkflows

/// A report of an experiment's runs folder: what was run and how to rerun it, the results table
/// and figures (training curves, accuracy against parameters, MACs and latency with the Pareto
/// front, seed spread, per-layer SQNR, per-layer kept channels), as a Jupyter notebook
/// (`NAME.ipynb`, nbformat 4.5, figures as outputs) and one self-contained HTML page
/// (`NAME.html`, figures inline), with the figures and the results table in `NAME/`.
public struct ExperimentReport {
    public let record: ExperimentRecord
    public let root: URL
    public let rows: [ResultRow]
    public private(set) var blocks: [ReportBlock] = []

    /// Reads `root` (an experiment's runs folder: `experiment.json`, `results.json`, the stage folders).
    public init(runs root: URL) throws {
        self.root = root
        record = try ExperimentRecord.load(from: root)
        let data = try Data(contentsOf: root.appendingPathComponent("results.json"))
        rows = try JSONDecoder().decode([ResultRow].self, from: data)
        blocks = makeBlocks()
    }

    /// Writes `NAME.ipynb`, `NAME.html` and `NAME/` (figures, results.csv) into `folder`; returns
    /// the notebook's and the page's paths.
    public func write(to folder: URL) throws -> (notebook: URL, html: URL) {
        let assets = folder.appendingPathComponent(record.name)
        try FileManager.default.createDirectory(at: assets, withIntermediateDirectories: true)
        for case .figure(let name, _, let svg) in blocks {
            try Data(svg.utf8).write(to: assets.appendingPathComponent(name + ".svg"), options: .atomic)
        }
        for file in ["results.csv", "summary.csv"] {
            let source = root.appendingPathComponent(file), target = assets.appendingPathComponent(file)
            try FileManager.default.contents(atPath: source.path).map { try $0.write(to: target, options: .atomic) }
        }
        let notebook = folder.appendingPathComponent(record.name + ".ipynb"), html = folder.appendingPathComponent(record.name + ".html")
        try Notebook(blocks: blocks, assets: record.name).data().write(to: notebook, options: .atomic)
        try Data(HTMLPage(title: "Experiment \(record.name)", blocks: blocks).text.utf8).write(to: html, options: .atomic)
        return (notebook, html)
    }

    // MARK: - Content

    private var tableBlock: ReportBlock {
        let header = ["stage", "variant", "seeds", "parameters", "MACs", "val top-1 (%)", "test top-1 (%)", "arithmetic", "file (bytes)",
                      "arena (bytes)", "latency p50 (ms)"]
        let groups = Dictionary(grouping: rows) { "\($0.stage)|\($0.variant)" }
        var seen = Set<String>(), table: [[String]] = []
        for row in rows where seen.insert("\(row.stage)|\(row.variant)").inserted {
            let members = groups["\(row.stage)|\(row.variant)"]!
            func spread(_ values: [Double]) -> String {
                guard let (mean, deviation) = ExperimentResults.meanAndDeviation(values) else { return "" }
                return values.count > 1 ? String(format: "%.2f ± %.2f", mean * 100, deviation * 100) : String(format: "%.2f", mean * 100)
            }
            let headline = members.map(ExperimentResults.headline)
            let arithmetic = ["runtime", "int8", "fp32"].first { row.evaluations[$0] != nil } ?? row.results.arithmetic ?? ""
            let r = row.results
            table.append([row.stage, row.variant.isEmpty ? "-" : row.variant, "\(members.count)", r.parameters.map(String.init) ?? "",
                          r.macs.map(String.init) ?? "", spread(headline.compactMap(\.validation)), spread(headline.compactMap(\.test)),
                          arithmetic, r.fileBytes.map(String.init) ?? "", r.arenaBytes.map(String.init) ?? "",
                          r.latencyP50Milliseconds.map { String(format: "%.4f", $0) } ?? ""])
        }
        return .table(header: header, rows: table)
    }

    private func makeBlocks() -> [ReportBlock] {
        let machine = record.machine
        var blocks: [ReportBlock] = [
            .heading("Experiment \(record.name)"),
            .paragraph(record.description ?? ""),
            .paragraph("Ran `minnow experiment run \(record.file)` with Minnow \(record.minnowVersion), last started \(record.startedUTC); "
                       + "the stage runs took \(ExperimentRunner.duration(record.runs.compactMap(\.seconds).reduce(0, +))) in all, on \(machine.cpu) "
                       + "(\(machine.cpuFeatures.joined(separator: " ")); build \(machine.buildTarget), \(machine.threads) threads)."),
            .paragraph("To rerun: `minnow experiment run \(record.file)` (stages already done are skipped; a changed option reruns its stage "
                       + "and the stages after it), then `minnow report \(record.runsFolder)` for this report. Every training stage chose its "
                       + "`best.h5` on held-out training images (the validation split); the test set only reports."),
            .subheading("The experiment file"),
            .code(record.fileText),
            .subheading("Results"),
            .paragraph("One row per stage and variant: mean ± standard deviation over seeds where there are several. Top-1 is the "
                       + "model's evaluation in its own arithmetic where an `evaluate` stage measured it (fp32, int8 in integer "
                       + "arithmetic, or the runtime on the exported file), else its training log at the epoch `best.h5` holds. "
                       + "Latency: batch 1, one thread, `minnow bench model`. All rows: `\(record.name)/results.csv`."),
            tableBlock,
        ]
        blocks += curveFigures()
        blocks += tradeOffFigures()
        blocks += seedFigure()
        blocks += layerFigures()
        blocks.append(.subheading("Stage runs"))
        blocks.append(.table(header: ["run", "state", "time", "command"], rows: record.runs.map { run in
            [run.title, run.state, run.seconds.map(ExperimentRunner.duration) ?? "", run.commands.map { "minnow " + $0.joined(separator: " ") }.joined(separator: "; ")]
        }))
        return blocks.filter { if case .paragraph(let text) = $0 { !text.isEmpty } else { true } }
    }

    /// Validation and test top-1 per epoch of every training stage (one figure per stage).
    private func curveFigures() -> [ReportBlock] {
        let training = rows.filter { $0.kind.trains && $0.results.curve?.isEmpty == false }
        var blocks: [ReportBlock] = []
        var seen = Set<String>()
        for stage in training.map(\.stage) where seen.insert(stage).inserted {
            var series: [Chart.Series] = []
            for row in training where row.stage == stage {
                let name = [row.variant, row.seed.map { "seed \($0)" }].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
                let curve = row.results.curve!
                series.append(Chart.Series(name: "val " + name, points: curve.compactMap { p in p.validationTop1.map { (Double(p.epoch), $0 * 100) } }, mark: .line))
                series.append(Chart.Series(name: "test " + name, points: curve.compactMap { p in p.testTop1.map { (Double(p.epoch), $0 * 100) } }, mark: .line))
            }
            var chart = Chart(title: "\(stage): top-1 per epoch", xLabel: "epoch", yLabel: "top-1 (%)", series: series)
            chart.integerX = true
            blocks.append(.figure(name: "curves-\(stage)", caption: "Training curves of stage \(stage): validation and test top-1 after each epoch (best.h5 is the epoch of highest validation top-1).", svg: chart.svg))
        }
        return blocks.isEmpty ? [] : [.subheading("Training curves")] + blocks
    }

    /// Accuracy against parameters, MACs and runtime latency, with the Pareto front.
    private func tradeOffFigures() -> [ReportBlock] {
        let measured = rows.compactMap { row -> (row: ResultRow, top1: Double)? in
            ExperimentResults.headline(row).test.map { (row, $0 * 100) }
        }
        var blocks: [ReportBlock] = []
        let axes: [(name: String, label: String, value: (ResultRow) -> Double?)] = [
            ("parameters", "parameters (count, log scale)", { $0.results.parameters.map(Double.init) }),
            ("MACs", "multiply-accumulates per image (log scale)", { $0.results.macs.map(Double.init) }),
            ("latency", "runtime latency p50, batch 1 (ms, log scale)", { $0.results.latencyP50Milliseconds }),
        ]
        for axis in axes {
            let points = measured.compactMap { m in axis.value(m.row).map { (m.row.stage, (x: $0, y: m.top1)) } }
            guard !points.isEmpty else { continue }
            let stages = points.map(\.0).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            var chart = Chart(title: "test top-1 against \(axis.name)", xLabel: axis.label, yLabel: "test top-1 (%)",
                              series: stages.map { stage in Chart.Series(name: stage, points: points.filter { $0.0 == stage }.map(\.1), mark: .points) },
                              logarithmicX: true)
            chart.front = Chart.paretoFront(points.map(\.1))
            blocks.append(.figure(name: "tradeoff-\(axis.name)", caption: "Test top-1 against \(axis.name); the dashed line is the Pareto front (no model is both smaller/faster and more accurate than a point on it).", svg: chart.svg))
        }
        return blocks.isEmpty ? [] : [.subheading("Accuracy against size and speed")] + blocks
    }

    /// Each seed's test top-1 per stage and variant, with the mean and standard deviation.
    private func seedFigure() -> [ReportBlock] {
        let groups = rows.reduce(into: [(String, [Double])]()) { groups, row in
            guard let test = ExperimentResults.headline(row).test else { return }
            let key = row.stage + (row.variant.isEmpty ? "" : " " + row.variant)
            if let index = groups.firstIndex(where: { $0.0 == key }) { groups[index].1.append(test * 100) } else { groups.append((key, [test * 100])) }
        }
        guard groups.contains(where: { $0.1.count > 1 }) else { return [] }
        var seeds: [(x: Double, y: Double)] = [], means: [(x: Double, y: Double)] = [], stds: [Double] = []
        for (index, group) in groups.enumerated() {
            seeds += group.1.map { (Double(index + 1), $0) }
            let (mean, deviation) = ExperimentResults.meanAndDeviation(group.1)!
            means.append((Double(index + 1) + 0.2, mean))
            stds.append(deviation)
        }
        let chart = Chart(title: "seed spread: test top-1", xLabel: "row (numbered as in the legend of labels)", yLabel: "test top-1 (%)",
                          series: [Chart.Series(name: "one seed", points: seeds, mark: .points),
                                   Chart.Series(name: "mean ± std", points: means, mark: .points, errors: stds, labels: groups.map(\.0))])
        return [.subheading("Seed spread"), .figure(name: "seeds", caption: "Test top-1 of every seed, and the mean with one standard deviation.", svg: chart.svg)]
    }

    /// Per-layer SQNR of each quantization run and kept channels of each pruning run (first seed).
    private func layerFigures() -> [ReportBlock] {
        var blocks: [ReportBlock] = []
        for run in record.runs where run.kind == .quantize {
            let url = URL(fileURLWithPath: run.folder).appendingPathComponent("quantization-layers.json")
            guard let data = FileManager.default.contents(atPath: url.path),
                  let layers = try? JSONDecoder().decode([QuantizationReport.LayerSQNR].self, from: data), !layers.isEmpty else { continue }
            let chart = BarChart(title: "\(run.title): output SQNR per layer", valueLabel: "SQNR against the float model (dB; higher is better)",
                                 labels: layers.map(\.layer), series: [("int8", layers.map(\.sqnrDecibels))])
            blocks.append(.figure(name: "sqnr-\(run.stage)-\(blocks.count)", caption: "Per-layer output SQNR of \(run.title) on 64 test images (a missing bar: no noise).", svg: chart.svg))
        }
        for run in record.runs where run.kind == .prune {
            let url = URL(fileURLWithPath: run.folder).appendingPathComponent("pruning-report.json")
            guard let data = FileManager.default.contents(atPath: url.path),
                  let report = try? JSONDecoder().decode(PruningReport.self, from: data) else { continue }
            let changed = report.rows.filter { $0.after?.outputs != $0.before.outputs }
            guard !changed.isEmpty else { continue }
            let chart = BarChart(title: "\(run.title): output channels per layer", valueLabel: "output channels",
                                 labels: changed.map(\.layer),
                                 series: [("before", changed.map { Double($0.before.outputs) }), ("kept", changed.map { $0.after.map { Double($0.outputs) } })])
            blocks.append(.figure(name: "channels-\(run.stage)-\(blocks.count)", caption: "Output channels of the pruned layers of \(run.title), before pruning and kept.", svg: chart.svg))
        }
        return blocks.isEmpty ? [] : [.subheading("Per layer")] + blocks
    }
}
