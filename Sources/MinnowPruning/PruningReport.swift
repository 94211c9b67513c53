import Foundation
import MinnowNN
import MinnowTensor
import MinnowTraining

/// A pruning run's `pruning.json`: its settings, where it started and how accurate that was.
public struct PruningRecord: ForwardCompatible, Sendable {
    public static let file = "pruning.json"
    /// Every field is in every file written so far; a field added later decodes with a default.
    public static let requiredKeys: Set<String> = ["settings", "top1Before", "checkpoint"]
    /// How run folders recognize a pruning run: its settings file, and the command that resumes it
    /// (resuming it as plain training or distillation would skip its remaining pruning events).
    public static let declaration = ObjectiveDeclaration(name: "pruning", settingsFile: file, resumeCommand: "minnow prune --resume")
    public var settings: PruningSettings
    public var top1Before: Double
    public var checkpoint: String

    public init(settings: PruningSettings, top1Before: Double, checkpoint: String) {
        (self.settings, self.top1Before, self.checkpoint) = (settings, top1Before, checkpoint)
    }
}

/// What a pruning run did: per layer, channels, parameters and MACs before and after; totals;
/// the events; accuracy before pruning and after fine-tuning.
public struct PruningReport: Codable, Sendable {
    public struct Row: Codable, Sendable {
        public var layer: String
        public var before: LayerSize
        public var after: LayerSize?
    }

    public var rows: [Row]
    public var before: ModelSize
    public var after: ModelSize
    public var top1Before: Double
    public var top1After: Double?
    /// Test top-1 of the epoch `best.h5` holds, chosen by `selectedBy` (not the best test top-1).
    public var bestTop1: Double?
    public var bestEpoch: Int?
    /// The metric that chose `best.h5` (`val_top1` for a run with a validation split).
    public var selectedBy: String?
    public var events: [PruningEvent]
    public var settings: PruningSettings

    public init(record: PruningRecord, model: any Layer, inputShape: [Int], history: [EpochRecord], events: [PruningEvent],
                bestMetric: CheckpointPolicy.Metric) throws(PruningError) {
        let analysis = try PruningSettings.analyze(model, inputShape: inputShape, excluded: record.settings.excluded)
        let now = Dictionary(uniqueKeysWithValues: LayerSize.all(analysis.graph).map { ($0.layer, $0) })
        rows = record.settings.layersBefore.map { Row(layer: $0.layer, before: $0, after: now[$0.layer]) }
        before = record.settings.baseline
        after = ModelSize(analysis)
        top1Before = record.top1Before
        top1After = history.last?.test?.top1
        var best: (epoch: Int, value: Double)?
        for record in history {
            if let value = bestMetric.value(of: record), bestMetric.improves(value, on: best?.value) { best = (record.epoch, value) }
        }
        bestEpoch = best?.epoch
        bestTop1 = best.flatMap { best in history.first { $0.epoch == best.epoch }?.test?.top1 }
        selectedBy = bestMetric.rawValue
        self.events = events
        settings = record.settings
    }

    /// Fails, before any training, when the target cannot be reached on `model` (whatever the
    /// scores: reachability depends on the groups and their minimum sizes only).
    public static func checkReachable(_ settings: PruningSettings, model: any Layer, inputShape: [Int]) throws(PruningError) {
        let analysis = try PruningSettings.analyze(model, inputShape: inputShape, excluded: settings.excluded)
        let selector = try ChannelSelector(target: settings.target, scope: settings.scope, roundTo: settings.roundTo)
        var scores: [Int: [Float]] = [:]
        let criterion = settings.criterion == .taylor ? PruningCriterion.l1 : settings.criterion
        for (group, values) in try ChannelImportance.scores(criterion, analysis: analysis, model: floatModel(model)) { scores[group] = values }
        _ = try selector.select(analysis, scores: scores, baseline: settings.baseline)
    }

    /// The report as text: the per-layer table (layers whose size changed), totals, accuracy.
    public var text: String {
        func ratio(_ a: Int, _ b: Int) -> String { String(format: "%.1f%%", 100 * Double(b) / Double(max(a, 1))) }
        var lines = ["layer  in  out  params  MACs (before -> after)"]
        let changed = rows.filter { row in row.after.map { $0 != row.before } ?? true }
        let width = changed.map(\.layer.count).max() ?? 5
        for row in changed {
            let after = row.after
            lines.append(row.layer.padding(toLength: width, withPad: " ", startingAt: 0)
                + "  \(row.before.inputs)->\(after.map { "\($0.inputs)" } ?? "-")"
                + "  \(row.before.outputs)->\(after.map { "\($0.outputs)" } ?? "-")"
                + "  \(row.before.parameters)->\(after.map { "\($0.parameters)" } ?? "-")"
                + "  \(row.before.macs)->\(after.map { "\($0.macs)" } ?? "-")")
        }
        lines.append("\(rows.count - changed.count) other layers unchanged")
        lines.append("MACs \(before.macs) -> \(after.macs) (\(ratio(before.macs, after.macs))); parameters \(before.parameters) -> \(after.parameters) (\(ratio(before.parameters, after.parameters))); prunable channels \(before.channels) -> \(after.channels) (\(ratio(before.channels, after.channels)))")
        for event in events {
            lines.append("step \(event.step): target \(String(format: "%.3f", event.targetKept)) kept; MACs \(event.before.macs) -> \(event.after.macs)")
        }
        let final = top1After.map { String(format: "%.2f%%", 100 * $0) } ?? "-"
        let best = bestTop1.map { String(format: "%.2f%%", 100 * $0) } ?? "-"
        lines.append("test top-1: \(String(format: "%.2f%%", 100 * top1Before)) before pruning, \(final) after fine-tuning (\(best) at epoch \(bestEpoch.map(String.init) ?? "-"), best by \(selectedBy ?? "-"))")
        return lines.joined(separator: "\n")
    }

    /// Writes `pruning-report.txt` and `pruning-report.json` into `folder`.
    public func write(to folder: URL) throws {
        try Data((text + "\n").utf8).write(to: folder.appendingPathComponent("pruning-report.txt"), options: .atomic)
        try JSONFile.write(self, to: folder.appendingPathComponent("pruning-report.json"))
    }
}
