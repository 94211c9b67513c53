import Foundation
import MinnowKernels
import MinnowNN
import MinnowRuntime
import MinnowTensor
import QuantMath

/// A model in integer arithmetic (Jacob et al. 2018), lowered from a `QuantizedModel` along its
/// `QuantizationPlan`: every convolution and linear layer with the batch norm after it folded in
/// and a following ReLU or ReLU6 fused into its clamp, int8 (or int4) weights per output channel
/// (symmetric), int32 biases, int8 activations with the quantized model's parameters, adds and
/// concatenations rescaled, pooling on codes. It runs MinnowRuntime's reference kernels, so its
/// numbers are the integer arithmetic itself.
public struct IntegerModel {
    enum Step {
        case convolution(geometry: ConvolutionGeometry, filter: [Int8], bias: [Int32], weightScales: [Float], requantization: Requantization,
                         input: Int, output: Int)
        case fullyConnected(inputs: Int, outputs: Int, weight: [Int8], bias: [Int32], weightScales: [Float], requantization: Requantization,
                            input: Int, output: Int)
        case add(a: Int, b: Int, aInput: ReferenceKernels.AddInput, bInput: ReferenceKernels.AddInput, multiplier: FixedPointMultiplier, output: Int)
        case concatenate(inputs: [Int], multipliers: [FixedPointMultiplier?], output: Int)
        case maxPool(kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), input: Int, output: Int)
        case globalAveragePool(multiplier: FixedPointMultiplier, input: Int, output: Int)
        case clamp(minimum: Int32, maximum: Int32, input: Int, output: Int)
        /// `output = table[input + 128]`.
        case lookupTable(table: [Int8], input: Int, output: Int)
        case alias(input: Int, output: Int)

        /// The values the step reads.
        var inputs: [Int] {
            switch self {
            case let .convolution(_, _, _, _, _, input, _), let .fullyConnected(_, _, _, _, _, _, input, _), let .maxPool(_, _, _, input, _),
                 let .globalAveragePool(_, input, _), let .clamp(_, _, input, _), let .lookupTable(_, input, _), let .alias(input, _):
                [input]
            case let .add(a, b, _, _, _, _): [a, b]
            case let .concatenate(inputs, _, _): inputs
            }
        }
    }

    /// The float model's traced graph the integer model was lowered from.
    public let graph: ModelGraph
    var steps: [Step] = []
    /// The parameters of every value the integer model holds.
    public private(set) var parameters: [Int: QuantizationParameters] = [:]
    /// The module of the layer that makes each value (for a fused group, its convolution or linear layer).
    public private(set) var modules: [Int: String] = [:]
    /// The observed range of each value with its own parameters (what its parameters came from).
    public private(set) var ranges: [Int: (minimum: Float, maximum: Float)] = [:]
    /// The weight format of each convolution or linear layer, by output value.
    public private(set) var weightTypes: [Int: QuantizedType] = [:]

    /// The integer form of `quantized` as it stands: its activation parameters (observed ranges
    /// or learned steps), its weights folded and quantized exactly as its fake quantization does
    /// in evaluation mode. Throws when a value was never observed (calibrate first).
    public init(quantized: QuantizedModel) throws {
        graph = quantized.graph
        for (slot, value) in quantized.plan.quantizedValues.enumerated() {
            guard let p = quantized.parameters(ofValue: value) else { throw QuantizationError.noObservations("value %\(value)") }
            parameters[value] = p
            let range = quantized.ranges[slot].value.scalars
            ranges[value] = (range[0], range[1])
        }
        var affineIndex = 0
        for step in quantized.plan.steps {
            modules[step.output] = graph.ops[step.op].module
            switch step {
            case let .affine(op, batchNorm, activation, input, output):
                try lowerAffine(graph.ops[op], batchNorm: batchNorm, activation: activation, input: input, output: output,
                                weightIndex: affineIndex, quantized: quantized)
                affineIndex += 1
            case let .add(_, a, b, output):
                let (pa, pb, po) = (parameters[a]!, parameters[b]!, parameters[output]!)
                let twiceMax = 2 * Double(max(pa.scale, pb.scale))
                steps.append(.add(a: a, b: b, aInput: .init(zeroPoint: pa.zeroPoint, multiplier: FixedPointMultiplier(Double(pa.scale) / twiceMax)),
                                  bInput: .init(zeroPoint: pb.zeroPoint, multiplier: FixedPointMultiplier(Double(pb.scale) / twiceMax)),
                                  multiplier: FixedPointMultiplier(twiceMax / (Double(1 << ReferenceKernels.addLeftShift) * Double(po.scale))),
                                  output: output))
            case let .concatenate(_, inputs, output):
                let po = parameters[output]!
                steps.append(.concatenate(inputs: inputs, multipliers: inputs.map { input in
                    parameters[input] == po ? nil : FixedPointMultiplier(Double(parameters[input]!.scale) / Double(po.scale))
                }, output: output))
            case let .maxPool(op, input, output):
                let o = graph.ops[op]
                parameters[output] = parameters[input]
                steps.append(.maxPool(kernel: o.pair("kernel_size"), stride: o.pair("stride"), padding: o.pair("padding"), input: input, output: output))
            case let .globalAveragePool(_, input, output):
                let shape = graph.valueShapes[input]
                steps.append(.globalAveragePool(
                    multiplier: FixedPointMultiplier(Double(parameters[input]!.scale) / (Double(shape[0] * shape[1]) * Double(parameters[output]!.scale))),
                    input: input, output: output))
            case let .clamp(_, activation, input, output):
                let range = activationRange(activation, output: parameters[input]!)
                parameters[output] = parameters[input]
                steps.append(.clamp(minimum: range.minimum, maximum: range.maximum, input: input, output: output))
            case let .lookupTable(op, input, output):
                steps.append(.lookupTable(table: lookupTable(graph.ops[op], input: parameters[input]!, output: parameters[output]!),
                                          input: input, output: output))
            case let .alias(_, input, output):
                parameters[output] = parameters[input]
                steps.append(.alias(input: input, output: output))
            }
        }
    }

    /// The table of a lookup-table activation: for each input code, the function of its real value
    /// computed with the float kernels quantization-aware training runs (so the table is what fake
    /// quantization gives for that code), quantized with the output's parameters.
    private func lookupTable(_ op: TracedOp, input: QuantizationParameters, output: QuantizationParameters) -> [Int8] {
        let reals = Tensor(shape: [256], scalars: (-128...127).map { input.dequantize(Int32($0)) })
        return withoutGrad { QuantizedModel.lookupFunction(op, reals) }.scalars.map { Int8(output.quantize($0)) }
    }

    /// A convolution or linear layer with its batch norm folded and its activation fused: int8
    /// (or int4) weights per output channel, int32 biases at scale `inputScale · weightScale`.
    private mutating func lowerAffine(_ op: TracedOp, batchNorm: Int?, activation: ActivationFunction, input: Int, output: Int, weightIndex: Int,
                                      quantized: QuantizedModel) throws {
        let (folded, foldedBias, _) = withoutGrad { quantized.foldedWeights(op, batchNorm: batchNorm) }
        let shape = folded.shape, channels = shape[shape.count - 1], weights = folded.scalars
        let bias = foldedBias?.scalars ?? Array(repeating: 0, count: channels)
        let type = quantized.scheme.weightType(of: op.module)
        weightTypes[output] = type
        let weightParameters: [QuantizationParameters] = switch quantized.scheme.method {
        case .observers: perChannelWeightParameters(folded, type: type)
        case .lsq: quantized.weightSteps[weightIndex].value.scalars.map {
            QuantizationParameters(scale: max($0, QuantizationParameters.minimumScale), zeroPoint: 0, type: type)
        }
        }
        let (inputParameters, outputParameters) = (parameters[input]!, parameters[output]!)
        let codes = weights.enumerated().map { Int8(weightParameters[$0 % channels].quantize($1)) }
        let biasCodes = (0..<channels).map { channel -> Int32 in
            let step = Double(inputParameters.scale) * Double(weightParameters[channel].scale)
            return Int32(clamping: Int64(max(min((Double(bias[channel]) / step).rounded(.toNearestOrEven), 2e9), -2e9)))
        }
        let range = activationRange(activation, output: outputParameters)
        let requantization = Requantization(
            multipliers: weightParameters.map { FixedPointMultiplier(Double(inputParameters.scale) * Double($0.scale) / Double(outputParameters.scale)) },
            outputZeroPoint: outputParameters.zeroPoint, minimum: range.minimum, maximum: range.maximum)
        if op.kind == .linear {
            steps.append(.fullyConnected(inputs: shape[0], outputs: channels, weight: codes, bias: biasCodes,
                                         weightScales: weightParameters.map(\.scale), requantization: requantization, input: input, output: output))
        } else {
            let inputShape = graph.valueShapes[input]
            let geometry = ConvolutionGeometry(batch: 1, height: inputShape[0], width: inputShape[1], inputChannels: inputShape[2],
                                               kernelHeight: shape[0], kernelWidth: shape[1], outputChannels: channels, stride: op.pair("stride"),
                                               padding: op.pair("padding"), dilation: op.pair("dilation"), groups: op.attributes["groups"]?.int ?? 1)
            steps.append(.convolution(geometry: geometry, filter: codes, bias: biasCodes, weightScales: weightParameters.map(\.scale),
                                      requantization: requantization, input: input, output: output))
        }
    }

    /// The model's logits for `images` (`[N] + inputShape`, normalized as in training), computed in
    /// integer arithmetic: the input quantized, every step on codes, the output codes dequantized.
    /// The images are split over the machine's cores (each part runs the same kernels; images are
    /// independent, so the codes are those of one pass over all of them).
    public func logits(_ images: Tensor) -> Tensor {
        let outputParameters = parameters[graph.output]!
        let count = images.shape[0], parts = max(1, min(ThreadPool.shared.threadCount, count))
        let inputs = (0..<parts).map { images.sliced(axis: 0, (count * $0 / parts)..<(count * ($0 + 1) / parts)) }
        var outputs = [[Int8]](repeating: [], count: parts)
        outputs.withUnsafeMutableBufferPointer { outputs in
            ThreadPool.shared.parallelFor(chunks: parts) { part in outputs[part] = codes(inputs[part])[graph.output]! }
        }
        return Tensor(shape: [count] + graph.valueShapes[graph.output],
                      scalars: outputs.joined().map { outputParameters.dequantize(Int32($0)) })
    }

    /// The codes of every value for `images`.
    public func codes(_ images: Tensor) -> [Int: [Int8]] {
        let inputParameters = parameters[graph.input]!
        var codes: [Int: [Int8]] = [graph.input: images.scalars.map { Int8(inputParameters.quantize($0)) }]
        for step in steps { run(step, batch: images.shape[0], codes: &codes) }
        return codes
    }

    private func run(_ step: Step, batch: Int, codes: inout [Int: [Int8]]) {
        func count(_ value: Int) -> Int { batch * graph.valueShapes[value].reduce(1, *) }
        switch step {
        case let .convolution(geometry, filter, bias, _, requantization, input, output):
            var g = geometry
            g.batch = batch
            var result = [Int8](repeating: 0, count: count(output))
            codes[input]!.withUnsafeBufferPointer { x in filter.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { y in
                    ReferenceKernels.convolution(g, input: x, inputZeroPoint: parameters[input]!.zeroPoint, filter: w, bias: b,
                                                 requantization: requantization, output: y)
                }
            } } }
            codes[output] = result
        case let .fullyConnected(inputs, outputs, weight, bias, _, requantization, input, output):
            var result = [Int8](repeating: 0, count: batch * outputs)
            codes[input]!.withUnsafeBufferPointer { x in weight.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { y in
                    ReferenceKernels.fullyConnected(rows: batch, inputs: inputs, outputs: outputs, input: x, inputZeroPoint: parameters[input]!.zeroPoint,
                                                    weight: w, bias: b, requantization: requantization, output: y)
                }
            } } }
            codes[output] = result
        case let .add(a, b, aInput, bInput, multiplier, output):
            var result = [Int8](repeating: 0, count: count(output))
            let zeroPoint = parameters[output]!.zeroPoint
            codes[a]!.withUnsafeBufferPointer { pa in codes[b]!.withUnsafeBufferPointer { pb in result.withUnsafeMutableBufferPointer { y in
                ReferenceKernels.add(count: pa.count, a: pa, aInput, b: pb, bInput, outputMultiplier: multiplier, outputZeroPoint: zeroPoint,
                                     minimum: -128, maximum: 127, output: y)
            } } }
            codes[output] = result
        case let .concatenate(inputs, multipliers, output):
            let shape = graph.valueShapes[output], pixels = batch * shape.dropLast().reduce(1, *)
            var result = [Int8](repeating: 0, count: count(output))
            let buffers = inputs.map { codes[$0]! }
            withBuffers(buffers) { pointers in
                let parts = zip(zip(inputs, pointers), multipliers).map { pair, multiplier in
                    ReferenceKernels.ConcatenationInput(codes: pair.1, channels: graph.valueShapes[pair.0].last!,
                                                        zeroPoint: parameters[pair.0]!.zeroPoint, multiplier: multiplier)
                }
                result.withUnsafeMutableBufferPointer { y in
                    ReferenceKernels.concatenateChannels(pixels: pixels, inputs: parts, outputZeroPoint: parameters[output]!.zeroPoint, output: y)
                }
            }
            codes[output] = result
        case let .maxPool(kernel, stride, padding, input, output):
            let shape = graph.valueShapes[input]
            var result = [Int8](repeating: 0, count: count(output))
            codes[input]!.withUnsafeBufferPointer { x in result.withUnsafeMutableBufferPointer { y in
                ReferenceKernels.maxPool(batch: batch, height: shape[0], width: shape[1], channels: shape[2], kernel: kernel, stride: stride,
                                         padding: padding, input: x, output: y)
            } }
            codes[output] = result
        case let .globalAveragePool(multiplier, input, output):
            let shape = graph.valueShapes[input]
            var result = [Int8](repeating: 0, count: count(output))
            codes[input]!.withUnsafeBufferPointer { x in result.withUnsafeMutableBufferPointer { y in
                ReferenceKernels.globalAveragePool(batch: batch, pixels: shape[0] * shape[1], channels: shape[2], input: x,
                                                   inputZeroPoint: parameters[input]!.zeroPoint, multiplier: multiplier,
                                                   outputZeroPoint: parameters[output]!.zeroPoint, output: y)
            } }
            codes[output] = result
        case let .clamp(minimum, maximum, input, output):
            codes[output] = codes[input]!.map { Int8(min(max(Int32($0), minimum), maximum)) }
        case let .lookupTable(table, input, output):
            var result = [Int8](repeating: 0, count: count(output))
            codes[input]!.withUnsafeBufferPointer { x in table.withUnsafeBufferPointer { t in result.withUnsafeMutableBufferPointer { y in
                ReferenceKernels.lookup(input: x, table: t, output: y)
            } } }
            codes[output] = result
        case let .alias(input, output):
            codes[output] = codes[input]
        }
    }
}

/// Calls `body` with read pointers to every array of `arrays`.
private func withBuffers(_ arrays: [[Int8]], _ body: ([UnsafeBufferPointer<Int8>]) -> Void, _ done: [UnsafeBufferPointer<Int8>] = []) {
    guard let first = arrays.first else { return body(done) }
    first.withUnsafeBufferPointer { withBuffers(Array(arrays.dropFirst()), body, done + [$0]) }
}

/// How the integer result of one step compares with fake quantization of the same step: the step
/// computed in float from the same input codes (dequantized), with the weights and bias dequantized
/// from their codes, then quantized with the output parameters and clamped.
public struct StepAgreement: Sendable, Equatable {
    /// The value the step makes.
    public let output: Int
    public let kind: OpKind
    /// Output codes compared, codes that differ, and the largest difference (in quantization steps).
    public let count: Int, differing: Int, largest: Int
}

extension IntegerModel {
    /// The agreement of every rescaling step (convolution, linear, add, concatenation, global
    /// average pooling) with its fake-quantized float counterpart on `images`; max pooling, clamps
    /// and aliases are code-for-code the same by construction.
    public func agreement(_ images: Tensor) -> [StepAgreement] {
        let batch = images.shape[0]
        let codes = self.codes(images)
        func real(_ value: Int) -> Tensor {
            let p = parameters[value]!
            return Tensor(shape: [batch] + graph.valueShapes[value], scalars: codes[value]!.map { p.dequantize(Int32($0)) })
        }
        func compare(_ kind: OpKind, _ output: Int, _ simulated: Tensor, _ minimum: Int32 = -128, _ maximum: Int32 = 127) -> StepAgreement {
            let p = parameters[output]!
            let differences = zip(simulated.scalars, codes[output]!).map { value, code in
                abs(Int(min(max(p.quantize(value), minimum), maximum)) - Int(code))
            }
            return StepAgreement(output: output, kind: kind, count: differences.count, differing: differences.filter { $0 != 0 }.count,
                                 largest: differences.max() ?? 0)
        }
        var result: [StepAgreement] = []
        for step in steps {
            switch step {
            case let .convolution(g, filter, bias, weightScales, requantization, input, output):
                let inputScale = parameters[input]!.scale, channels = g.outputChannels
                let w = Tensor(shape: [g.kernelHeight, g.kernelWidth, g.inputChannels / g.groups, channels],
                               scalars: filter.enumerated().map { Float($1) * weightScales[$0 % channels] })
                let b = Tensor(shape: [channels], scalars: (0..<channels).map { Float(Double(bias[$0]) * Double(inputScale) * Double(weightScales[$0])) })
                let y = withoutGrad { conv2d(real(input), w, bias: b, stride: g.stride, padding: g.padding, dilation: g.dilation, groups: g.groups) }
                result.append(compare(g.groups > 1 && g.groups == channels ? .depthwiseConv2d : .conv2d, output, y,
                                      requantization.minimum, requantization.maximum))
            case let .fullyConnected(inputs, outputs, weight, bias, weightScales, requantization, input, output):
                let inputScale = parameters[input]!.scale
                let w = Tensor(shape: [inputs, outputs], scalars: weight.enumerated().map { Float($1) * weightScales[$0 % outputs] })
                let b = Tensor(shape: [outputs], scalars: (0..<outputs).map { Float(Double(bias[$0]) * Double(inputScale) * Double(weightScales[$0])) })
                let x = real(input).reshaped([batch, inputs])
                result.append(compare(.linear, output, withoutGrad { linear(x, weight: w, bias: b) }, requantization.minimum, requantization.maximum))
            case let .add(a, b, _, _, _, output):
                result.append(compare(.add, output, withoutGrad { real(a) + real(b) }))
            case let .concatenate(inputs, _, output):
                result.append(compare(.concat, output, withoutGrad { Tensor.concatenate(inputs.map(real), axis: -1) }))
            case let .globalAveragePool(_, input, output):
                result.append(compare(.globalAvgPool2d, output, withoutGrad { globalAvgPool2d(real(input)) }))
            case .maxPool, .clamp, .lookupTable, .alias:
                continue
            }
        }
        return result
    }
}

/// One quantized value of an integer model: its parameters, the calibrated range they came from,
/// and the signal-to-quantization-noise ratio of its int8 codes against the float model's values.
public struct LayerReport: Sendable {
    public let value: Int
    /// The module of the op that makes the value, and the op's kind.
    public let module: String
    public let kind: OpKind
    public let parameters: QuantizationParameters
    public let minimum: Float, maximum: Float
    /// `10 log10(Σ f² / Σ (f - dequantized)²)` over the report's images, in dB (infinite when exact).
    public let sqnr: Double
}

extension IntegerModel {
    /// A report of every value a rescaling step makes: parameters, calibrated range and the SQNR of
    /// its codes against the float model's value on `images` (the float graph replayed with `tensors`).
    /// The ranges are the observed ones (for a model with learned steps, the calibrated ranges they started from).
    public func layerReports(_ images: Tensor, tensors: [String: Tensor]) throws -> [LayerReport] {
        var float: [Int: Tensor] = [:]
        _ = try graph.run(images, tensors: tensors) { value, tensor in float[value] = tensor }
        let codes = self.codes(images)
        return agreement(images).compactMap { step -> LayerReport? in
            guard let reference = float[step.output], let p = parameters[step.output], let module = modules[step.output],
                  let range = ranges[step.output] else { return nil }
            var signal = 0.0, noise = 0.0
            for (f, q) in zip(reference.scalars, codes[step.output]!) {
                signal += Double(f) * Double(f)
                let error = Double(f) - Double(p.dequantize(Int32(q)))
                noise += error * error
            }
            return LayerReport(value: step.output, module: module, kind: step.kind, parameters: p, minimum: range.minimum,
                               maximum: range.maximum, sqnr: noise == 0 ? .infinity : 10 * log10(signal / noise))
        }
    }
}

/// The integer numbers of one convolution or linear layer (batch norm folded, activation fused):
/// what a quantized checkpoint stores under `/quantization` and an exporter writes.
public struct IntegerLayer: Sendable {
    /// The module path of the convolution or linear layer.
    public let module: String
    /// `conv2d` (dense, grouped or depthwise: see `groups`) or `linear`.
    public let kind: OpKind
    public let groups: Int
    /// The weight codes (HWIO filter or `[inputs, outputs]`), each within its weight type's range.
    public let weightShape: [Int], weight: [Int8]
    /// Per output channel: symmetric weight parameters (zero point 0) and int32 bias codes at scale `input.scale · weight scale`.
    public let weightParameters: [QuantizationParameters], bias: [Int32]
    public let input: QuantizationParameters, output: QuantizationParameters
    /// The output code range after the fused activation.
    public let outputMinimum: Int32, outputMaximum: Int32
}

extension IntegerModel {
    /// Every convolution and linear layer, in execution order.
    public var layers: [IntegerLayer] {
        steps.compactMap { step -> IntegerLayer? in
            switch step {
            case let .convolution(g, filter, bias, scales, requantization, input, output):
                return IntegerLayer(module: modules[output] ?? "", kind: .conv2d, groups: g.groups,
                                    weightShape: [g.kernelHeight, g.kernelWidth, g.inputChannels / g.groups, g.outputChannels], weight: filter,
                                    weightParameters: scales.map { QuantizationParameters(scale: $0, zeroPoint: 0, type: weightTypes[output] ?? .int8) }, bias: bias,
                                    input: parameters[input]!, output: parameters[output]!,
                                    outputMinimum: requantization.minimum, outputMaximum: requantization.maximum)
            case let .fullyConnected(inputs, outputs, weight, bias, scales, requantization, input, output):
                return IntegerLayer(module: modules[output] ?? "", kind: .linear, groups: 1, weightShape: [inputs, outputs], weight: weight,
                                    weightParameters: scales.map { QuantizationParameters(scale: $0, zeroPoint: 0, type: weightTypes[output] ?? .int8) }, bias: bias,
                                    input: parameters[input]!, output: parameters[output]!,
                                    outputMinimum: requantization.minimum, outputMaximum: requantization.maximum)
            default:
                return nil
            }
        }
    }
}
