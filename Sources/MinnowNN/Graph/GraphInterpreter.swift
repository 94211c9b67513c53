import MinnowTensor

extension ModelGraph {
    /// Replays the graph on `input` (`[N] + inputShape`), reading parameters and buffers from
    /// `tensors` by path, with the same kernels the model's layers call: the reference
    /// interpreter that proves a trace complete (its result equals the model's evaluation-mode
    /// output bit for bit) and the walk an exporter follows. Batch norm runs in evaluation mode
    /// and dropout is the identity. `observe`, when given, sees every value as it is made (the
    /// input first): what calibration records.
    public func run(_ input: Tensor, tensors: [String: Tensor],
                    observe: ((_ value: Int, _ tensor: Tensor) -> Void)? = nil) throws(GraphError) -> Tensor {
        guard Array(input.shape.dropFirst()) == inputShape else {
            throw .invalidGraph("the input has shape \(input.shape); the graph takes [N] + \(inputShape)")
        }
        var values: [Int: Tensor] = [self.input: input.detached()]
        observe?(self.input, input)
        let tensors = tensors.mapValues { $0.detached() }
        for op in ops {
            let value = try OpReplay(op: op, values: values, tensors: tensors).run()
            values[op.output] = value
            observe?(op.output, value)
        }
        guard let result = values[output] else { throw .invalidGraph("no op produces the output value \(output)") }
        return result
    }
}

/// One op of a graph being replayed: its operands looked up, its kind dispatched to the op.
private struct OpReplay {
    let op: TracedOp
    let values: [Int: Tensor]
    let tensors: [String: Tensor]

    func run() throws(GraphError) -> Tensor {
        switch op.kind {
        case .conv2d, .depthwiseConv2d:
            return conv2d(try operand("input"), try operand("filter"), bias: try optionalOperand("bias"),
                          stride: try pair("stride"), padding: try pair("padding"), dilation: try pair("dilation"),
                          groups: try attribute("groups", \.int))
        case .linear:
            return linear(try operand("input"), weight: try operand("weight"), bias: try optionalOperand("bias"))
        case .batchNorm:
            var mean = try operand("running_mean"), variance = try operand("running_variance")
            return batchNorm(try operand("input"), scale: try operand("scale"), offset: try operand("offset"),
                             runningMean: &mean, runningVariance: &variance, training: false,
                             momentum: try attribute("momentum", \.float), epsilon: try attribute("epsilon", \.float))
        case .relu, .relu6, .hardswish, .sigmoid, .tanh, .silu:
            return try operand("input").activation(op.kind.activation!)
        case .leakyRelu: return try operand("input").leakyRelu(slope: try attribute("slope", \.float))
        case .add: return try operand("inputs.0") + operand("inputs.1")
        case .concat:
            let count = op.operands.keys.filter { $0.hasPrefix("inputs.") }.count
            var inputs: [Tensor] = []
            for index in 0..<count { inputs.append(try operand("inputs.\(index)")) }
            return Tensor.concatenate(inputs, axis: try attribute("axis", \.int))
        case .maxPool2d:
            return maxPool2d(try operand("input"), kernelSize: try pair("kernel_size"), stride: try pair("stride"),
                             padding: try pair("padding"))
        case .avgPool2d:
            return avgPool2d(try operand("input"), kernelSize: try pair("kernel_size"), stride: try pair("stride"),
                             padding: try pair("padding"))
        case .globalAvgPool2d: return globalAvgPool2d(try operand("input"))
        case .reshape:
            let input = try operand("input")
            return input.reshaped([input.shape[0]] + (try attribute("shape", \.ints)))
        case .flatten: return try operand("input").flattenedBatch()
        case .dropout: return try operand("input")
        case .softmax: return softmax(try operand("input"), axis: try attribute("axis", \.int))
        }
    }

    func optionalOperand(_ role: String) throws(GraphError) -> Tensor? {
        switch op.operands[role] {
        case nil: return nil
        case .value(let id)?:
            guard let value = values[id] else { throw .invalidGraph("\(op.kind) in '\(op.module)': value \(id) is used before it is made") }
            return value
        case .tensor(let path)?:
            guard let tensor = tensors[path] else { throw .invalidGraph("\(op.kind) in '\(op.module)': no tensor '\(path)'") }
            return tensor
        }
    }

    func operand(_ role: String) throws(GraphError) -> Tensor {
        guard let tensor = try optionalOperand(role) else { throw .invalidGraph("\(op.kind) in '\(op.module)': no operand '\(role)'") }
        return tensor
    }

    func attribute<T>(_ name: String, _ kind: KeyPath<OpAttribute, T?>) throws(GraphError) -> T {
        guard let value = op.attributes[name]?[keyPath: kind] else {
            throw .invalidGraph("\(op.kind) in '\(op.module)': attribute '\(name)' is missing or of the wrong type")
        }
        return value
    }

    func pair(_ name: String) throws(GraphError) -> (Int, Int) {
        let values = try attribute(name, \.ints)
        guard values.count == 2 else { throw .invalidGraph("\(op.kind) in '\(op.module)': attribute '\(name)' must hold 2 integers") }
        return (values[0], values[1])
    }
}
