import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowHDF5
import MinnowKernels
import MinnowModels
import MinnowNN
import MinnowTensor
import XCTest

final class ModelCheckpointTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func bits(_ tensor: Tensor) -> [UInt32] { tensor.scalars.map(\.bitPattern) }

    /// A model whose buffers, optimizer slots and dropout generator all differ from a fresh build.
    private func trainedLookingModel(_ config: ModelConfig) throws -> (any Layer, SGD) {
        let model = try ModelZoo.build(config)
        var generator = SeededGenerator(seed: 99)
        for (_, buffer) in model.namedBuffers() {
            buffer.value = Tensor.randomUniform(buffer.value.shape, low: 0.5, high: 2, generator: &generator)
        }
        let optimizer = SGD(learningRate: 0.05, momentum: 0.85, nesterov: true, weightDecay: 5e-4)
        for (path, parameter) in model.namedParameters() {
            optimizer.slots[path] = ["momentum": Tensor.randomNormal(parameter.shape, generator: &generator)]
        }
        optimizer.stepCount = 17
        model.visitModules { _, module in
            if let dropout = module as? Dropout { for _ in 0..<5 { _ = dropout.generator.next() } }
        }
        return (model, optimizer)
    }

    func testSaveThenLoadIsBitIdentical() throws {
        let config = ModelConfig.preset("student_mbv2")!
        let (model, optimizer) = try trainedLookingModel(config)
        var dataOrder = SeededGenerator(seed: 5)
        _ = dataOrder.next()
        let training = TrainingState(epoch: 3, step: 17, batch: 2, threads: 2, generators: ["data_order": dataOrder])
        let provenance = Provenance(minnowVersion: "0.1.0", commandLine: ["minnow", "train", "--model", "student_mbv2"],
                                    dataset: "fashion-mnist", dataFingerprints: ["train": "0123abcd", "test": "4567ef01"],
                                    seed: 42, createdUTC: "2026-01-31T12:00:00Z")
        let url = folder.appendingPathComponent("last.h5")
        try ModelCheckpoint.save(model, config: config, to: url, optimizer: optimizer, training: training,
                                 metricsHistoryJSON: "[{\"epoch\": 1}]", provenance: provenance)

        let (loaded, loadedConfig) = try ModelCheckpoint.loadModel(from: url)
        XCTAssertEqual(loadedConfig, config)
        XCTAssertEqual(loaded.namedParameters().map(\.path), model.namedParameters().map(\.path))
        XCTAssertEqual(loaded.namedBuffers().map(\.path), model.namedBuffers().map(\.path))
        XCTAssertGreaterThan(model.namedBuffers().count, 0)
        for ((path, expected), (_, actual)) in zip(model.namedParameters(), loaded.namedParameters()) {
            XCTAssertEqual(bits(actual.value), bits(expected.value), path)
        }
        for ((path, expected), (_, actual)) in zip(model.namedBuffers(), loaded.namedBuffers()) {
            XCTAssertEqual(bits(actual.value), bits(expected.value), path)
        }

        let file = try ModelCheckpoint.open(url)
        let restored = try XCTUnwrap(try ModelCheckpoint.loadOptimizer(from: file, model: loaded) as? SGD)
        XCTAssertEqual(restored.stepCount, 17)
        XCTAssertEqual(restored.learningRate.bitPattern, optimizer.learningRate.bitPattern)
        XCTAssertEqual(restored.momentum.bitPattern, optimizer.momentum.bitPattern)
        XCTAssertTrue(restored.nesterov)
        XCTAssertEqual(Set(restored.slots.keys), Set(optimizer.slots.keys))
        for (path, slots) in optimizer.slots {
            XCTAssertEqual(bits(try XCTUnwrap(restored.slots[path]?["momentum"])), bits(slots["momentum"]!), path)
        }
        XCTAssertEqual(try ModelCheckpoint.loadTraining(from: file, into: loaded), training)
        let dropoutStates = { (model: Module) -> [[UInt64]] in
            var states: [[UInt64]] = []
            model.visitModules { _, module in if let dropout = module as? Dropout { states.append(dropout.generator.state) } }
            return states
        }
        XCTAssertFalse(dropoutStates(model).isEmpty)
        XCTAssertEqual(dropoutStates(loaded), dropoutStates(model))
        XCTAssertEqual(try ModelCheckpoint.metricsHistory(in: file), "[{\"epoch\": 1}]")
        XCTAssertEqual(try ModelCheckpoint.loadProvenance(from: file), provenance)
    }

    func testShapesThatDoNotFitTheModelAreNamed() throws {
        let config = ModelConfig.preset("student_squeeze")!
        let url = folder.appendingPathComponent("squeeze.h5")
        try ModelCheckpoint.save(try ModelZoo.build(config), config: config, to: url)
        var other = config
        other.classes = 100
        let model = try ModelZoo.build(other)
        let before = model.namedParameters().map { bits($0.parameter.value) }
        XCTAssertThrowsError(try ModelCheckpoint.loadWeights(into: model, from: try ModelCheckpoint.open(url))) { error in
            guard case let .shapeMismatch(file, _, expected, found)? = error as? CheckpointError else {
                return XCTFail("expected a shape mismatch, got \(error)")
            }
            XCTAssertEqual(file, url.path)
            XCTAssertEqual(expected.last, 100)
            XCTAssertEqual(found.last, 10)
        }
        XCTAssertEqual(model.namedParameters().map { bits($0.parameter.value) }, before, "a failed load changes nothing")
    }

    func testNewerFormatAndNonCheckpointsAreRefused() throws {
        let newer = folder.appendingPathComponent("newer.h5")
        try HDF5File.writeAtomically(to: newer) { file in
            try file.setAttribute("format", ModelCheckpoint.formatName)
            try file.setAttribute("format_version", ModelCheckpoint.formatVersion + 1)
        }
        XCTAssertThrowsError(try ModelCheckpoint.open(newer)) { error in
            XCTAssertEqual(error as? CheckpointError, .unsupportedFormatVersion(file: newer.path, found: 3, supported: 2))
        }
        let plain = folder.appendingPathComponent("plain.h5")
        try HDF5File.writeAtomically(to: plain) { file in try file.write(Tensor.ones([2]), to: "/x") }
        XCTAssertThrowsError(try ModelCheckpoint.loadModel(from: plain)) { error in
            guard case .invalidContent(_, "/", _)? = error as? CheckpointError else { return XCTFail("\(error)") }
        }
    }

    /// A format-1 checkpoint (written before descriptions existed, committed under
    /// Tests/Fixtures/checkpoint-v1) still loads, from its zoo config, and computes the logits it
    /// computed then: bit for bit where OpenBLAS runs the kernels the fixture was made with
    /// (Haswell's, which Zen CPUs run too); within 1e-6 under another kernel family, which adds
    /// the classifier's products in another order (Debian's OpenBLAS 0.3.21 runs its generic
    /// Prescott kernels on an Intel Xeon it does not know: up to 4 units in the last place there).
    func testVersion1CheckpointStillLoads() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/checkpoint-v1")
        let url = fixtures.appendingPathComponent("cnn.h5")
        let file = try ModelCheckpoint.open(url)
        XCTAssertEqual(try file.attribute("format_version", as: Int64.self), 1)
        XCTAssertNil(try ModelCheckpoint.readDescription(file))
        let (model, config) = try ModelCheckpoint.loadModel(from: url)
        XCTAssertEqual(config.architecture, .cnn)
        model.eval()
        let logits = withoutGrad { model(try! NPY.read(fixtures.appendingPathComponent("input.npy"))) }
        let expected = try NPY.read(fixtures.appendingPathComponent("logits.npy")).scalars
        guard !["Haswell", "Zen"].contains(Gemm.openBLASCore) else {
            return XCTAssertEqual(logits.scalars.map(\.bitPattern), expected.map(\.bitPattern))
        }
        XCTAssertEqual(logits.scalars.count, expected.count)
        for (value, want) in zip(logits.scalars, expected) {
            XCTAssertLessThanOrEqual(abs(value - want), 1e-6, "OpenBLAS \(Gemm.openBLASCore): \(value) vs \(want)")
        }
    }

    /// The checkpoint alone rebuilds a model that no zoo config makes (other channel counts in a
    /// block, as pruning leaves them): the description is stored and used.
    func testCheckpointAloneRebuildsAnEditedModel() throws {
        var generator = SeededGenerator(seed: 4)
        let model = ResNet(stem: ConvBNActivation(1, 8, kernelSize: 3, activation: .relu, generator: &generator),
                           layers: Sequential([BasicBlock(inputChannels: 8, outputChannels: 6, stride: 2, generator: &generator)]),
                           fc: Linear(inputFeatures: 6, outputFeatures: 10, generator: &generator))
        let config = ModelConfig(architecture: .resnet, width: 0.25, depth: 8)
        let url = folder.appendingPathComponent("edited.h5")
        try ModelCheckpoint.save(model, config: config, to: url, normalization: InputNormalization(mean: [0.286], std: [0.353]))
        let description = try XCTUnwrap(ModelCheckpoint.readDescription(ModelCheckpoint.open(url)))
        XCTAssertEqual(description.normalization, InputNormalization(mean: [0.286], std: [0.353]))
        let (loaded, _) = try ModelCheckpoint.loadModel(from: url)
        XCTAssertEqual(loaded.namedParameters().map(\.path), model.namedParameters().map(\.path))
        XCTAssertEqual(loaded.namedParameters().map { bits($0.parameter.value) }, model.namedParameters().map { bits($0.parameter.value) })
        model.eval()
        loaded.eval()
        let images = Tensor.randomNormal([2, 28, 28, 1], generator: &generator)
        XCTAssertEqual(withoutGrad { loaded(images) }.scalars, withoutGrad { model(images) }.scalars)
    }

    /// The training recipe (`/training/config`) and the best metric (attributes of `/metrics/history`) round-trip.
    func testRecipeAndBestMetricRoundTrip() throws {
        let config = ModelConfig(architecture: .cnn, width: 0.25)
        let model = try ModelZoo.build(config)
        let recipe = "{\"training\": {\"epochs\": 3}, \"note\": \"ünïcode\"}"
        let training = TrainingState(epoch: 2, step: 40, threads: 2, recipe: recipe)
        let best = BestMetric(name: "test_loss", value: 0.3125, epoch: 2)
        let url = folder.appendingPathComponent("recipe.h5")
        try ModelCheckpoint.save(model, config: config, to: url, training: training, metricsHistoryJSON: "[]", best: best)
        let file = try ModelCheckpoint.open(url)
        XCTAssertEqual(try ModelCheckpoint.loadTraining(from: file, into: model), training)
        XCTAssertEqual(try ModelCheckpoint.bestMetric(in: file), best)

        let plain = folder.appendingPathComponent("plain-model.h5")
        try ModelCheckpoint.save(model, config: config, to: plain)
        XCTAssertNil(try ModelCheckpoint.bestMetric(in: ModelCheckpoint.open(plain)))
    }
}
