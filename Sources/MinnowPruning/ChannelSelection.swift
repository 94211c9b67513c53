import MinnowNN
import MinnowTensor

/// What pruning aims for: the fraction of the unpruned model's MACs, parameters or prunable
/// channels that is kept.
public enum PruningTarget: Codable, Equatable, Sendable, CustomStringConvertible {
    case macs(Double)
    case parameters(Double)
    case channels(Double)

    public var fraction: Double {
        switch self { case .macs(let f), .parameters(let f), .channels(let f): f }
    }

    /// The same measure with another fraction (a schedule's intermediate steps).
    public func with(fraction: Double) -> PruningTarget {
        switch self {
        case .macs: .macs(fraction)
        case .parameters: .parameters(fraction)
        case .channels: .channels(fraction)
        }
    }

    public var description: String {
        let percent = String(format: "%.1f%%", 100 * fraction)
        switch self {
        case .macs: return "\(percent) of the MACs"
        case .parameters: return "\(percent) of the parameters"
        case .channels: return "\(percent) of the prunable channels"
        }
    }
}

/// Whether channels are ranked across all groups (one threshold for the whole network, as
/// Torch-Pruning's `global_pruning=True` and network slimming) or every group loses the same
/// fraction of its channels.
public enum PruningScope: String, Codable, CaseIterable, Sendable {
    case global, layer
}

/// The measures of a model that targets refer to: its MACs and parameters per image and the
/// channels of its prunable groups.
public struct ModelSize: Codable, Equatable, Sendable {
    public var macs: Int
    public var parameters: Int
    public var channels: Int

    public init(_ analysis: ChannelAnalysis, kept: [Int: Int] = [:]) {
        macs = analysis.multiplyAccumulates(kept: kept)
        parameters = analysis.parameterCount(kept: kept)
        channels = analysis.prunableGroups.reduce(0) { $0 + (kept[$1.id] ?? $1.channels) }
    }

    func value(of target: PruningTarget) -> Int {
        switch target {
        case .macs: macs
        case .parameters: parameters
        case .channels: channels
        }
    }
}

/// Chooses which channels each group keeps so that the model meets a target, lowest scores
/// removed first, kept counts multiples of `roundTo` (and at least `roundTo`: no group loses all
/// its channels).
public struct ChannelSelector: Sendable {
    public var target: PruningTarget
    public var scope: PruningScope
    public var roundTo: Int

    public init(target: PruningTarget, scope: PruningScope = .global, roundTo: Int = 8) throws(PruningError) {
        guard target.fraction > 0, target.fraction < 1 else {
            throw .invalidOption("--target", "the fraction to keep must be in (0, 1), got \(target.fraction)")
        }
        guard roundTo >= 1 else { throw .invalidOption("--round-to", "must be at least 1, got \(roundTo)") }
        (self.target, self.scope, self.roundTo) = (target, scope, roundTo)
    }

    /// The channels each scored group keeps (sorted indices; groups that keep all are absent),
    /// such that the model's measure is at most `target.fraction` of `baseline`'s.
    public func select(_ analysis: ChannelAnalysis, scores: [Int: [Float]], baseline: ModelSize) throws(PruningError) -> [Int: [Int]] {
        let goal = Int((target.fraction * Double(baseline.value(of: target))).rounded(.down))
        let candidates = analysis.prunableGroups.filter { scores[$0.id] != nil && minimum($0.channels) < $0.channels }
        let order = Dictionary(uniqueKeysWithValues: candidates.map { group in
            (group.id, scores[group.id]!.enumerated().sorted { ($0.element, $0.offset) < ($1.element, $1.offset) }.map(\.offset))
        })
        var kept: [Int: Int] = [:]
        func measure() -> Int { ModelSize(analysis, kept: kept).value(of: target) }
        if measure() > goal {
            switch scope {
            case .global: kept = global(candidates, scores, order, goal, analysis)
            case .layer: kept = uniform(candidates, goal, analysis)
            }
        }
        guard measure() <= goal else {
            var floor: [Int: Int] = [:]
            for group in candidates { floor[group.id] = minimum(group.channels) }
            let lowest = Double(ModelSize(analysis, kept: floor).value(of: target)) / Double(max(baseline.value(of: target), 1))
            let fixed = analysis.groups.filter { !$0.isPrunable }.count
            throw .unreachable("\(target) cannot be reached: with every prunable group at its minimum of \(roundTo) channel(s) the model keeps \(String(format: "%.1f%%", 100 * lowest)) (\(candidates.count) groups can shrink, \(fixed) are fixed: excluded layers, the input, the output, grouped convolutions); removing more would remove whole layers")
        }
        var result: [Int: [Int]] = [:]
        for (group, count) in kept where count < analysis.groups[group].channels {
            result[group] = Array(order[group]!.suffix(count)).sorted()
        }
        return result
    }

    /// The smallest kept count of a group of `channels`: `roundTo`, or all when it has fewer.
    func minimum(_ channels: Int) -> Int { min(channels, roundTo) }

    /// Removes the cheapest chunk (lowest mean score) of any group, one chunk at a time, until the goal is met.
    private func global(_ groups: [ChannelGroup], _ scores: [Int: [Float]], _ order: [Int: [Int]], _ goal: Int,
                        _ analysis: ChannelAnalysis) -> [Int: Int] {
        var kept = Dictionary(uniqueKeysWithValues: groups.map { ($0.id, $0.channels) })
        func next(_ count: Int, _ channels: Int) -> Int? {
            let lower = count % roundTo == 0 ? count - roundTo : count - count % roundTo
            return lower >= minimum(channels) ? lower : nil
        }
        while ModelSize(analysis, kept: kept).value(of: target) > goal {
            var best: (group: Int, count: Int, score: Float)?
            for group in groups {
                let count = kept[group.id]!
                guard let lower = next(count, group.channels) else { continue }
                let removed = group.channels - count
                let chunk = order[group.id]![removed..<(group.channels - lower)]
                let score = chunk.reduce(Float(0)) { $0 + scores[group.id]![$1] } / Float(chunk.count)
                if best == nil || score < best!.score { best = (group.id, lower, score) }
            }
            guard let best else { break }
            kept[best.group] = best.count
        }
        return kept
    }

    /// The smallest uniform fraction removed from every group that meets the goal (bisection).
    private func uniform(_ groups: [ChannelGroup], _ goal: Int, _ analysis: ChannelAnalysis) -> [Int: Int] {
        func kept(_ ratio: Double) -> [Int: Int] {
            Dictionary(uniqueKeysWithValues: groups.map { group in
                let rounded = Int((Double(group.channels) * (1 - ratio) / Double(roundTo)).rounded()) * roundTo
                return (group.id, min(group.channels, max(minimum(group.channels), rounded)))
            })
        }
        var (low, high) = (0.0, 1.0)
        for _ in 0..<40 {
            let middle = (low + high) / 2
            if ModelSize(analysis, kept: kept(middle)).value(of: target) <= goal { high = middle } else { low = middle }
        }
        return kept(high)
    }
}
