import MinnowNN
import MinnowTensor

/// The channel groups of a traced model, and what its parameter and MAC counts become when
/// groups keep fewer channels. Built by walking the ops of a `ModelGraph` once (DepGraph's idea,
/// Fang et al. 2023, on Minnow's graph): every value's channels are a list of segments of
/// *channel spaces*; a convolution or linear layer makes a new space, per-channel ops pass their
/// input's through, a residual add joins its operands' spaces into one, a concatenation lists its
/// inputs' segments side by side, a flatten remembers how many positions each channel repeats.
///
/// A space is fixed (not prunable) when it is the model's input, reaches the model's output,
/// belongs to an excluded layer, is read or made by a grouped (not depthwise) convolution, meets
/// an op with no known channel mapping, or is joined by an add to a differently split value.
public struct ChannelAnalysis: Sendable {
    public let graph: ModelGraph
    public private(set) var groups: [ChannelGroup] = []
    /// The layers whose tensors change with the groups, with their channel layouts.
    var layers: [String: LayerChannels] = [:]
    var macTerms: [CostTerm] = []
    var parameterTerms: [CostTerm] = []
    /// The group of each space id.
    var groupOfSpace: [Int] = []

    /// Analyzes `graph`; `excluded` layers (paths of convolutions or linear layers, or of blocks
    /// containing them) keep their output channels. `ChannelAnalysis.defaultExclusions` gives
    /// the usual ones: the first convolution and the classifier.
    public init(graph: ModelGraph, excluding excluded: [String]) throws(PruningError) {
        self.graph = graph
        var builder = SpaceBuilder()
        try builder.walk(graph)
        let layerPaths = Set(builder.layers.keys)
        for path in excluded {
            let matches = builder.producers.filter { $0.layer == path || $0.layer.hasPrefix(path + ".") }
            guard !matches.isEmpty else {
                throw .invalidOption("--exclude", "no convolution or linear layer at or under '\(path)' (layers: \(layerPaths.sorted().prefix(6).joined(separator: ", ")) ...)")
            }
            for match in matches { builder.fix(match.space, "its layer \(match.layer) is excluded") }
        }
        self.layers = builder.layers
        self.macTerms = builder.macTerms
        self.parameterTerms = builder.parameterTerms
        makeGroups(builder)
    }

    /// The first convolution (it sees the raw image) and the classifier (the last convolution or
    /// linear layer): what Torch-Pruning and NNCF leave alone by default.
    public static func defaultExclusions(_ graph: ModelGraph) -> [String] {
        let weighted = graph.ops.filter(\.kind.isWeighted)
        return [weighted.first, weighted.last].compactMap { op -> String? in op.flatMap { layerPath($0) } }.uniqued()
    }

    private mutating func makeGroups(_ builder: SpaceBuilder) {
        var roots: [Int: Int] = [:]
        groupOfSpace = Array(repeating: -1, count: builder.spaces.count)
        for space in builder.spaces.indices {
            let root = builder.root(space)
            if roots[root] == nil {
                roots[root] = groups.count
                groups.append(ChannelGroup(id: groups.count, channels: builder.spaces[root].size, members: [],
                                           fixedBecause: builder.spaces[root].fixedBecause))
            }
            groupOfSpace[space] = roots[root]!
        }
        for (space, member) in builder.members { groups[groupOfSpace[space]].members.append(member) }
        for index in groups.indices where groups[index].isPrunable && groups[index].members.allSatisfy({ $0.role != .producer }) {
            groups[index].fixedBecause = "no layer makes these channels"
        }
    }

    /// The prunable groups.
    public var prunableGroups: [ChannelGroup] { groups.filter(\.isPrunable) }

    /// Multiply-accumulates per image when each group keeps `kept[group]` channels (all when absent).
    public func multiplyAccumulates(kept: [Int: Int] = [:]) -> Int { cost(macTerms, kept) }

    /// Trainable parameters when each group keeps `kept[group]` channels (all when absent).
    public func parameterCount(kept: [Int: Int] = [:]) -> Int { cost(parameterTerms, kept) }

    private func cost(_ terms: [CostTerm], _ kept: [Int: Int]) -> Int {
        terms.reduce(0) { total, term in
            total + term.factors.reduce(term.coefficient) { product, factor in
                product * factor.reduce(0) { sum, space in
                    let group = groupOfSpace[space]
                    return sum + (kept[group] ?? groups[group].channels)
                }
            } / term.divisor
        }
    }

    /// The path of the layer whose weight an op reads (`features.1.conv` for `features.1.conv.filter`).
    static func layerPath(_ op: TracedOp) -> String? {
        guard case .tensor(let path)? = op.operands["filter"] ?? op.operands["weight"] ?? op.operands["scale"] else { return nil }
        return path.split(separator: ".").dropLast().joined(separator: ".")
    }
}

/// A layer's channels as segments of spaces: its outputs (producers, per-channel layers) and
/// inputs (consumers), for building the layer's channel selection.
struct LayerChannels: Sendable {
    enum Kind: Sendable { case conv, depthwise, linear, batchNorm, fixed }
    var kind: Kind
    var outputs: [Segment]
    var inputs: Layout?
}

/// `count` channels of one space.
struct Segment: Equatable, Sendable {
    var space: Int
    var count: Int
}

/// The channels of a value: segments along the channel axis, each channel repeated at `positions`
/// spatial positions when the value was flattened.
struct Layout: Sendable {
    var segments: [Segment]
    var positions: Int
    var channels: Int { segments.reduce(0) { $0 + $1.count } }
}

/// `coefficient * product over factors of (sum of the factor's spaces' channel counts) / divisor`.
struct CostTerm: Sendable {
    var coefficient: Int
    var factors: [[Int]]
    var divisor = 1
}

/// Walks the graph, creating and joining spaces (a union-find) and recording members and costs.
private struct SpaceBuilder {
    struct Space { var parent: Int; var size: Int; var fixedBecause: String? }
    var spaces: [Space] = []
    var layouts: [Int: Layout] = [:]
    var members: [(space: Int, member: ChannelMember)] = []
    var producers: [(layer: String, space: Int)] = []
    var layers: [String: LayerChannels] = [:]
    var macTerms: [CostTerm] = []
    var parameterTerms: [CostTerm] = []

    func root(_ space: Int) -> Int {
        var current = space
        while spaces[current].parent != current { current = spaces[current].parent }
        return current
    }

    mutating func newSpace(_ size: Int, fixed: String? = nil) -> Int {
        spaces.append(Space(parent: spaces.count, size: size, fixedBecause: fixed))
        return spaces.count - 1
    }

    mutating func fix(_ space: Int, _ reason: String) {
        let r = root(space)
        if spaces[r].fixedBecause == nil { spaces[r].fixedBecause = reason }
    }

    mutating func union(_ a: Int, _ b: Int) {
        let (ra, rb) = (root(a), root(b))
        guard ra != rb else { return }
        spaces[rb].parent = ra
        if spaces[ra].fixedBecause == nil { spaces[ra].fixedBecause = spaces[rb].fixedBecause }
    }

    mutating func walk(_ graph: ModelGraph) throws(PruningError) {
        let inputChannels = graph.inputShape.last ?? 1
        layouts[graph.input] = Layout(segments: [Segment(space: newSpace(inputChannels, fixed: "the model's input"), count: inputChannels)],
                                      positions: 1)
        for op in graph.ops { try visit(op, graph) }
        for segment in layouts[graph.output]?.segments ?? [] { fix(segment.space, "they reach the model's output") }
    }

    private func layout(_ op: TracedOp, _ role: String) throws(PruningError) -> Layout {
        guard case .value(let id)? = op.operands[role], let layout = layouts[id] else {
            throw .unsupportedGraph("\(op.kind) at '\(op.module)' has no \(role) value")
        }
        return layout
    }

    private mutating func visit(_ op: TracedOp, _ graph: ModelGraph) throws(PruningError) {
        let outputShape = graph.valueShapes[op.output]
        let spatial = outputShape.count == 3 ? outputShape[0] * outputShape[1] : 1
        switch op.kind.channelFlow {
        case .produces where op.kind != .linear:
            let input = try layout(op, "input")
            guard let layer = ChannelAnalysis.layerPath(op), let filter = graph.shape(of: op.operands["filter"]) else {
                throw .unsupportedGraph("conv2d at '\(op.module)' has no filter tensor")
            }
            let groups = op.attributes["groups"]?.int ?? 1
            let out = newSpace(filter[3])
            let taps = filter[0] * filter[1]
            producers.append((layer, out))
            members.append((out, ChannelMember(layer: layer, role: .producer, offset: 0, positions: 1, stride: filter[3])))
            addConsumer(layer, input)
            let inputSpaces = input.segments.map(\.space)
            if groups > 1 {
                let reason = "grouped convolution \(layer) (groups \(groups)) keeps its channels"
                fix(out, reason)
                for space in inputSpaces { fix(space, reason) }
            }
            layers[layer] = LayerChannels(kind: groups > 1 ? .fixed : .conv, outputs: [Segment(space: out, count: filter[3])], inputs: input)
            macTerms.append(CostTerm(coefficient: spatial * taps, factors: [inputSpaces, [out]], divisor: groups))
            parameterTerms.append(CostTerm(coefficient: taps, factors: [inputSpaces, [out]], divisor: groups))
            if op.operands["bias"] != nil { parameterTerms.append(CostTerm(coefficient: 1, factors: [[out]])) }
            layouts[op.output] = Layout(segments: [Segment(space: out, count: filter[3])], positions: 1)
        case .produces:
            let input = try layout(op, "input")
            guard let layer = ChannelAnalysis.layerPath(op), let weight = graph.shape(of: op.operands["weight"]) else {
                throw .unsupportedGraph("linear at '\(op.module)' has no weight tensor")
            }
            let out = newSpace(weight[1])
            producers.append((layer, out))
            members.append((out, ChannelMember(layer: layer, role: .producer, offset: 0, positions: 1, stride: weight[1])))
            addConsumer(layer, input)
            let inputSpaces = input.segments.map(\.space)
            layers[layer] = LayerChannels(kind: .linear, outputs: [Segment(space: out, count: weight[1])], inputs: input)
            macTerms.append(CostTerm(coefficient: input.positions, factors: [inputSpaces, [out]]))
            parameterTerms.append(CostTerm(coefficient: input.positions, factors: [inputSpaces, [out]]))
            if op.operands["bias"] != nil { parameterTerms.append(CostTerm(coefficient: 1, factors: [[out]])) }
            layouts[op.output] = Layout(segments: [Segment(space: out, count: weight[1])], positions: 1)
        case .perChannel:
            let input = try layout(op, "input")
            guard let layer = ChannelAnalysis.layerPath(op) else { throw .unsupportedGraph("\(op.kind) at '\(op.module)' has no weights") }
            let spaces = input.segments.map(\.space)
            addPerChannel(layer, input)
            if op.kind == .depthwiseConv2d, let filter = graph.shape(of: op.operands["filter"]) {
                layers[layer] = LayerChannels(kind: .depthwise, outputs: input.segments, inputs: nil)
                macTerms.append(CostTerm(coefficient: spatial * filter[0] * filter[1], factors: [spaces]))
                parameterTerms.append(CostTerm(coefficient: filter[0] * filter[1], factors: [spaces]))
                if op.operands["bias"] != nil { parameterTerms.append(CostTerm(coefficient: 1, factors: [spaces])) }
            } else {
                layers[layer] = LayerChannels(kind: .batchNorm, outputs: input.segments, inputs: nil)
                parameterTerms.append(CostTerm(coefficient: 2, factors: [spaces]))
            }
            layouts[op.output] = input
        case .elementwise:
            layouts[op.output] = try layout(op, "input")
        case .flatten:
            let input = try layout(op, "input")
            guard case .value(let id)? = op.operands["input"] else { throw .unsupportedGraph("flatten without input") }
            let shape = graph.valueShapes[id]
            layouts[op.output] = Layout(segments: input.segments, positions: input.positions * shape.dropLast().reduce(1, *))
        case .sum:
            let (a, b) = (try layout(op, "inputs.0"), try layout(op, "inputs.1"))
            if a.segments.map(\.count) == b.segments.map(\.count), a.positions == b.positions {
                for (x, y) in zip(a.segments, b.segments) { union(x.space, y.space) }
            } else {
                for segment in a.segments + b.segments { fix(segment.space, "an add at '\(op.module)' joins differently split channels") }
            }
            layouts[op.output] = a
        case .concatenation where op.attributes["axis"]?.int == outputShape.count:
            var segments: [Segment] = []
            var positions: Int?
            for index in 0..<op.operands.count {
                let input = try layout(op, "inputs.\(index)")
                segments += input.segments
                positions = positions ?? input.positions
            }
            layouts[op.output] = Layout(segments: segments, positions: positions ?? 1)
        case .concatenation, .opaque:
            for case .value(let id) in op.operands.values {
                for segment in layouts[id]?.segments ?? [] { fix(segment.space, "read by \(op.kind) at '\(op.module)', whose channel mapping is unknown") }
            }
            let channels = outputShape.last ?? 1
            layouts[op.output] = Layout(segments: [Segment(space: newSpace(channels, fixed: "made by \(op.kind) at '\(op.module)'"), count: channels)],
                                        positions: 1)
        }
    }

    private mutating func addConsumer(_ layer: String, _ input: Layout) {
        var offset = 0
        for segment in input.segments {
            members.append((segment.space, ChannelMember(layer: layer, role: .consumer, offset: offset, positions: input.positions,
                                                         stride: input.channels)))
            offset += segment.count
        }
    }

    private mutating func addPerChannel(_ layer: String, _ input: Layout) {
        var offset = 0
        for segment in input.segments {
            members.append((segment.space, ChannelMember(layer: layer, role: .perChannel, offset: offset, positions: 1, stride: input.channels)))
            offset += segment.count
        }
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
