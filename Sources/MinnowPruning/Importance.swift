import MinnowData
import MinnowNN
import MinnowTensor

/// How channels are ranked for removal (lowest first).
public enum PruningCriterion: String, Codable, CaseIterable, Sendable {
    /// L1 norm of each channel's filter (Li et al. 2017, "Pruning Filters for Efficient ConvNets").
    case l1
    /// L2 norm of each channel's filter.
    case l2
    /// |batch-norm scale| (network slimming, Liu et al. 2017), meant to follow training with an L1
    /// penalty on the scales (`BatchNormSparsity`).
    case bn
    /// First-order Taylor estimate of the loss change when the channel is removed (Molchanov et al.
    /// 2019), accumulated over batches.
    case taylor
}

/// Per-channel scores of each prunable group, by group id (higher is more important).
///
/// How a group's score combines its members (documented in docs/pruning.md):
/// - `l1`/`l2`: the mean over the group's filters (each producer's output filter and each
///   depthwise filter, as in Li et al.) of the channel's filter norm; then divided by the mean over
///   the group's channels, so that global ranking compares channels within their layer's scale
///   (Torch-Pruning's "mean" normalizer).
/// - `bn`: the mean over the group's batch norms of |scale|, not normalized (network slimming
///   ranks raw scales globally). A group without a batch norm has no score and is not pruned.
/// - `taylor`: per batch, the sum over the group's batch norms of `scale * dL/dscale + offset *
///   dL/doffset` for the channel (the change of the loss when the channel's gate after the batch
///   norm goes to zero; producers' filters and biases when the group has no batch norm), squared,
///   then averaged over the batches (Molchanov et al. 2019, eq. 8 with the group's parameters);
///   not normalized (loss units are comparable across layers).
public enum ChannelImportance {
    /// Scores of the prunable groups of `analysis` for `model`. `batches` (training batches, for
    /// `taylor` only) are run forward and backward in evaluation mode (running statistics do not
    /// move); the model's gradients are cleared afterwards.
    public static func scores(_ criterion: PruningCriterion, analysis: ChannelAnalysis, model: any Layer,
                              batches: [Batch] = []) throws(PruningError) -> [Int: [Float]] {
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.parameter) })
        switch criterion {
        case .l1, .l2:
            return magnitude(analysis, parameters, power: criterion == .l1 ? 1 : 2)
        case .bn:
            var result: [Int: [Float]] = [:]
            for group in analysis.prunableGroups {
                let norms = group.members.filter { analysis.layers[$0.layer]?.kind == .batchNorm }.compactMap { member in
                    parameters["\(member.layer).scale"].map { channelValues($0.value.scalars, member, group.channels).map(Swift.abs) }
                }
                if !norms.isEmpty { result[group.id] = mean(norms) }
            }
            return result
        case .taylor:
            guard !batches.isEmpty else { throw .invalidOption("--importance-batches", "the taylor criterion needs at least one batch") }
            return taylor(analysis, model: model, parameters: parameters, batches: batches)
        }
    }

    private static func magnitude(_ analysis: ChannelAnalysis, _ parameters: [String: Parameter], power: Float) -> [Int: [Float]] {
        var result: [Int: [Float]] = [:]
        for group in analysis.prunableGroups {
            var norms: [[Float]] = []
            for member in group.members {
                guard let layer = analysis.layers[member.layer], member.role == .producer || layer.kind == .depthwise else { continue }
                let weight = parameters["\(member.layer).filter"] ?? parameters["\(member.layer).weight"]
                guard let weight else { continue }
                norms.append(filterNorms(weight.value, member: member, channels: group.channels, power: power))
            }
            guard !norms.isEmpty else { continue }
            let scores = mean(norms)
            let average = scores.reduce(0, +) / Float(scores.count)
            result[group.id] = average > 0 ? scores.map { $0 / average } : scores
        }
        return result
    }

    /// The p-norm of each of the group's channels along the weight's last axis (HWIO filters,
    /// `[in, out]` linear weights: the output axis is last in both).
    static func filterNorms(_ weight: Tensor, member: ChannelMember, channels: Int, power: Float) -> [Float] {
        let outputs = weight.shape.last ?? 1
        let values = weight.scalars
        var sums = [Float](repeating: 0, count: channels)
        for row in 0..<(values.count / outputs) {
            for c in 0..<channels {
                let x = values[row * outputs + member.offset + c]
                sums[c] += power == 1 ? Swift.abs(x) : x * x
            }
        }
        return power == 1 ? sums : sums.map { $0.squareRoot() }
    }

    private static func taylor(_ analysis: ChannelAnalysis, model: any Layer, parameters: [String: Parameter],
                               batches: [Batch]) -> [Int: [Float]] {
        let wasTraining = model.isTraining
        model.eval()
        defer {
            model.train(wasTraining)
            for parameter in parameters.values { parameter.zeroGrad() }
        }
        var sums: [Int: [Float]] = [:]
        for batch in batches {
            for parameter in parameters.values { parameter.zeroGrad() }
            crossEntropy(logits: model(batch.images), labels: batch.labels).backward()
            for group in analysis.prunableGroups {
                var gate = [Float](repeating: 0, count: group.channels)
                let norms = group.members.filter { analysis.layers[$0.layer]?.kind == .batchNorm }
                let gated = norms.isEmpty ? group.members.filter { $0.role == .producer } : norms
                for member in gated {
                    for name in norms.isEmpty ? ["filter", "weight", "bias"] : ["scale", "offset"] {
                        guard let parameter = parameters["\(member.layer).\(name)"], let grad = parameter.grad else { continue }
                        let products = zip(parameter.value.scalars, grad.scalars).map { $0 * $1 }
                        let outputs = parameter.shape.last ?? 1
                        for row in 0..<(products.count / outputs) {
                            for c in 0..<group.channels { gate[c] += products[row * outputs + member.offset + c] }
                        }
                    }
                }
                sums[group.id] = zip(sums[group.id] ?? gate.map { _ in 0 }, gate).map { $0 + $1 * $1 }
            }
        }
        return sums.mapValues { $0.map { $0 / Float(batches.count) } }
    }

    private static func channelValues(_ values: [Float], _ member: ChannelMember, _ channels: Int) -> [Float] {
        Array(values[member.offset..<(member.offset + channels)])
    }

    private static func mean(_ rows: [[Float]]) -> [Float] {
        rows.dropFirst().reduce(rows[0]) { zip($0, $1).map(+) }.map { $0 / Float(rows.count) }
    }
}

/// The L1 penalty on batch-norm scales of network slimming (Liu et al. 2017): `lambda * sum |scale|`
/// over every batch norm of the model, added to the training loss before channels are ranked by
/// `PruningCriterion.bn`.
public enum BatchNormSparsity {
    /// The penalty term for `model` (a scalar tensor, differentiable in the scales).
    public static func penalty(_ model: any Layer, lambda: Float) -> Tensor {
        var scales: [Tensor] = []
        model.visitModules { _, module in if let norm = module as? BatchNorm { scales.append(norm.scale.value) } }
        return scales.dropFirst().reduce(scales.first.map { $0.abs().sum() } ?? Tensor.zeros([])) { $0 + $1.abs().sum() } * lambda
    }
}
