import MinnowRuntime
import QuantMath

/// What exporting an integer model to the runtime's format produced.
public struct RuntimeExport: Sendable {
    /// The `.mnw` file's bytes.
    public let bytes: [UInt8]
    /// The arena layout: its size and the lower bound (largest total of simultaneously live activations).
    public let arena: ArenaPlan
    /// Bytes of the parameters (the data section before alignment padding): weights, biases and
    /// per-channel multipliers (int32) and shifts (int8).
    public let parameterBytes: Int
    /// Bytes of the weight codes alone (int8, or int4 packed).
    public let weightBytes: Int
    /// Bytes of the int32 biases alone.
    public let biasBytes: Int
    public let multiplyAccumulates: Int
}

extension IntegerModel {
    /// This model in the runtime's `.mnw` format (docs/runtime-format.md): a walk over its steps
    /// (the lowered plan of the traced graph) writing each as an operator, with its folded int8 or
    /// packed int4 weights, int32 biases and the `QuantMath` fixed-point multipliers it computes
    /// with. Reshapes, flattens and dropout are no operators: their output is their input's tensor.
    /// The runtime running the file computes exactly `codes(_:)`.
    /// `metadata`: the input normalization and class names to store (format version 4).
    public func exportForRuntime(metadata: ModelMetadata = ModelMetadata()) throws(ModelFormatError) -> RuntimeExport {
        var writer = ModelWriter()
        var tensorOf: [Int: Int] = [:]
        var parameterBytes = 0, weightBytes = 0, biasBytes = 0
        func activation(_ value: Int) -> Int {
            if let t = tensorOf[value] { return t }
            let t = writer.addActivation(shape: graph.valueShapes[value], parameters: parameters[value]!)
            tensorOf[value] = t
            return t
        }
        func constant(_ values: [Int32]) -> Int {
            parameterBytes += 4 * values.count
            return writer.addConstant(values)
        }
        func weights(_ codes: [Int8], shape: [Int], output: Int) -> Int {
            let int4 = weightTypes[output] == .int4
            let bytes = int4 ? packInt4(codes) : codes.map { UInt8(bitPattern: $0) }
            (parameterBytes, weightBytes) = (parameterBytes + bytes.count, weightBytes + bytes.count)
            return writer.addConstant(type: int4 ? .int4 : .int8, shape: shape, parameters: QuantizationParameters(scale: 1, zeroPoint: 0), bytes: bytes)
        }
        /// Per-channel multipliers (int32) and shifts (int8: they lie in -31...30).
        func multipliers(_ requantization: Requantization) -> (Int, Int) {
            let shifts = requantization.multipliers.map { UInt8(bitPattern: Int8($0.shift)) }
            parameterBytes += shifts.count
            return (constant(requantization.multipliers.map(\.multiplier)),
                    writer.addConstant(type: .int8, shape: [shifts.count], parameters: QuantizationParameters(scale: 1, zeroPoint: 0), bytes: shifts))
        }
        func range(_ requantization: Requantization) -> CodeRange { CodeRange(minimum: requantization.minimum, maximum: requantization.maximum) }
        _ = activation(graph.input)
        var fusedClamps: Set<Int> = []
        for (index, step) in steps.enumerated() where !fusedClamps.contains(index) {
            switch step {
            case let .convolution(g, filter, bias, _, requantization, input, output):
                let x = activation(input)
                let w = weights(filter, shape: [g.kernelHeight, g.kernelWidth, g.inputChannels / g.groups, g.outputChannels], output: output)
                let b = constant(bias), (m, s) = multipliers(requantization)
                biasBytes += 4 * bias.count
                writer.addOperator(.convolution(Convolution(input: x, filter: w, bias: b, multipliers: m, shifts: s, output: activation(output),
                                                            stride: Extent(g.stride.0, g.stride.1), padding: Extent(g.padding.0, g.padding.1),
                                                            dilation: Extent(g.dilation.0, g.dilation.1), groups: g.groups, clamp: range(requantization))))
            case let .fullyConnected(inputs, outputs, weight, bias, _, requantization, input, output):
                let x = activation(input)
                let w = weights(weight, shape: [inputs, outputs], output: output)
                let b = constant(bias), (m, s) = multipliers(requantization)
                biasBytes += 4 * bias.count
                writer.addOperator(.fullyConnected(FullyConnected(input: x, weight: w, bias: b, multipliers: m, shifts: s, output: activation(output),
                                                                  clamp: range(requantization))))
            case let .add(a, b, aInput, bInput, multiplier, output):
                let fused = clampFollowing(add: index)
                if fused != nil { fusedClamps.insert(index + 1) }
                writer.addOperator(.add(Add(a: activation(a), b: activation(b), output: activation(fused?.output ?? output), aMultiplier: aInput.multiplier,
                                            bMultiplier: bInput.multiplier, outputMultiplier: multiplier, clamp: fused?.range ?? CodeRange(minimum: -128, maximum: 127))))
            case let .concatenate(inputs, multipliers, output):
                let parts = zip(inputs, multipliers).map { Concatenation.Input(tensor: activation($0), rescale: $1) }
                writer.addOperator(.concatenate(Concatenation(output: activation(output), inputs: parts)))
            case let .maxPool(kernel, stride, padding, input, output):
                writer.addOperator(.maxPool(MaxPool(input: activation(input), output: activation(output), kernel: Extent(kernel.0, kernel.1),
                                                    stride: Extent(stride.0, stride.1), padding: Extent(padding.0, padding.1))))
            case let .globalAveragePool(multiplier, input, output):
                writer.addOperator(.globalAveragePool(GlobalAveragePool(input: activation(input), output: activation(output), multiplier: multiplier)))
            case let .clamp(minimum, maximum, input, output):
                writer.addOperator(.clamp(Clamp(input: activation(input), output: activation(output), clamp: CodeRange(minimum: minimum, maximum: maximum))))
            case let .lookupTable(table, input, output):
                let codes = writer.addConstant(type: .int8, shape: [256], parameters: QuantizationParameters(scale: 1, zeroPoint: 0),
                                               bytes: table.map { UInt8(bitPattern: $0) })
                parameterBytes += table.count
                writer.addOperator(.lookupTable(LookupTable(input: activation(input), output: activation(output), table: codes)))
            case let .alias(input, output):
                tensorOf[output] = activation(input)
            }
        }
        let (bytes, plan) = try writer.serialize(input: tensorOf[graph.input]!, output: activation(graph.output), multiplyAccumulates: graph.totalMACs,
                                                   metadata: metadata)
        return RuntimeExport(bytes: bytes, arena: plan, parameterBytes: parameterBytes, weightBytes: weightBytes, biasBytes: biasBytes,
                             multiplyAccumulates: graph.totalMACs)
    }

    /// The clamp (a ReLU or ReLU6 after a residual add) that the add at `index` can apply itself:
    /// the next step, reading the add's output and nothing else reading it. The add then writes
    /// the clamp's output with the clamp's range, which is exactly the two steps (the add saturates
    /// to int8 first, then clamps; one clamp to the intersection is the same), and the runtime
    /// saves an operator and a pass over the tensor.
    private func clampFollowing(add index: Int) -> (output: Int, range: CodeRange)? {
        guard case let .add(_, _, _, _, _, output) = steps[index], index + 1 < steps.count, output != graph.output,
              case let .clamp(minimum, maximum, input, clampOutput) = steps[index + 1], input == output,
              steps.reduce(0, { $0 + $1.inputs.filter { $0 == output }.count }) == 1 else { return nil }
        return (clampOutput, CodeRange(minimum: max(minimum, -128), maximum: min(maximum, 127)))
    }
}
