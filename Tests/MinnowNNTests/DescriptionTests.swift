import Foundation
import MinnowModels
import MinnowNN
import MinnowTensor
import XCTest

/// Models as data: every zoo model has a description that rebuilds it (same paths, shapes and,
/// from the same seed, the same initial weights), survives JSON, and describes edited models; a
/// bad description is an error, never a trap.
final class DescriptionTests: XCTestCase {
    func layout(_ model: Module) -> [String] {
        model.namedParameters().map { "\($0.path) \($0.parameter.shape)" } + model.namedBuffers().map { "\($0.path) \($0.buffer.value.shape)" }
    }

    func testEveryZooModelRebuildsFromItsDescription() throws {
        for (name, config) in GraphTests.configs {
            let model = try ModelZoo.build(config)
            let description = try ModelDescription(model: model, inputShape: config.inputShape, classes: config.classes)
            let decoded = try ModelDescription(json: description.json())
            XCTAssertEqual(decoded, description, name)
            let rebuilt = try decoded.build(seed: config.seed, registry: .zoo)
            XCTAssertEqual(layout(rebuilt), layout(model), "\(name): parameter paths and shapes")
            XCTAssertEqual(rebuilt.namedParameters().map(\.parameter.value.scalars), model.namedParameters().map(\.parameter.value.scalars),
                           "\(name): the same seed draws the same initial weights")
            XCTAssertEqual(try ModelDescription(model: rebuilt, inputShape: config.inputShape, classes: config.classes), description,
                           "\(name): describing the rebuilt model gives the same description")
        }
    }

    /// A model no `ModelConfig` can make (a MobileNetV2 whose blocks have other channel counts, as
    /// pruning leaves them) is described as it is and rebuilt from that.
    func testAnEditedModelIsDescribedAsItIs() throws {
        var generator = SeededGenerator(seed: 2)
        let stem = ConvBNActivation(1, 8, kernelSize: 3, stride: 2, activation: .relu6, generator: &generator)
        let block = InvertedResidual(
            expand: ConvBNActivation(8, 20, kernelSize: 1, activation: .relu6, generator: &generator),
            depthwise: ConvBNActivation(20, 20, kernelSize: 3, groups: 20, activation: .relu6, generator: &generator),
            project: Conv2D(20, 8, kernelSize: 1, useBias: false, generator: &generator), projectBN: BatchNorm(channels: 8),
            usesResidual: true)
        let model = MobileNetV2(features: Sequential([stem, block]), dropout: Dropout(rate: 0.1),
                                fc: Linear(inputFeatures: 8, outputFeatures: 3, generator: &generator))
        let description = try ModelDescription(model: model, inputShape: [12, 12, 1], classes: 3)
        let rebuilt = try description.build(registry: .zoo)
        XCTAssertEqual(layout(rebuilt), layout(model))
        XCTAssertTrue(layout(rebuilt).contains("features.1.expand.conv.filter [1, 1, 8, 20]"), "\(layout(rebuilt))")
        XCTAssertEqual(withoutGrad { rebuilt(Tensor.zeros([2, 12, 12, 1])) }.shape, [2, 3])
    }

    /// Damaged descriptions, as a hostile checkpoint could hold them: each a `DescriptionError`
    /// that says what is wrong.
    func testBadDescriptionsAreErrors() throws {
        let config = ModelConfig(architecture: .mobilenetV2, width: 0.25)
        let json = try ModelDescription(model: ModelZoo.build(config), inputShape: config.inputShape, classes: 10).json()
        let cases: [(String, String, String)] = [
            ("\"kind\":\"mobilenet_v2\"", "\"kind\":\"mobilenet_v9\"", "unknown layer kind 'mobilenet_v9'"),
            ("\"groups\":48", "\"groups\":5", "groups 5 must divide"),
            ("\"version\":1", "\"version\":7", "description version 7"),
            ("\"rate\":0.1", "\"rate\":1.5", "rate must be in [0, 1)"),
            ("\"channels\":8,", "\"channels\":9,", "channels"),
            ("\"inputShape\":[28,28,1]", "\"inputShape\":[28,0,1]", "input shape must be"),
            ("{", "[", "not a model description"),
        ]
        for (old, new, expected) in cases {
            XCTAssertTrue(json.contains(old), "the description holds \(old)")
            let damaged = json.replacingOccurrences(of: old, with: new)
            XCTAssertThrowsError(try ModelDescription(json: damaged).build(registry: .zoo), old) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(old) -> \(new): \(error)")
            }
        }
        // Layers that fit locally but not together: the trace says where, a forward pass would trap.
        let cnn = try ModelDescription(model: ModelZoo.build(ModelConfig(architecture: .cnn)), inputShape: [28, 28, 1], classes: 10)
        let misfit = try cnn.json().replacingOccurrences(of: "\"inputFeatures\":3136", with: "\"inputFeatures\":3000")
        let model = try ModelDescription(json: misfit).build(registry: .zoo)
        XCTAssertThrowsError(try ModelGraph.trace(model, inputShape: [28, 28, 1])) { error in
            XCTAssertTrue("\(error)".contains("linear in 'hidden': linear: input [1, 3136] has 3136 features, weight [3000, 128] expects 3000"),
                          "\(error)")
        }

        // An input shape no machine could hold (a 100000 x 100000 image once asked for 40 GB) is
        // refused before anything is built.
        for shape in ["[100000,100000,1]", "[8192,8192,4]", "[0,28,1]"] {
            let huge = try cnn.json().replacingOccurrences(of: "\"inputShape\":[28,28,1]", with: "\"inputShape\":\(shape)")
            XCTAssertNotEqual(huge, try cnn.json())
            XCTAssertThrowsError(try ModelDescription(json: huge).build(registry: .zoo)) { error in
                XCTAssertTrue("\(error)".contains("input shape must be [height, width, channels] of extents in 1...65536"), "\(error)")
            }
        }

        // A layer asking for more weights than any machine holds is refused before allocation.
        for (field, value) in [("\"outputFeatures\":10", "\"outputFeatures\":100000000"), ("\"inputFeatures\":3136", "\"inputFeatures\":4611686018427387904")] {
            let huge = try cnn.json().replacingOccurrences(of: field, with: value)
            XCTAssertNotEqual(huge, try cnn.json(), field)
            XCTAssertThrowsError(try ModelDescription(json: huge).build(registry: .zoo)) { error in
                XCTAssertTrue("\(error)".contains("weights: more than 134217728"), "\(error)")
            }
        }

        var generator = SeededGenerator(seed: 0)
        let pool = LayerDescription(kind: "max_pool2d", spec: JSONValue(encoding: PoolSpec(kernelSize: 2, stride: 0, padding: 0)))
        XCTAssertThrowsError(try LayerRegistry.core.build(pool, generator: &generator)) { error in
            XCTAssertTrue("\(error)".contains("invalid MaxPool2D: kernel and stride must be positive"), "\(error)")
        }

        XCTAssertThrowsError(try ModelDescription(json: json).build(registry: .core)) { error in
            XCTAssertTrue("\(error)".contains("unknown layer kind 'mobilenet_v2'"), "\(error)")
        }
    }
}
