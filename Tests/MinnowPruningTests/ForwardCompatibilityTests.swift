import Foundation
import MinnowDistillation
import MinnowModels
import MinnowNN
import MinnowPruning
import MinnowQuantization
import MinnowTraining
import XCTest

/// Settings files written before a field existed still decode (`ForwardCompatible`): for each
/// persisted struct, a saved file (the committed run folders of build 0f31c9b, or a value encoded
/// here) decodes with any key outside the struct's `requiredKeys` removed, and fails without a
/// required one. A field added without a default (decoded with plain `decode`) fails this test
/// unless it is declared required, which a file written before it cannot satisfy.
final class ForwardCompatibilityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/runs-0f31c9b")

    func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent(path))) as? [String: Any])
    }

    func encoded(_ value: some Encodable) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as? [String: Any])
    }

    /// `object` decodes as `T`; so does every copy with one key outside `T.requiredKeys` removed,
    /// and the copy with all of them removed; a copy without a required key does not.
    func checkRemovals<T: ForwardCompatible>(_ type: T.Type, _ object: [String: Any], file: StaticString = #filePath, line: UInt = #line) throws {
        func decodes(_ o: [String: Any]) -> Bool { (try? JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: o))) != nil }
        XCTAssertTrue(decodes(object), "\(T.self) decodes the file", file: file, line: line)
        XCTAssertTrue(T.requiredKeys.isSubset(of: Set(object.keys)), "\(T.self): required keys \(T.requiredKeys.sorted()) in the file", file: file, line: line)
        for key in object.keys.sorted() {
            var reduced = object
            reduced[key] = nil
            if T.requiredKeys.contains(key) {
                XCTAssertFalse(decodes(reduced), "\(T.self) without its required '\(key)' is an error", file: file, line: line)
            } else {
                XCTAssertTrue(decodes(reduced), "\(T.self) without '\(key)' decodes (a file written before it existed)", file: file, line: line)
            }
        }
        XCTAssertTrue(decodes(object.filter { T.requiredKeys.contains($0.key) }), "\(T.self) from its required keys alone", file: file, line: line)
    }

    func testRunManifestsAndTheirPartsDecodeWithoutNewerFields() throws {
        let manifest = try json("train/config.json")
        try checkRemovals(TrainingRun.Manifest.self, manifest)
        try checkRemovals(TrainingConfig.self, try XCTUnwrap(manifest["training"] as? [String: Any]))
        try checkRemovals(ModelConfig.self, try XCTUnwrap((manifest["training"] as? [String: Any])?["model"] as? [String: Any]))
        try checkRemovals(TrainingRun.AugmentationSettings.self, try XCTUnwrap(manifest["augmentation"] as? [String: Any]))
        try checkRemovals(CheckpointPolicy.self, try XCTUnwrap(manifest["checkpoints"] as? [String: Any]))
        // The fields' defaults are the documented ones.
        let bare = try JSONDecoder().decode(TrainingConfig.self, from: Data(#"{"model": {"architecture": "cnn"}}"#.utf8))
        XCTAssertEqual(bare, TrainingConfig(model: ModelConfig(architecture: .cnn)))
    }

    func testDistillationPruningAndQuantizationSettingsDecodeWithoutNewerFields() throws {
        let distillation = try json("distill/distillation.json")
        try checkRemovals(DistillationRun.Manifest.self, distillation)
        try checkRemovals(DistillationSettings.self, try XCTUnwrap(distillation["settings"] as? [String: Any]))
        XCTAssertEqual(try JSONDecoder().decode(DistillationSettings.self, from: Data("{}".utf8)), DistillationSettings())
        let pruning = try json("prune/pruning.json")
        try checkRemovals(PruningRecord.self, pruning)
        let settings = try XCTUnwrap(pruning["settings"] as? [String: Any])
        try checkRemovals(PruningSettings.self, settings)
        try checkRemovals(PruningSchedule.self, try XCTUnwrap(settings["schedule"] as? [String: Any]))
        let scheme = QuantizationScheme(method: .lsq, weightBits: 4, layerWeightBits: ["features.0": 8], averagingConstant: 0.1,
                                        freezeObserversAfter: 10, freezeBatchNormAfter: 20)
        try checkRemovals(QuantizationScheme.self, try encoded(scheme))
        XCTAssertEqual(try JSONDecoder().decode(QuantizationScheme.self, from: Data("{}".utf8)), QuantizationScheme())
    }

    func testLayerSpecsDecodeWithoutNewerFields() throws {
        try checkRemovals(Conv2D.Spec.self, try encoded(Conv2D.Spec(inputChannels: 3, outputChannels: 8, kernelSize: [3, 3], stride: [2, 2],
                                                                    padding: [1, 1], dilation: [1, 1], groups: 1, bias: false)))
        try checkRemovals(Linear.Spec.self, try encoded(Linear.Spec(inputFeatures: 4, outputFeatures: 2, bias: false)))
        try checkRemovals(BatchNorm.Spec.self, try encoded(BatchNorm.Spec(channels: 8, momentum: 0.2, epsilon: 1e-3)))
        try checkRemovals(PoolSpec.self, try encoded(PoolSpec(kernelSize: 3, stride: 2, padding: 1)))
        let model = try LayerDescription(describing: try ModelZoo.build(ModelConfig(architecture: .cnn, width: 0.125)))
        try checkRemovals(QuantizedModel.Spec.self, try encoded(QuantizedModel.Spec(model: model, inputShape: [28, 28, 1], scheme: QuantizationScheme(weightBits: 4))))
    }
}
