import Foundation
import MinnowNN
import MinnowTensor
import QuantMath

/// A float model run as its int8 form computes it (quantization-aware training, Jacob et al.
/// 2018; Krishnamoorthi 2018): the model's traced graph replayed step by step as
/// `QuantizationPlan` groups it, on the model's own parameters, with every weight and activation
/// fake-quantized where the integer model quantizes it. Training it trains the float model
/// underneath (paths `model.…`); `IntegerModel(quantized:)` turns it into integer arithmetic that
/// agrees with its evaluation-mode output to within one quantization step per value.
///
/// - A convolution or linear layer with a batch norm after it is trained folded, as PyTorch's
///   `ConvBn2d` QAT modules do: the filter is scaled by `γ / sqrt(running variance + ε)` and
///   fake-quantized, the convolution's output is divided by the same factor (here: the quantized
///   filter, channel by channel, which is the same) and normalized with the batch's statistics
///   (which also update the running ones); after the batch-norm freeze
///   step, and in evaluation, the running statistics are used and the layer is exactly the folded
///   convolution the integer model runs.
/// - Activation ranges are moving-average min/max observers (buffers `ranges.<i>`:
///   minimum, maximum, batches seen), or with LSQ learned steps (`activationSteps.<i>`, zero points
///   fixed at calibration in `activationZeroPoints`).
/// - Dropout is not applied (a quantized model is fine-tuned without it).
/// - `trainingSteps` counts training forward passes; the freeze steps of the scheme refer to it,
///   and it is saved with the model, so a resumed run freezes at the same step.
public final class QuantizedModel: Module, Layer {
    /// The float model whose parameters are trained.
    public let model: any Layer
    public let scheme: QuantizationScheme
    public let inputShape: [Int]
    public let graph: ModelGraph
    public let plan: QuantizationPlan
    /// Per quantized value (`plan.quantizedValues`): `[minimum, maximum, batches observed]`.
    public let ranges: [Buffer]
    /// LSQ only: the step of each quantized value, and its fixed zero point (zeros otherwise).
    public let activationSteps: [Parameter]
    public let activationZeroPoints: Buffer
    /// LSQ only: the per-output-channel steps of each affine step's weights, in plan order.
    public let weightSteps: [Parameter]
    public let trainingSteps: Buffer

    let slots: [Int: Int]
    let parameterByPath: [String: Parameter]
    let bufferByPath: [String: Buffer]

    /// The layer (module path) whose per-channel weights each of `weightSteps` scales, in order.
    public var weightStepLayers: [String] {
        plan.steps.compactMap { step -> String? in
            guard case let .affine(op, _, _, _, _) = step else { return nil }
            return graph.ops[op].module
        }
    }

    /// Sets one of the quantizer's own tensors (`ranges.<i>`, `activationZeroPoints`,
    /// `trainingSteps`, `activationSteps.<i>`, `weightSteps.<i>`), as a pruned copy carries them over.
    public func assignQuantizerState(_ path: String, _ value: Tensor) {
        if let parameter = namedParameters().first(where: { $0.path == path })?.parameter { parameter.assign(value) }
        if let buffer = namedBuffers().first(where: { $0.path == path })?.buffer { buffer.value = value }
    }

    /// Wraps `model` (its weights are shared, not copied). Ranges start unobserved: calibrate
    /// before evaluating, or let training observe them.
    public init(model: any Layer, inputShape: [Int], scheme: QuantizationScheme = QuantizationScheme()) throws {
        let graph = try ModelGraph.trace(model, inputShape: inputShape)
        let plan = try QuantizationPlan(graph)
        let modules = Set(plan.steps.compactMap { step -> String? in
            if case let .affine(op, _, _, _, _) = step { graph.ops[op].module } else { nil }
        })
        try scheme.validate(modules: modules)
        self.model = model
        self.scheme = scheme
        self.inputShape = inputShape
        self.graph = graph
        self.plan = plan
        slots = Dictionary(uniqueKeysWithValues: plan.quantizedValues.enumerated().map { ($1, $0) })
        ranges = plan.quantizedValues.map { _ in Buffer(Tensor(shape: [3], scalars: [0, 0, 0])) }
        let lsq = scheme.method == .lsq
        activationSteps = lsq ? plan.quantizedValues.map { _ in Parameter(Tensor(shape: [1], scalars: [1])) } : []
        activationZeroPoints = Buffer(Tensor.zeros([plan.quantizedValues.count]))
        weightSteps = lsq ? plan.steps.compactMap { step -> Parameter? in
            guard case let .affine(op, _, _, _, _) = step else { return nil }
            return Parameter(Tensor.ones([graph.valueShapes[graph.ops[op].output].last!]))
        } : []
        trainingSteps = Buffer(Tensor.zeros([1]))
        parameterByPath = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.parameter) })
        bufferByPath = Dictionary(uniqueKeysWithValues: model.namedBuffers().map { ($0.path, $0.buffer) })
        super.init()
        train(model.isTraining)
    }

    /// Training steps taken so far.
    public var stepCount: Int { Int(trainingSteps.value.scalars[0]) }

    /// The quantization parameters of value `id` as the model stands (its observed range, or its
    /// learned step); nil before the value was observed.
    public func parameters(ofValue id: Int) -> QuantizationParameters? {
        guard let slot = slots[id] else { return nil }
        if scheme.method == .lsq {
            return QuantizationParameters(scale: max(activationSteps[slot].value.scalars[0], QuantizationParameters.minimumScale),
                                          zeroPoint: Int32(activationZeroPoints.value.scalars[slot]))
        }
        let range = ranges[slot].value.scalars
        guard range[2] > 0 else { return nil }
        return .asymmetric(minimum: range[0], maximum: range[1])
    }

    /// Sets every activation range to the min/max of the float model's values on `batches`
    /// (post-training calibration; no weight changes). With LSQ, also the initial steps: each
    /// activation's from its calibrated parameters (its zero point is kept from then on), each
    /// weight channel's `2 mean(|w|) / sqrt(Qp)` as the paper initializes them.
    public func calibrate(_ batches: [Tensor]) throws {
        var observers: [Int: MinMaxObserver] = [:]
        var images = 0
        let wasTraining = model.isTraining
        model.eval()
        let tensors = graph.tensors(of: model)
        for batch in batches {
            _ = try graph.run(batch, tensors: tensors) { value, tensor in
                if self.slots[value] != nil { observers[value, default: MinMaxObserver()].observe(tensor) }
            }
            images += batch.shape.first ?? 0
        }
        model.train(wasTraining)
        guard images > 0 else { throw QuantizationError.noObservations("calibration (zero images)") }
        for (value, slot) in slots {
            guard let observer = observers[value] else { throw QuantizationError.noObservations("value %\(value)") }
            let (low, high) = try observer.range()
            ranges[slot].value = Tensor(shape: [3], scalars: [low, high, 1])
            if scheme.method == .lsq {
                let p = QuantizationParameters.asymmetric(minimum: low, maximum: high)
                activationSteps[slot].assign(Tensor(shape: [1], scalars: [p.scale]))
                activationZeroPoints.value.withUnsafeMutablePointer { $0[slot] = Float(p.zeroPoint) }
            }
        }
        if scheme.method == .lsq { initializeWeightSteps() }
    }

    private func initializeWeightSteps() {
        var index = 0
        for case let .affine(op, batchNorm, _, _, _) in plan.steps {
            let weights = withoutGrad { foldedWeights(graph.ops[op], batchNorm: batchNorm).weights }
            let channels = weights.shape.last!, values = weights.scalars
            let type = scheme.weightType(of: graph.ops[op].module)
            let perChannel = Float(values.count / channels)
            var sums = [Float](repeating: 0, count: channels)
            for (i, v) in values.enumerated() { sums[i % channels] += abs(v) }
            weightSteps[index].assign(Tensor(shape: [channels], scalars: sums.map {
                max(2 * ($0 / perChannel) / Float(type.maximum).squareRoot(), QuantizationParameters.minimumScale)
            }))
            index += 1
        }
    }

    public func forward(_ input: Tensor) -> Tensor {
        let training = isTraining, step = stepCount
        let observing = training && step < (scheme.freezeObserversAfter ?? .max)
        let batchStatistics = training && step < (scheme.freezeBatchNormAfter ?? .max)
        var values: [Int: Tensor] = [graph.input: quantizeActivation(input, value: graph.input, observing: observing)]
        var affineIndex = 0
        for planned in plan.steps {
            let output: Tensor
            switch planned {
            case let .affine(op, batchNorm, activation, inputValue, outputValue):
                // The fused activation is the clamp of the output codes, as in the integer kernel.
                let preActivation = affine(graph.ops[op], batchNorm: batchNorm, input: values[inputValue]!, weightIndex: affineIndex,
                                           batchStatistics: batchStatistics)
                affineIndex += 1
                values[outputValue] = quantizeActivation(preActivation, value: outputValue, observing: observing, activation: activation)
                continue
            case let .add(_, a, b, _):
                output = values[a]! + values[b]!
            case let .concatenate(op, inputs, _):
                output = Tensor.concatenate(inputs.map { values[$0]! }, axis: graph.ops[op].attributes["axis"]!.int!)
            case let .maxPool(op, input, _):
                let o = graph.ops[op]
                output = maxPool2d(values[input]!, kernelSize: o.pair("kernel_size"), stride: o.pair("stride"), padding: o.pair("padding"))
            case let .globalAveragePool(_, input, _):
                output = globalAvgPool2d(values[input]!)
            case let .clamp(_, activation, input, _):
                output = values[input]!.activation(activation)
            case let .lookupTable(op, input, _):
                // The function on the fake-quantized input, then its own output quantization: what
                // the integer model's table gives for each input code.
                output = Self.lookupFunction(graph.ops[op], values[input]!)
            case let .alias(op, input, _):
                let o = graph.ops[op], x = values[input]!
                output = switch o.kind {
                case .flatten: x.flattenedBatch()
                case .reshape: x.reshaped([x.shape[0]] + (o.attributes["shape"]?.ints ?? []))
                default: x
                }
            }
            values[planned.output] = planned.rescales ? quantizeActivation(output, value: planned.output, observing: observing) : output
        }
        if training { trainingSteps.value = Tensor(shape: [1], scalars: [Float(step + 1)]) }
        return values[graph.output]!
    }

    /// A lookup-table activation op applied to `x` (leaky ReLU with its traced slope).
    static func lookupFunction(_ op: TracedOp, _ x: Tensor) -> Tensor {
        x.activation(op.kind.activation!, slope: op.attributes["slope"]?.float ?? ActivationFunction.defaultSlope)
    }

    /// The weights (and bias) of a convolution or linear layer with its batch norm folded in with
    /// the running statistics: `w · f`, `(b - mean) · f + β` with `f = γ · (1 / sqrt(var + ε))`.
    /// The factor is returned for the training path, which divides it out again.
    func foldedWeights(_ op: TracedOp, batchNorm: Int?) -> (weights: Tensor, bias: Tensor?, factor: Tensor?) {
        let weights = tensor(op, op.kind == .linear ? "weight" : "filter")!, bias = tensor(op, "bias")
        guard let batchNorm else { return (weights, bias, nil) }
        let bn = graph.ops[batchNorm]
        let folded = BatchNormFolding.fold(weights: weights, bias: bias, scale: tensor(bn, "scale")!, offset: tensor(bn, "offset")!,
                                           runningMean: tensor(bn, "running_mean")!, runningVariance: tensor(bn, "running_variance")!,
                                           epsilon: bn.attributes["epsilon"]!.float!)
        return (folded.weights, folded.bias, folded.factor)
    }

    /// A convolution or linear layer with its batch norm folded, before its activation.
    private func affine(_ op: TracedOp, batchNorm: Int?, input: Tensor, weightIndex: Int, batchStatistics: Bool) -> Tensor {
        let (weights, foldedBias, factor) = foldedWeights(op, batchNorm: batchNorm)
        let quantized = quantizeWeights(weights, module: op.module, index: weightIndex)
        var output: Tensor
        if let bnIndex = batchNorm, let factor, batchStatistics {
            // Undo the folding factor and normalize with the batch's statistics, updating the
            // running ones. The factor is per output channel, so dividing the quantized weights
            // by it equals dividing the convolution's output (PyTorch divides the output): the
            // same function, at the cost of a weight-sized op instead of an activation-sized one.
            // Where γ is 0 the weights are 0 and stay 0.
            let zero = Tensor(shape: factor.shape, scalars: factor.scalars.map { $0 == 0 ? 1 : 0 })
            var unscaled = apply(op, input, quantized / (factor + zero))
            if let bias = tensor(op, "bias") { unscaled = unscaled + bias }
            let bn = graph.ops[bnIndex]
            let (meanPath, variancePath) = (bn.operands["running_mean"]!.path!, bn.operands["running_variance"]!.path!)
            let (mean, variance) = (bufferByPath[meanPath]!, bufferByPath[variancePath]!)
            output = MinnowTensor.batchNorm(unscaled, scale: tensor(bn, "scale")!, offset: tensor(bn, "offset")!,
                               runningMean: &mean.value, runningVariance: &variance.value,
                               training: true, momentum: bn.attributes["momentum"]!.float!, epsilon: bn.attributes["epsilon"]!.float!)
        } else {
            output = apply(op, input, quantized)
            if let foldedBias { output = output + foldedBias }
        }
        return output
    }

    private func apply(_ op: TracedOp, _ input: Tensor, _ weights: Tensor) -> Tensor {
        if op.kind == .linear { return linear(input, weight: weights, bias: nil) }
        return conv2d(input, weights, bias: nil, stride: op.pair("stride"), padding: op.pair("padding"), dilation: op.pair("dilation"),
                      groups: op.attributes["groups"]?.int ?? 1)
    }

    private func quantizeWeights(_ weights: Tensor, module: String, index: Int) -> Tensor {
        let type = scheme.weightType(of: module), channels = weights.shape.last!
        switch scheme.method {
        case .observers:
            return fakeQuantize(weights, perChannel: perChannelWeightParameters(weights, type: type),
                                axis: weights.rank - 1)
        case .lsq:
            let gradientScale = 1 / (Float(weights.count / channels) * Float(type.maximum)).squareRoot()
            return learnedStepQuantize(weights, step: weightSteps[index].value, zeroPoints: Array(repeating: 0, count: channels), type: type,
                                       axis: weights.rank - 1, gradientScale: gradientScale)
        }
    }

    /// Fake quantization of value `value` given `x`, the value before `activation` (a fused ReLU or
    /// ReLU6 is the clamp of the codes, and the observed range is the activation of `x`'s, both
    /// activations being monotonic).
    private func quantizeActivation(_ x: Tensor, value: Int, observing: Bool, activation: ActivationFunction = .identity) -> Tensor {
        let slot = slots[value]!
        if scheme.method == .lsq {
            let gradientScale = 1 / (Float(x.count / max(1, x.shape[0])) * 127).squareRoot()
            let y = x.activation(activation)
            return learnedStepQuantize(y, step: activationSteps[slot].value, zeroPoints: [Int32(activationZeroPoints.value.scalars[slot])],
                                       axis: nil, gradientScale: gradientScale)
        }
        var range = ranges[slot].value.scalars
        if observing || range[2] == 0 {
            var batch = MinMaxObserver()
            batch.observe(x)
            if var (low, high) = try? batch.range() {
                if activation != .identity {
                    let top: Float = activation == .relu6 ? 6 : .infinity
                    (low, high) = (min(max(low, 0), top), min(max(high, 0), top))
                }
                if range[2] == 0 {
                    range = [low, high, 1]
                } else {
                    range[0] += scheme.averagingConstant * (low - range[0])
                    range[1] += scheme.averagingConstant * (high - range[1])
                    range[2] += 1
                }
                ranges[slot].value = Tensor(shape: [3], scalars: range)
            }
        }
        let parameters = QuantizationParameters.asymmetric(minimum: range[0], maximum: range[1])
        return activation == .identity ? fakeQuantize(x, parameters) : fakeQuantize(x, parameters, codes: activationRange(activation, output: parameters))
    }

    func tensor(_ op: TracedOp, _ role: String) -> Tensor? {
        guard case .tensor(let path)? = op.operands[role] else { return nil }
        return parameterByPath[path]?.value ?? bufferByPath[path]?.value
    }
}

extension TracedOperand {
    /// The tensor path of an operand that names one of the model's tensors.
    var path: String? { if case .tensor(let path) = self { path } else { nil } }
}

extension TracedOp {
    /// A two-integer attribute (stride, padding, ...), `(1, 1)` when absent.
    func pair(_ name: String) -> (Int, Int) {
        let values = attributes[name]?.ints ?? [1, 1]
        return (values[0], values[1])
    }
}

extension QuantizedModel: DescribableLayer {
    /// The float model's description, the input shape its graph is traced at, and the scheme.
    public struct Spec: ForwardCompatible, Equatable, Sendable {
        public static let requiredKeys: Set<String> = ["model", "inputShape"]
        public var model: LayerDescription
        public var inputShape: [Int]
        public var scheme: QuantizationScheme

        public init(model: LayerDescription, inputShape: [Int], scheme: QuantizationScheme = QuantizationScheme()) {
            (self.model, self.inputShape, self.scheme) = (model, inputShape, scheme)
        }

        /// Decodes a spec; the default scheme (8-bit observers) when an older file has none.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(model: try c.decode(LayerDescription.self, forKey: .model), inputShape: try c.decode([Int].self, forKey: .inputShape),
                      scheme: try c.decode(.scheme, or: QuantizationScheme()))
        }
    }

    public static let kind = "quantized"

    public var spec: Spec {
        get throws(DescriptionError) { Spec(model: try LayerDescription(describing: model), inputShape: inputShape, scheme: scheme) }
    }

    public convenience init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError) {
        let model = try registry.build(spec.model, generator: &generator)
        do {
            try self.init(model: model, inputShape: spec.inputShape, scheme: spec.scheme)
        } catch let error as CustomStringConvertible & Error {
            throw .invalidSpec(kind: Self.kind, detail: error.description)
        } catch {
            throw .invalidSpec(kind: Self.kind, detail: "\(error)")
        }
    }
}
