import MinnowNN
import MinnowTensor

/// Removes channels from a model for real: the layers of each group are rebuilt with the kept
/// channels (`Surgery.keepingChannels`), so tensors, batch-norm statistics and optimizer slots
/// shrink with them and the smaller model runs at its own speed.
public enum Pruner {
    /// The layer selections that keep `kept[group]` channels of each group of `analysis`.
    public static func selections(_ analysis: ChannelAnalysis, kept: [Int: [Int]]) -> [ChannelSelection] {
        func indices(_ segments: [Segment], positions: Int = 1) -> [Int] {
            let stride = segments.reduce(0) { $0 + $1.count }
            var offset = 0
            var perPosition: [Int] = []
            for segment in segments {
                let group = analysis.groupOfSpace[segment.space]
                perPosition += (kept[group] ?? Array(0..<segment.count)).map { offset + $0 }
                offset += segment.count
            }
            return (0..<positions).flatMap { position in perPosition.map { position * stride + $0 } }
        }
        func changed(_ selection: [Int], _ count: Int) -> [Int]? { selection.count == count ? nil : selection }
        var result: [ChannelSelection] = []
        for (path, layer) in analysis.layers.sorted(by: { $0.key < $1.key }) {
            let outputs = changed(indices(layer.outputs), layer.outputs.reduce(0) { $0 + $1.count })
            switch layer.kind {
            case .conv, .linear:
                let inputs = layer.inputs.flatMap { changed(indices($0.segments, positions: $0.positions), $0.channels * $0.positions) }
                if outputs != nil || inputs != nil { result.append(ChannelSelection(path: path, outputs: outputs, inputs: inputs)) }
            case .depthwise, .batchNorm:
                if let outputs { result.append(ChannelSelection(path: path, outputs: outputs)) }
            case .fixed:
                continue
            }
        }
        return result
    }

    /// A copy of `model` with only the kept channels (see `selections`); `optimizer`'s slots are
    /// sliced along.
    public static func prune(_ model: any Layer, analysis: ChannelAnalysis, kept: [Int: [Int]], optimizer: (any Optimizer)? = nil,
                             registry: LayerRegistry) throws(PruningError) -> any Layer {
        do {
            return try Surgery.keepingChannels(selections(analysis, kept: kept), of: model, inputShape: analysis.graph.inputShape,
                                               optimizer: optimizer, registry: registry)
        } catch {
            throw .surgery(error.description)
        }
    }
}

/// Why a model cannot be pruned as asked.
public enum PruningError: Error, Equatable, CustomStringConvertible {
    /// An option's value is out of range or names nothing.
    case invalidOption(String, String)
    /// The traced graph has a form the analysis does not handle.
    case unsupportedGraph(String)
    /// The target cannot be met without removing a whole layer.
    case unreachable(String)
    /// The structural edit failed (a bug: the analysis missed a coupled layer).
    case surgery(String)
    /// The model cannot be traced.
    case trace(String)

    public var description: String {
        switch self {
        case .invalidOption(let option, let detail): "prune: \(option): \(detail)"
        case .unsupportedGraph(let detail): "prune: unsupported graph: \(detail)"
        case .unreachable(let detail): "prune: \(detail)"
        case .surgery(let detail): "prune: \(detail)"
        case .trace(let detail): "prune: \(detail)"
        }
    }
}
