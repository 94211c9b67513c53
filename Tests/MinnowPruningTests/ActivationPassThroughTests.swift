import MinnowNN
import MinnowPruning
import MinnowTensor
import QuantMath
import XCTest

/// Every activation passes channels through unchanged (`OpKind.channelFlow`): a model with one
/// between two convolutions has the same prunable group, MACs and parameters as the model with
/// ReLU there.
final class ActivationPassThroughTests: XCTestCase {
    func analysis(_ function: ActivationFunction) throws -> ChannelAnalysis {
        var generator = SeededGenerator(seed: 3)
        let model = Sequential([
            Conv2D(1, 8, kernelSize: 3, generator: &generator), BatchNorm(channels: 8), Activation(function),
            Conv2D(8, 16, kernelSize: 3, generator: &generator), Activation(function),
            GlobalAvgPool2D(), Linear(inputFeatures: 16, outputFeatures: 10, generator: &generator),
        ])
        let graph = try ModelGraph.trace(model, inputShape: [8, 8, 1])
        return try ChannelAnalysis(graph: graph, excluding: ChannelAnalysis.defaultExclusions(graph))
    }

    func testEveryActivationPassesChannelsThrough() throws {
        let reference = try analysis(.relu)
        XCTAssertEqual(reference.prunableGroups.count, 1)
        for function in ActivationFunction.allCases {
            let other = try analysis(function)
            XCTAssertEqual(other.prunableGroups.map(\.channels), reference.prunableGroups.map(\.channels), "\(function)")
            XCTAssertEqual(other.multiplyAccumulates(kept: [:]), reference.multiplyAccumulates(kept: [:]), "\(function)")
            let halved = Dictionary(uniqueKeysWithValues: other.prunableGroups.map { ($0.id, $0.channels / 2) })
            XCTAssertEqual(other.parameterCount(kept: halved), reference.parameterCount(kept: halved), "\(function)")
        }
    }
}
