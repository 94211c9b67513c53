import MinnowNN
import MinnowQuantization
import MinnowTensor

extension Pruner {
    /// A copy of a quantization-aware model with only the kept channels of its float model: the
    /// float model is pruned (`prune`), wrapped again with the same scheme, and the quantizer's
    /// state carried over: per-tensor activation ranges, zero points, LSQ activation steps and the
    /// step counter as they were, LSQ per-channel weight steps sliced to the kept output channels
    /// of their layer (NNCF#406: scales pruned with their channels). `optimizer`'s slots are sliced
    /// along (the float model's under `model.`, the weight steps' like the steps).
    public static func prune(_ quantized: QuantizedModel, analysis: ChannelAnalysis, kept: [Int: [Int]], optimizer: (any Optimizer)? = nil,
                             registry: LayerRegistry) throws(PruningError) -> QuantizedModel {
        let prefix = "model."
        var quantizerSlots: [String: [String: Tensor]] = [:]
        if let optimizer {
            var inner: [String: [String: Tensor]] = [:]
            for (path, slots) in optimizer.slots {
                if path.hasPrefix(prefix) { inner[String(path.dropFirst(prefix.count))] = slots } else { quantizerSlots[path] = slots }
            }
            optimizer.slots = inner
        }
        let model = try prune(quantized.model, analysis: analysis, kept: kept, optimizer: optimizer, registry: registry)
        let result: QuantizedModel
        do {
            result = try QuantizedModel(model: model, inputShape: quantized.inputShape, scheme: quantized.scheme)
        } catch {
            throw .surgery("the pruned model cannot be quantized again: \(error)")
        }
        let outputs = Dictionary(uniqueKeysWithValues: selections(analysis, kept: kept).compactMap { s in s.outputs.map { (s.path, $0) } })
        let weightLayers = quantized.weightStepLayers
        var slots: [String: [String: Tensor]] = [:]
        for (path, tensor) in quantizedState(quantized) {
            var value = tensor
            var slice: (Tensor) -> Tensor = { $0 }
            if let index = weightStepIndex(path), let keep = outputs[weightLayers[index]] {
                slice = { tensor in let values = tensor.scalars; return Tensor(shape: [keep.count], scalars: keep.map { values[$0] }) }
                value = slice(tensor)
            }
            result.assignQuantizerState(path, value)
            if let state = quantizerSlots[path] { slots[path] = state.mapValues(slice) }
        }
        if let optimizer {
            for (path, state) in optimizer.slots { slots[prefix + path] = state }
            optimizer.slots = slots
        }
        result.train(quantized.isTraining)
        return result
    }

    /// The quantizer's own parameters and buffers (not the float model's), by path.
    private static func quantizedState(_ quantized: QuantizedModel) -> [(String, Tensor)] {
        quantized.namedParameters().filter { !$0.path.hasPrefix("model.") }.map { ($0.path, $0.parameter.value) }
            + quantized.namedBuffers().filter { !$0.path.hasPrefix("model.") }.map { ($0.path, $0.buffer.value) }
    }

    private static func weightStepIndex(_ path: String) -> Int? {
        path.hasPrefix("weightSteps.") ? Int(path.dropFirst("weightSteps.".count)) : nil
    }
}
