import MinnowTensor

/// The ops of one evaluation-mode forward pass of a model, in execution order: each op with its
/// kind, attributes, operands (values of the graph, or the model's parameters and buffers by
/// dotted path), output value and module path. Residual adds and channel concatenations are ops
/// like any other, so a walk over `ops` sees the whole model, wiring included.
///
/// ```swift
/// let graph = try ModelGraph.trace(model, inputShape: [28, 28, 1])
/// for op in graph.ops { print(op.kind, op.module, op.operands) }
/// let logits = try graph.run(Tensor.zeros([8, 28, 28, 1]), tensors: graph.tensors(of: model))
/// ```
///
/// The trace is complete or it is an error: every operand of every op must be the input, a
/// parameter, a buffer or an earlier op's output, and the model's output must be an op's output
/// (see `OpTracer`). `run` replays it with Minnow's kernels, so its logits equal the model's
/// bit for bit.
public struct ModelGraph: Codable, Sendable {
    /// Shape of one input image (`[H, W, C]`).
    public var inputShape: [Int]
    /// The value id of the input.
    public var input: Int
    /// The value id of the model's output.
    public var output: Int
    /// The shape of each value for one image (without the batch axis), by value id.
    public var valueShapes: [[Int]]
    /// The ops in execution order.
    public var ops: [TracedOp]
    /// Every parameter an op reads, with its shape.
    public var parameters: [String: [Int]]
    /// Every buffer (batch-norm running statistics) an op reads, with its shape.
    public var buffers: [String: [Int]]

    /// Traces `model` once, in evaluation mode and without gradients, on zeros of
    /// `[1] + inputShape`. The model's mode and state are unchanged. Layers whose shapes do not
    /// fit together (a damaged description) make it throw, naming the op and its module, where a
    /// plain forward pass would stop the process.
    public static func trace(_ model: some Layer, inputShape: [Int]) throws(GraphError) -> ModelGraph {
        let tracer = OpTracer()
        model.visitModules { path, module in tracer.modulePaths[ObjectIdentifier(module)] = path }
        let parameters = model.namedParameters(), buffers = model.namedBuffers()
        for (path, parameter) in parameters { tracer.registerTensor(parameter.value, path: path) }
        for (path, buffer) in buffers { tracer.registerTensor(buffer.value, path: path) }
        let image = Tensor.zeros([1] + inputShape)
        let input = tracer.addInput(image)
        let wasTraining = model.isTraining
        model.eval()
        let result = OpTracer.$current.withValue(tracer) { withoutGrad { model(image) } }
        model.train(wasTraining)
        guard tracer.problems.isEmpty else { throw .incompleteTrace(tracer.problems) }
        guard let output = tracer.valueID(of: result) else {
            throw .incompleteTrace(["the model's output was made by an op that is not traced"])
        }
        let read = Set(tracer.ops.flatMap { op in op.operands.values.compactMap { if case .tensor(let path) = $0 { path } else { nil } } })
        return ModelGraph(
            inputShape: inputShape, input: input, output: output, valueShapes: tracer.valueShapes.map { Array($0.dropFirst()) },
            ops: tracer.ops,
            parameters: Dictionary(uniqueKeysWithValues: parameters.filter { read.contains($0.path) }.map { ($0.path, $0.parameter.shape) }),
            buffers: Dictionary(uniqueKeysWithValues: buffers.filter { read.contains($0.path) }.map { ($0.path, $0.buffer.value.shape) }))
    }

    /// The tensors of `model` that the graph reads, by path (the `tensors` argument of `run`).
    public func tensors(of model: Module) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (path, parameter) in model.namedParameters() where parameters[path] != nil { result[path] = parameter.value }
        for (path, buffer) in model.namedBuffers() where buffers[path] != nil { result[path] = buffer.value }
        return result
    }

    /// Trainable scalars the graph reads.
    public var parameterCount: Int { parameters.values.reduce(0) { $0 + $1.reduce(1, *) } }

    /// Multiply-accumulates of `op` for one image: convolutions and linear layers (as
    /// `ModelSummary` and the peers count them), 0 for every other op.
    public func multiplyAccumulates(_ op: TracedOp) -> Int {
        let outputs = valueShapes[op.output].reduce(1, *)
        switch op.kind {
        case .conv2d, .depthwiseConv2d:
            guard let filter = shape(of: op.operands["filter"]) else { return 0 }
            return outputs * filter[0] * filter[1] * filter[2]
        case .linear:
            guard let weight = shape(of: op.operands["weight"]) else { return 0 }
            return outputs * weight[0]
        case .batchNorm, .relu, .relu6, .leakyRelu, .hardswish, .sigmoid, .tanh, .silu, .add, .concat, .maxPool2d, .avgPool2d, .globalAvgPool2d,
             .reshape, .flatten, .dropout, .softmax:
            return 0
        }
    }

    /// Multiply-accumulates per image, over all ops.
    public var totalMACs: Int { ops.reduce(0) { $0 + multiplyAccumulates($1) } }

    /// The shape of an operand (for a value, of one image).
    public func shape(of operand: TracedOperand?) -> [Int]? {
        switch operand {
        case .value(let id)?: valueShapes.indices.contains(id) ? valueShapes[id] : nil
        case .tensor(let path)?: parameters[path] ?? buffers[path]
        case nil: nil
        }
    }
}

/// Why a model could not be traced, or a graph could not be run.
public enum GraphError: Error, Equatable, CustomStringConvertible {
    /// The trace failed: an op's shapes do not fit (the model's layers do not fit together), or
    /// a value was made by an op that does not record itself (the graph would not be the model).
    case incompleteTrace([String])
    /// The graph cannot be run as given: an unknown op kind, a missing operand or attribute.
    case invalidGraph(String)

    public var description: String {
        switch self {
        case .incompleteTrace(let problems): "cannot trace the model: " + problems.joined(separator: "; ")
        case .invalidGraph(let problem): "invalid graph: \(problem)"
        }
    }
}

extension ModelGraph: CustomStringConvertible {
    /// The ops as a table: value id, kind, module, operands (`%id` for values, paths for the
    /// model's tensors), output shape per image, attributes, MACs; then the totals.
    public var description: String {
        func operands(_ op: TracedOp) -> String {
            let valuesFirst = op.operands.sorted { a, b in
                let (aValue, bValue) = (a.key.hasPrefix("input"), b.key.hasPrefix("input"))
                return aValue != bValue ? aValue : a.key < b.key
            }
            return valuesFirst.map { role, operand in
                switch operand {
                case .value(let id): "%\(id)"
                case .tensor(let path): role == "input" ? path : path.split(separator: ".").last.map(String.init) ?? path
                }
            }.joined(separator: " ")
        }
        let rows = ops.map { op -> [String] in
            let attributes = op.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let macs = multiplyAccumulates(op)
            return ["%\(op.output)", op.kind.rawValue, op.module.isEmpty ? "-" : op.module, operands(op),
                    valueShapes[op.output].map(String.init).joined(separator: "x"), attributes, macs > 0 ? "\(macs)" : ""]
        }
        let header = ["value", "op", "module", "operands", "output", "attributes", "MACs"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            let padded = zip(cells, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
            return String(padded.reversed().drop { $0 == " " }.reversed())
        }
        let input = "%\(self.input) input " + inputShape.map(String.init).joined(separator: "x")
        return ([input, line(header)] + rows.map(line)
            + ["output %\(output); \(ops.count) ops, \(parameterCount) parameters, \(totalMACs) MACs per image"])
            .joined(separator: "\n")
    }
}
