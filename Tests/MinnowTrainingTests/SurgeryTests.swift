import Foundation
import MinnowCheckpoint
import MinnowModels
import MinnowNN
import MinnowTensor
import MinnowTraining
import XCTest

/// Surgery keeps what a model learned: channels that carry nothing (zero weights, zero optimizer
/// state) removed from a trained model leave training unchanged, and the smaller model saves,
/// reloads from its checkpoint alone and continues exactly.
final class SurgeryTests: XCTestCase {
    let config = ModelConfig(architecture: .mobilenetV2, width: 0.25, dropout: 0.1, inputShape: [12, 12, 1], classes: 4, seed: 3)
    let dead = [1, 4, 30]
    /// `features.2` is an inverted residual with 48 hidden channels (8 in, 8 out).
    let block = "features.2"

    lazy var batches: [(images: Tensor, labels: [Int])] = {
        var generator = SeededGenerator(seed: 8)
        return (0..<8).map { _ in
            (Tensor.randomNormal([16, 12, 12, 1], generator: &generator), (0..<16).map { _ in Int(generator.next() % 4) })
        }
    }()

    func step(_ model: any Layer, _ optimizer: any Optimizer, _ index: Int) -> Float {
        let batch = batches[index % batches.count]
        model.zeroGrad()
        let loss = crossEntropy(logits: model(batch.images), labels: batch.labels)
        loss.backward()
        optimizer.step(model.namedParameters())
        return loss.item
    }

    /// Sets the entries at `indices` along `axis` to zero.
    func zeroing(_ tensor: Tensor, _ indices: [Int], axis: Int) -> Tensor {
        let extent = tensor.shape[axis], inner = tensor.shape[(axis + 1)...].reduce(1, *)
        var values = tensor.scalars
        for position in values.indices where indices.contains((position / inner) % extent) { values[position] = 0 }
        return Tensor(shape: tensor.shape, scalars: values)
    }

    /// The hidden channels `dead` of the block made dead in every tensor and optimizer slot that
    /// touches them: nothing flows through them and no gradient reaches them.
    func killChannels(_ model: any Layer, _ optimizer: any Optimizer) {
        let axes = ["\(block).expand.conv.filter": 3, "\(block).expand.bn.scale": 0, "\(block).expand.bn.offset": 0,
                    "\(block).depthwise.conv.filter": 3, "\(block).depthwise.bn.scale": 0, "\(block).depthwise.bn.offset": 0,
                    "\(block).project.filter": 2]
        for (path, parameter) in model.namedParameters() {
            guard let axis = axes[path] else { continue }
            parameter.assign(zeroing(parameter.value, dead, axis: axis))
            if let slots = optimizer.slots[path] { optimizer.slots[path] = slots.mapValues { zeroing($0, dead, axis: axis) } }
        }
    }

    func copy(_ sgd: SGD) -> SGD {
        let copy = SGD(learningRate: sgd.learningRate, momentum: sgd.momentum, nesterov: sgd.nesterov, weightDecay: sgd.weightDecay)
        (copy.slots, copy.stepCount) = (sgd.slots, sgd.stepCount)
        return copy
    }

    func selections() -> [ChannelSelection] {
        let keep = (0..<48).filter { !dead.contains($0) }
        return [ChannelSelection(path: "\(block).expand.conv", outputs: keep), ChannelSelection(path: "\(block).expand.bn", outputs: keep),
                ChannelSelection(path: "\(block).depthwise.conv", outputs: keep), ChannelSelection(path: "\(block).depthwise.bn", outputs: keep),
                ChannelSelection(path: "\(block).project", inputs: keep)]
    }

    func testRemovingDeadChannelsLeavesTrainingUnchanged() throws {
        let model = try ModelZoo.build(config)
        let optimizer = SGD(learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
        for index in 0..<3 { _ = step(model, optimizer, index) }
        killChannels(model, optimizer)
        let before = model.parameterCount

        let smallerOptimizer = copy(optimizer)
        let smaller = try Surgery.keepingChannels(selections(), of: model, inputShape: config.inputShape, optimizer: smallerOptimizer, registry: .zoo)
        XCTAssertEqual(smaller.parameterCount, before - dead.count * (8 + 2 + 9 + 2 + 8))
        XCTAssertEqual(smaller.namedParameters().first { $0.path == "\(block).depthwise.conv.filter" }?.parameter.shape, [3, 3, 1, 45])
        XCTAssertEqual(smallerOptimizer.slots["\(block).project.filter"]?["momentum"]?.shape, [1, 1, 45, 8], "optimizer state sliced along")

        for index in 3..<8 {
            let (expected, actual) = (step(model, optimizer, index), step(smaller, smallerOptimizer, index))
            XCTAssertEqual(actual, expected, accuracy: 1e-5 * abs(expected), "step \(index)")
        }

        // The smaller model saves, reloads from its checkpoint alone (its description) and continues exactly.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-surgery-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelCheckpoint.save(smaller, config: config, to: url, optimizer: smallerOptimizer,
                                 training: TrainingState(epoch: 0, step: 8, threads: Threads.count))
        let (reloaded, _) = try ModelCheckpoint.loadModel(from: url)
        let file = try ModelCheckpoint.open(url)
        let reloadedOptimizer = try ModelCheckpoint.loadOptimizer(from: file, model: reloaded)
        XCTAssertEqual(try ModelCheckpoint.loadTraining(from: file, into: reloaded).step, 8)  // restores the dropout generator
        XCTAssertEqual(reloaded.namedParameters().map(\.path), smaller.namedParameters().map(\.path))
        for index in 8..<11 {
            XCTAssertEqual(step(reloaded, reloadedOptimizer, index).bitPattern, step(smaller, smallerOptimizer, index).bitPattern, "step \(index)")
        }
        XCTAssertTrue(reloaded.namedParameters().map(\.parameter.value.scalars) == smaller.namedParameters().map(\.parameter.value.scalars),
                      "the reloaded model continued exactly as the edited one")

        // A trainer of the edited model refuses a checkpoint of the unedited one, and the other way round.
        let original = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-surgery-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: original) }
        try ModelCheckpoint.save(model, config: config, to: original, optimizer: optimizer, training: TrainingState(epoch: 0, step: 8, threads: 1))
        XCTAssertThrowsError(try Trainer(config: TrainingConfig(model: config), model: reloaded).restore(from: ModelCheckpoint.open(original))) { error in
            XCTAssertTrue("\(error)".contains("the checkpoint's model is not this trainer's"), "\(error)")
        }
    }

    /// Edits that do not fit are errors that say why, and the model is left as it was.
    func testBadEditsAreErrors() throws {
        let model = try ModelZoo.build(config)
        let layout = model.namedParameters().map { "\($0.path) \($0.parameter.shape)" }
        let cases: [([ChannelSelection], String)] = [
            ([ChannelSelection(path: "features.99", outputs: [0])], "the model has no layer 'features.99'"),
            ([ChannelSelection(path: "\(block).expand.conv", outputs: [0, 0])], "must be distinct"),
            ([ChannelSelection(path: "\(block).expand.conv", outputs: [48])], "in 0..<48"),
            ([ChannelSelection(path: "\(block).depthwise.conv", inputs: [0])], "select outputs only"),
            ([ChannelSelection(path: "\(block).expand.conv", outputs: Array(0..<40))],
             "expand output and depthwise input: 40 vs 48 channels"),
            ([ChannelSelection(path: "features.0.conv", outputs: Array(0..<4)), ChannelSelection(path: "features.0.bn", outputs: Array(0..<4))],
             "a layer coupled to the edited channels was not edited"),
            ([ChannelSelection(path: "\(block).expand", outputs: [0])], "has no channels to select"),
        ]
        for (selections, expected) in cases {
            XCTAssertThrowsError(try Surgery.keepingChannels(selections, of: model, inputShape: config.inputShape, registry: .zoo)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(selections): \(error)")
            }
        }
        XCTAssertEqual(model.namedParameters().map { "\($0.path) \($0.parameter.shape)" }, layout)
    }

    /// A layer replaced by another with its weights; the rest of the model keeps its own.
    func testReplacingALayer() throws {
        let model = try ModelZoo.build(config)
        var generator = SeededGenerator(seed: 11)
        let head = Linear(inputFeatures: 128, outputFeatures: 4, generator: &generator)
        let edited = try Surgery.replacing("fc", in: model, with: head, inputShape: config.inputShape, registry: .zoo)
        let parameters = Dictionary(uniqueKeysWithValues: edited.namedParameters().map { ($0.path, $0.parameter.value.scalars) })
        XCTAssertEqual(parameters["fc.weight"], head.weight.value.scalars)
        XCTAssertEqual(parameters["features.0.conv.filter"], model.namedParameters().first { $0.path == "features.0.conv.filter" }?.parameter.value.scalars)
        XCTAssertThrowsError(try Surgery.replacing("fc", in: model, with: Activation(.relu), inputShape: config.inputShape, registry: .zoo)) { error in
            XCTAssertTrue("\(error)".contains("cannot be built"), "\(error)")
        }
    }
}
