import Foundation
import MinnowData
import MinnowNN
import MinnowQuantization
import MinnowTensor
import MinnowTraining

/// Everything that decides a pruning run, saved as the run folder's `pruning.json` so that
/// `minnow prune --resume` continues it exactly.
public struct PruningSettings: ForwardCompatible, Equatable, Sendable {
    public static let requiredKeys: Set<String> = ["criterion", "target", "schedule", "baseline", "layersBefore"]
    public var criterion: PruningCriterion
    public var target: PruningTarget
    public var scope: PruningScope
    public var roundTo: Int
    /// Layers whose output channels stay; nil: `ChannelAnalysis.defaultExclusions`.
    public var excluded: [String]?
    public var schedule: PruningSchedule
    /// Training batches the taylor criterion accumulates over at each event.
    public var importanceBatches: Int
    /// Network slimming's L1 penalty on batch-norm scales, applied until the last event (0: none).
    public var sparsity: Float
    /// The unpruned model's size, which targets refer to.
    public var baseline: ModelSize
    /// The unpruned model's layers, for the report.
    public var layersBefore: [LayerSize]

    public init(criterion: PruningCriterion, target: PruningTarget, scope: PruningScope = .global, roundTo: Int = 8,
                excluded: [String]? = nil, schedule: PruningSchedule, importanceBatches: Int = 16, sparsity: Float = 0,
                model: any Layer, inputShape: [Int]) throws(PruningError) {
        guard importanceBatches >= 1 else { throw .invalidOption("--importance-batches", "must be at least 1, got \(importanceBatches)") }
        guard sparsity >= 0, sparsity.isFinite else { throw .invalidOption("--sparsity", "must be >= 0, got \(sparsity)") }
        _ = try ChannelSelector(target: target, scope: scope, roundTo: roundTo)
        let analysis = try Self.analyze(model, inputShape: inputShape, excluded: excluded)
        (self.criterion, self.target, self.scope, self.roundTo, self.excluded) = (criterion, target, scope, roundTo, excluded)
        (self.schedule, self.importanceBatches, self.sparsity) = (schedule, importanceBatches, sparsity)
        baseline = ModelSize(analysis)
        layersBefore = LayerSize.all(analysis.graph)
    }

    /// Decodes settings; `scope` (global), `roundTo` (8), `excluded` (the default exclusions),
    /// `importanceBatches` (16) and `sparsity` (0) default when an older file lacks them.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        (criterion, target, schedule) = (try c.decode(PruningCriterion.self, forKey: .criterion), try c.decode(PruningTarget.self, forKey: .target),
                                         try c.decode(PruningSchedule.self, forKey: .schedule))
        (baseline, layersBefore) = (try c.decode(ModelSize.self, forKey: .baseline), try c.decode([LayerSize].self, forKey: .layersBefore))
        (scope, roundTo, excluded) = (try c.decode(.scope, or: .global), try c.decode(.roundTo, or: 8), try c.decode(.excluded, or: nil))
        (importanceBatches, sparsity) = (try c.decode(.importanceBatches, or: 16), try c.decode(.sparsity, or: 0))
    }

    /// The channel analysis of `model` (of its float model, for a quantization-aware one) with
    /// these settings' exclusions.
    static func analyze(_ model: any Layer, inputShape: [Int], excluded: [String]?) throws(PruningError) -> ChannelAnalysis {
        let graph: ModelGraph
        do {
            graph = try ModelGraph.trace(floatModel(model), inputShape: inputShape)
        } catch {
            throw .trace(error.description)
        }
        return try ChannelAnalysis(graph: graph, excluding: excluded ?? ChannelAnalysis.defaultExclusions(graph))
    }
}

/// The float model whose channels are pruned: `model`, or the float model a quantization-aware
/// model wraps.
func floatModel(_ model: any Layer) -> any Layer { (model as? any IntegerFormModel)?.floatModel ?? model }

/// One convolution or linear layer's size: its channels, parameters (with its batch norm's, if
/// any follows it) and MACs per image.
public struct LayerSize: Codable, Equatable, Sendable {
    public var layer: String
    public var inputs: Int, outputs: Int
    public var parameters: Int
    public var macs: Int

    /// The weighted layers of `graph`, in execution order.
    public static func all(_ graph: ModelGraph) -> [LayerSize] {
        graph.ops.compactMap { op in
            guard op.kind.isWeighted, let layer = ChannelAnalysis.layerPath(op),
                  case .value(let input)? = op.operands["input"] else { return nil }
            let parameters = op.operands.values.reduce(0) { sum, operand in
                if case .tensor(let path) = operand, let shape = graph.parameters[path] { return sum + shape.reduce(1, *) }
                return sum
            }
            return LayerSize(layer: layer, inputs: graph.valueShapes[input].last ?? 0, outputs: graph.valueShapes[op.output].last ?? 0,
                             parameters: parameters, macs: graph.multiplyAccumulates(op))
        }
    }
}

/// What one pruning event did.
public struct PruningEvent: Codable, Equatable, Sendable {
    public var step: Int
    public var targetKept: Double
    public var before: ModelSize
    public var after: ModelSize
    /// Channels kept per group (by its first producer's path), for the groups that lost some.
    public var channels: [String: Int]
}

/// Prunes a model as `PruningSettings` say: at each event of the schedule, ranks channels on
/// the current model, selects them against the target (a fraction of the unpruned model's
/// measure) and rebuilds the model without the others. Installed on a `Trainer`, it prunes inside
/// training and swaps the smaller model in (optimizer slots sliced along).
public final class PruningDriver {
    public let settings: PruningSettings
    public let inputShape: [Int]
    public let registry: LayerRegistry
    /// The events so far (this process's; a resumed run starts empty).
    public private(set) var events: [PruningEvent] = []
    /// Batches for the taylor criterion at a step.
    private let importanceBatches: (_ step: Int) -> [Batch]

    public init(settings: PruningSettings, inputShape: [Int], registry: LayerRegistry,
                importanceBatches: @escaping (_ step: Int) -> [Batch]) {
        (self.settings, self.inputShape, self.registry, self.importanceBatches) = (settings, inputShape, registry, importanceBatches)
    }

    /// The fraction kept at each event step.
    public var eventSteps: [Int: Double] {
        Dictionary(settings.schedule.events(finalKept: settings.target.fraction).map { ($0.step, $0.kept) }) { _, last in last }
    }

    /// `model` pruned to keep `kept` of the unpruned measure (unchanged when it already does).
    public func prune(_ model: any Layer, kept: Double, step: Int, optimizer: (any Optimizer)? = nil) throws(PruningError) -> any Layer {
        let analysis = try PruningSettings.analyze(model, inputShape: inputShape, excluded: settings.excluded)
        let before = ModelSize(analysis)
        let selector = try ChannelSelector(target: settings.target.with(fraction: kept), scope: settings.scope, roundTo: settings.roundTo)
        let batches = settings.criterion == .taylor ? importanceBatches(step) : []
        let scores = try ChannelImportance.scores(settings.criterion, analysis: analysis, model: floatModel(model), batches: batches)
        let selection = try selector.select(analysis, scores: scores, baseline: settings.baseline)
        var counts: [Int: Int] = [:]
        for (group, channels) in selection { counts[group] = channels.count }
        var pruned = model
        if let quantized = model as? QuantizedModel, !selection.isEmpty {
            pruned = try Pruner.prune(quantized, analysis: analysis, kept: selection, optimizer: optimizer, registry: registry)
        } else if !selection.isEmpty {
            pruned = try Pruner.prune(model, analysis: analysis, kept: selection, optimizer: optimizer, registry: registry)
        }
        events.append(PruningEvent(step: step, targetKept: kept, before: before, after: ModelSize(analysis, kept: counts),
                                   channels: Dictionary(uniqueKeysWithValues: counts.map { (analysis.groups[$0.key].name, $0.value) })))
        return pruned
    }

    /// Prunes inside `trainer`'s loop at the schedule's steps, and adds the batch-norm sparsity
    /// penalty (if any) to its objective until the last event.
    public func install(on trainer: Trainer) {
        let steps = eventSteps
        trainer.beforeStep = { [unowned self] trainer in
            guard let kept = steps[trainer.globalStep] else { return }
            do {
                trainer.replaceModel(try prune(trainer.model, kept: kept, step: trainer.globalStep, optimizer: trainer.optimizer))
            } catch {
                throw error
            }
        }
        guard settings.sparsity > 0 else { return }
        let objective = trainer.objective, lambda = settings.sparsity
        let last = settings.schedule.lastStep(finalKept: settings.target.fraction)
        trainer.objective = { [unowned trainer] logits, batch in
            var (loss, terms) = try objective(logits, batch)
            guard trainer.globalStep < last else { return (loss, terms) }
            let penalty = BatchNormSparsity.penalty(trainer.model, lambda: lambda)
            terms["bn_sparsity"] = penalty.item
            loss = loss + penalty
            return (loss, terms)
        }
    }
}
