import MinnowData
import MinnowNN
import MinnowTensor
import MinnowTraining

/// Pruning sensitivity (Li et al. 2017, fig. 2): the accuracy of the model when one group alone
/// loses a fraction of its channels (lowest scores first), without fine-tuning.
public struct SensitivityAnalysis: Codable, Sendable {
    public struct Row: Codable, Sendable {
        public var group: String
        public var channels: Int
        /// Top-1 on the analysis's images (`split`) for each ratio of `ratios`.
        public var top1: [Double]
    }

    public var ratios: [Double]
    public var top1Unpruned: Double
    public var rows: [Row]
    /// The images evaluated: held-out validation images (what choices should be made on) or test images.
    public var split: EvaluationSplit
    /// How many images were evaluated.
    public var images: Int

    /// Runs the analysis of every prunable group of `model`, evaluated on `batches` of `split`.
    public init(model: any Layer, inputShape: [Int], criterion: PruningCriterion, excluded: [String], ratios: [Double],
                importanceBatches: [Batch], batches: [Batch], split: EvaluationSplit, classes: Int,
                registry: LayerRegistry) throws(PruningError) {
        guard !ratios.isEmpty, ratios.allSatisfy({ $0 > 0 && $0 < 1 }) else {
            throw .invalidOption("--ratios", "each ratio must be in (0, 1), got \(ratios)")
        }
        let analysis = try PruningSettings.analyze(model, inputShape: inputShape, excluded: excluded)
        let scores = try ChannelImportance.scores(criterion, analysis: analysis, model: model, batches: importanceBatches)
        (self.ratios, self.split) = (ratios, split)
        let unpruned = evaluate(model, batches: batches, classes: classes)
        (top1Unpruned, images) = (unpruned.top1, unpruned.count)
        rows = []
        for group in analysis.prunableGroups where group.channels > 1 {
            guard let values = scores[group.id] else { continue }
            let order = values.enumerated().sorted { ($0.element, $0.offset) < ($1.element, $1.offset) }.map(\.offset)
            var accuracies: [Double] = []
            for ratio in ratios {
                let removed = min(group.channels - 1, max(1, Int((ratio * Double(group.channels)).rounded())))
                let kept = Array(order.dropFirst(removed)).sorted()
                let pruned = try Pruner.prune(model, analysis: analysis, kept: [group.id: kept], registry: registry)
                accuracies.append(evaluate(pruned, batches: batches, classes: classes).top1)
            }
            rows.append(Row(group: group.name, channels: group.channels, top1: accuracies))
        }
    }

    /// The table: one row per group, top-1 (%) per ratio.
    public var text: String {
        let width = max(5, rows.map(\.group.count).max() ?? 5)
        func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
        var lines = ["group".padding(toLength: width, withPad: " ", startingAt: 0) + "  channels"
                     + ratios.map { pad(String(format: "-%.0f%%", 100 * $0), 8) }.joined()]
        for row in rows {
            lines.append(row.group.padding(toLength: width, withPad: " ", startingAt: 0) + pad("\(row.channels)", 10)
                         + row.top1.map { pad(String(format: "%.2f", 100 * $0), 8) }.joined())
        }
        lines.append("unpruned: \(String(format: "%.2f", 100 * top1Unpruned))% top-1 on \(images) \(split.rawValue) images")
        return lines.joined(separator: "\n")
    }
}
