import MinnowNN
import MinnowTensor
import QuantMath

/// How a traced graph is quantized, step by step: the grouping that both quantization-aware
/// training (`QuantizedModel`) and integer evaluation (`IntegerModel`) follow, so the two compute
/// the same function. A convolution or linear layer absorbs the batch norm after it and a ReLU or
/// ReLU6 after that (when nothing else reads the intermediate values); adds, concatenations,
/// global average pooling and lookup-table activations (SiLU, sigmoid, tanh, hardswish, leaky
/// ReLU) rescale to their own output parameters; max pooling, clamps and reshapes keep their
/// input's parameters. Which ops are which is `OpKind.integerForm`.
public struct QuantizationPlan: Sendable {
    /// One step of a quantized graph; indices point into `ModelGraph.ops`, values are graph value ids.
    public enum Step: Sendable {
        /// A convolution (dense, grouped or depthwise) or linear layer with a folded batch norm and a fused activation.
        case affine(op: Int, batchNorm: Int?, activation: ActivationFunction, input: Int, output: Int)
        case add(op: Int, a: Int, b: Int, output: Int)
        case concatenate(op: Int, inputs: [Int], output: Int)
        case maxPool(op: Int, input: Int, output: Int)
        case globalAveragePool(op: Int, input: Int, output: Int)
        /// A ReLU or ReLU6 that could not be fused: a clamp of codes.
        case clamp(op: Int, activation: ActivationFunction, input: Int, output: Int)
        /// An activation that is no clamp: a table from input codes to output codes.
        case lookupTable(op: Int, input: Int, output: Int)
        /// Flatten, reshape, dropout: the same codes under another shape.
        case alias(op: Int, input: Int, output: Int)

        /// The value the step makes.
        public var output: Int {
            switch self {
            case let .affine(_, _, _, _, output), let .add(_, _, _, output), let .concatenate(_, _, output), let .maxPool(_, _, output),
                 let .globalAveragePool(_, _, output), let .clamp(_, _, _, output), let .lookupTable(_, _, output), let .alias(_, _, output):
                output
            }
        }

        /// The index in `ModelGraph.ops` of the step's (first) op.
        public var op: Int {
            switch self {
            case let .affine(op, _, _, _, _), let .add(op, _, _, _), let .concatenate(op, _, _), let .maxPool(op, _, _),
                 let .globalAveragePool(op, _, _), let .clamp(op, _, _, _), let .lookupTable(op, _, _), let .alias(op, _, _):
                op
            }
        }

        /// Whether the step chooses new quantization parameters for its output (rather than keeping its input's).
        public var rescales: Bool {
            switch self {
            case .affine, .add, .concatenate, .globalAveragePool, .lookupTable: true
            case .maxPool, .clamp, .alias: false
            }
        }
    }

    public let steps: [Step]
    /// The values with their own quantization parameters, in order: the input, then every
    /// rescaling step's output.
    public let quantizedValues: [Int]

    /// Plans `graph`; an op with no quantized form is an error naming its kind and module path.
    public init(_ graph: ModelGraph) throws(QuantizationError) {
        var uses: [Int: Int] = [:]
        for op in graph.ops {
            for case .value(let id) in op.operands.values { uses[id, default: 0] += 1 }
        }
        var steps: [Step] = []
        var index = 0
        while index < graph.ops.count {
            let (step, next) = try Self.step(at: index, in: graph, uses: uses)
            steps.append(step)
            index = next
        }
        self.steps = steps
        quantizedValues = [graph.input] + steps.filter(\.rescales).map(\.output)
    }

    private static func step(at index: Int, in graph: ModelGraph, uses: [Int: Int]) throws(QuantizationError) -> (Step, Int) {
        let op = graph.ops[index]
        func value(_ role: String) throws(QuantizationError) -> Int {
            guard case .value(let id)? = op.operands[role] else {
                throw .unsupportedLayer(op.module, "\(op.kind) has no value operand '\(role)'")
            }
            return id
        }
        /// The op after `index` when it reads only `value`, which nothing else reads.
        func fusable(after position: Int, reading value: Int, kinds: Set<OpKind>) -> Int? {
            let next = position + 1
            guard next < graph.ops.count, kinds.contains(graph.ops[next].kind), graph.ops[next].operands["input"] == .value(value),
                  uses[value] == 1 else { return nil }
            return next
        }
        switch op.kind.integerForm {
        case .affine:
            var last = index, output = op.output
            let batchNorm = fusable(after: last, reading: output, kinds: [.batchNorm])
            if let batchNorm { (last, output) = (batchNorm, graph.ops[batchNorm].output) }
            var activation = ActivationFunction.identity
            if let fused = fusable(after: last, reading: output, kinds: [.relu, .relu6]) {
                activation = graph.ops[fused].kind.activation!
                (last, output) = (fused, graph.ops[fused].output)
            }
            return (.affine(op: index, batchNorm: batchNorm, activation: activation, input: try value("input"), output: output), last + 1)
        case .add:
            return (.add(op: index, a: try value("inputs.0"), b: try value("inputs.1"), output: op.output), index + 1)
        case .concatenation:
            guard op.attributes["axis"]?.int == graph.valueShapes[op.output].count else {
                throw .unsupportedLayer(op.module, "concat along another axis than channels")
            }
            let count = op.operands.keys.filter { $0.hasPrefix("inputs.") }.count
            var inputs: [Int] = []
            for position in 0..<count { inputs.append(try value("inputs.\(position)")) }
            return (.concatenate(op: index, inputs: inputs, output: op.output), index + 1)
        case .maxPool:
            return (.maxPool(op: index, input: try value("input"), output: op.output), index + 1)
        case .globalAveragePool:
            return (.globalAveragePool(op: index, input: try value("input"), output: op.output), index + 1)
        case .clamp:
            return (.clamp(op: index, activation: op.kind.activation!, input: try value("input"), output: op.output), index + 1)
        case .lookupTable:
            return (.lookupTable(op: index, input: try value("input"), output: op.output), index + 1)
        case .alias:
            return (.alias(op: index, input: try value("input"), output: op.output), index + 1)
        case .foldedIntoAffine:
            throw .unsupportedLayer(op.module, "\(op.kind) is quantized only right after a convolution or linear layer")
        case .none:
            throw .unsupportedLayer(op.module, "\(op.kind) has no quantized form")
        }
    }
}
