import MinnowData
import MinnowModels
import MinnowNN
@testable import MinnowPruning
import MinnowTensor
import XCTest

/// Targets, scopes, criteria, schedules and their errors.
final class PruningTargetTests: XCTestCase {
    func student() throws -> (any Layer, ChannelAnalysis) {
        let model = try ModelZoo.build(ModelConfig.preset("student_mbv2")!)
        let graph = try ModelGraph.trace(model, inputShape: [28, 28, 1])
        return (model, try ChannelAnalysis(graph: graph, excluding: ChannelAnalysis.defaultExclusions(graph)))
    }

    func testEveryTargetMeasureIsMetAndNotOvershotByMuch() throws {
        let (model, analysis) = try student()
        let baseline = ModelSize(analysis)
        let scores = try ChannelImportance.scores(.l2, analysis: analysis, model: model)
        for target in [PruningTarget.macs(0.5), .parameters(0.6), .channels(0.7)] {
            for scope in PruningScope.allCases {
                let kept = try ChannelSelector(target: target, scope: scope, roundTo: 8).select(analysis, scores: scores, baseline: baseline)
                let size = ModelSize(analysis, kept: kept.mapValues(\.count))
                let (value, base) = (Double(size.value(of: target)), Double(baseline.value(of: target)))
                XCTAssertLessThanOrEqual(value, target.fraction * base, "\(target) \(scope)")
                XCTAssertGreaterThan(value, (target.fraction - 0.12) * base, "\(target) \(scope) does not remove far more than asked")
                XCTAssertTrue(kept.values.allSatisfy { $0.count % 8 == 0 && $0.count >= 8 })
            }
        }
    }

    /// Global ranking removes the lowest-scored channels first: channels with zero filters go before any other.
    func testGlobalRankingRemovesZeroFiltersFirst() throws {
        let (model, analysis) = try student()
        var scores = try ChannelImportance.scores(.l1, analysis: analysis, model: model)
        let group = try XCTUnwrap(analysis.prunableGroups.first { $0.channels >= 96 })
        scores[group.id] = scores[group.id]!.enumerated().map { $0.offset < 40 ? 0 : $0.element }
        let kept = try ChannelSelector(target: .macs(0.97), roundTo: 8).select(analysis, scores: scores, baseline: ModelSize(analysis))
        XCTAssertEqual(Set(kept.keys), [group.id])
        let removed = Set(0..<group.channels).subtracting(kept[group.id]!)
        XCTAssertTrue(removed.allSatisfy { $0 < 40 }, "only zero-scored channels were removed: \(removed.sorted())")
    }

    func testUnreachableTargetsAndBadOptionsAreClearErrors() throws {
        let (model, analysis) = try student()
        let scores = try ChannelImportance.scores(.l1, analysis: analysis, model: model)
        XCTAssertThrowsError(try ChannelSelector(target: .macs(0.02)).select(analysis, scores: scores, baseline: ModelSize(analysis))) { error in
            guard case PruningError.unreachable(let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("cannot be reached") && detail.contains("removing more would remove whole layers"), detail)
        }
        // Excluding every block leaves nothing to prune.
        let graph = analysis.graph
        let everything = try ChannelAnalysis(graph: graph, excluding: ["features", "fc"])
        XCTAssertThrowsError(try ChannelSelector(target: .macs(0.9)).select(everything, scores: [:], baseline: ModelSize(everything))) { error in
            guard case PruningError.unreachable = error else { return XCTFail("\(error)") }
        }
        for fraction in [0.0, 1.0, -0.5, 1.5] {
            XCTAssertThrowsError(try ChannelSelector(target: .macs(fraction))) { error in
                XCTAssertEqual(error as? PruningError, .invalidOption("--target", "the fraction to keep must be in (0, 1), got \(fraction)"))
            }
        }
        XCTAssertThrowsError(try ChannelAnalysis(graph: graph, excluding: ["nope"])) { error in
            XCTAssertTrue("\(error)".contains("no convolution or linear layer at or under 'nope'"), "\(error)")
        }
        XCTAssertThrowsError(try PruningSchedule(kind: .agp, steps: 0))
        XCTAssertThrowsError(try ChannelImportance.scores(.taylor, analysis: analysis, model: model, batches: []))
    }

    func testSchedules() throws {
        XCTAssertEqual(try PruningSchedule(kind: .oneshot, start: 5).events(finalKept: 0.5).map(\.step), [5])
        let iterative = try PruningSchedule(kind: .iterative, start: 0, steps: 4, every: 10).events(finalKept: 0.6)
        XCTAssertEqual(iterative.map(\.step), [0, 10, 20, 30])
        XCTAssertEqual(iterative.map(\.kept), [0.9, 0.8, 0.7, 0.6].map { $0 }, accuracy: 1e-12)
        // Zhu & Gupta: s_t = s_f + (s_i - s_f)(1 - t/n)^3; s_i = 0 at t = 0 keeps everything (no event).
        let agp = try PruningSchedule(kind: .agp, start: 100, steps: 4, every: 50).events(finalKept: 0.2)
        XCTAssertEqual(agp.map(\.step), [150, 200, 250, 300])
        let expected = [1, 2, 3, 4].map { j -> Double in let p = 1 - Double(j) / 4; return 1 - 0.8 * (1 - p * p * p) }
        XCTAssertEqual(agp.map(\.kept), expected, accuracy: 1e-12)
    }

    /// Taylor importance is zero for a channel whose gate has no effect (zero scale and offset)
    /// and positive for the others; bn scores are |scale|.
    func testTaylorAndBatchNormScores() throws {
        var generator = SeededGenerator(seed: 3)
        let model = Sequential([ConvBNActivation(1, 8, kernelSize: 3, activation: .relu, generator: &generator),
                                ConvBNActivation(8, 8, kernelSize: 3, activation: .relu, generator: &generator),
                                GlobalAvgPool2D(), Linear(inputFeatures: 8, outputFeatures: 3, generator: &generator)])
        let norm = try XCTUnwrap((model.layers[1] as? ConvBNActivation)?.bn)
        var scale = norm.scale.value.scalars, offset = norm.offset.value.scalars
        scale[2] = 0; offset[2] = 0; scale[5] = -0.5
        norm.scale.assign(Tensor(shape: [8], scalars: scale))
        norm.offset.assign(Tensor(shape: [8], scalars: offset))
        let analysis = try ChannelAnalysis(graph: try ModelGraph.trace(model, inputShape: [6, 6, 1]), excluding: ["0.conv"])
        let group = try XCTUnwrap(analysis.groups.first { $0.producers == ["1.conv"] })
        let batch = Batch(images: Tensor.randomNormal([4, 6, 6, 1], generator: &generator), labels: [0, 1, 2, 0], indices: [0, 1, 2, 3])
        let taylor = try XCTUnwrap(try ChannelImportance.scores(.taylor, analysis: analysis, model: model, batches: [batch, batch])[group.id])
        XCTAssertEqual(taylor[2], 0)
        XCTAssertGreaterThan(taylor.filter { $0 > 0 }.count, 4)
        XCTAssertNil(model.namedParameters().first { $0.parameter.grad != nil }, "gradients are cleared")
        let bn = try XCTUnwrap(try ChannelImportance.scores(.bn, analysis: analysis, model: model)[group.id])
        XCTAssertEqual(bn[5], 0.5)
        XCTAssertEqual(bn[2], 0)
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
