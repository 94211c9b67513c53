import Foundation
@testable import MinnowExperiments
import XCTest

/// Experiment files: what a good one expands to (sweeps, seeds, inputs, cache keys), and the one
/// clear error, with file, line and key, that each kind of bad file gets before anything runs.
final class ExperimentFileTests: XCTestCase {
    private let file = URL(fileURLWithPath: "/tmp/study.yaml")

    private func plan(_ text: String) throws -> ExperimentPlan {
        try ExperimentPlan(ExperimentSpec.parse(text, file: file)) { _ in nil }
    }

    private func expectError(_ text: String, line: Int, key: String?, _ message: String, file: StaticString = #filePath, at: UInt = #line) {
        XCTAssertThrowsError(try plan(text), file: file, line: at) { error in
            guard let error = error as? ExperimentError else { return XCTFail("\(error)", file: file, line: at) }
            XCTAssertEqual(error.location?.file, "/tmp/study.yaml", file: file, line: at)
            XCTAssertEqual(error.location?.line, line, "\(error)", file: file, line: at)
            XCTAssertEqual(error.key, key, "\(error)", file: file, line: at)
            XCTAssertTrue(error.message.contains(message), "\(error)", file: file, line: at)
            XCTAssertTrue(error.description.hasPrefix("/tmp/study.yaml:\(line):"), error.description, file: file, line: at)
        }
    }

    private let good = """
        seeds: [0, 1, 2]
        models:
          teacher: {preset: teacher}
          student: {preset: student_mbv2}
        stages:
          big:
            train: {model: teacher, epochs: 2, seeds: [0]}
          kd:
            distill: {teacher: big, student: student, alpha: [0.5, 0.9]}
          qat:
            qat: {input: kd, epochs: 1}
          export:
            export: {input: qat}
        """

    func testSweepsAndSeedsExpandIntoRunsWithTheirInputs() throws {
        let plan = try plan(good)
        XCTAssertEqual(plan.spec.name, "study")
        XCTAssertEqual(plan.root.path, FileManager.default.currentDirectoryPath + "/runs/study")
        let counts = Dictionary(grouping: plan.runs, by: \.stage).mapValues(\.count)
        XCTAssertEqual(counts, ["big": 1, "kd": 6, "qat": 6, "export": 6], "2 alphas x 3 seeds from one teacher")
        XCTAssertEqual(Set(plan.runs.map(\.key)).count, plan.runs.count, "every run has its own key")
        let kd = plan.runs.filter { $0.stage == "kd" }
        XCTAssertEqual(Set(kd.map(\.variant)), [["kd.alpha=0.5"], ["kd.alpha=0.9"]])
        XCTAssertEqual(Set(kd.compactMap(\.seed)), [0, 1, 2])
        for (index, run) in plan.runs.enumerated() {
            XCTAssertTrue(run.dependencies.allSatisfy { $0 < index }, "inputs come first")
        }
        let export = plan.runs.first { $0.stage == "export" && $0.seed == 2 && $0.variant == ["kd.alpha=0.9"] }!
        let qat = plan.runs[export.dependencies[0]]
        XCTAssertEqual(qat.seed, 2)
        XCTAssertEqual(export.commands, [["export", "runs/study/qat/\(qat.folder.lastPathComponent)/best.h5", "-o", export.output!.relativePath]])
        let command = kd.first { $0.seed == 1 && $0.variant == ["kd.alpha=0.5"] }!.commands[0]
        XCTAssertEqual(Array(command.prefix(5)), ["distill", "--teacher", plan.runs[0].output!.relativePath, "--student", "student_mbv2"])
        for expected in [["--validation", "5000"], ["--alpha", "0.5"], ["--seed", "1"]] {
            XCTAssertTrue(command.indices.contains { Array(command[$0...].prefix(2)) == expected }, "\(command) lacks \(expected)")
        }
    }

    func testAChangedOptionChangesTheKeysOfItsStageAndDependantsOnly() throws {
        let before = try plan(good)
        let after = try plan(good.replacingOccurrences(of: "qat: {input: kd, epochs: 1}", with: "qat: {input: kd, epochs: 2}"))
        for (old, new) in zip(before.runs, after.runs) {
            XCTAssertEqual(old.key == new.key, old.stage == "big" || old.stage == "kd", "\(old.title)")
        }
    }

    func testEditingOwnDataFilesChangesEveryKey() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-own-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let labels = folder.appendingPathComponent("train_labels.npy")
        try Data([1, 2, 3]).write(to: labels)
        let own = "data:\n  dataset: arrays:\(folder.path)\n" + good
        let before = try plan(own)
        XCTAssertEqual(try plan(own).runs.map(\.key), before.runs.map(\.key), "the same files, the same keys")
        try Data([1, 2, 3, 4]).write(to: labels)
        for (old, new) in zip(before.runs, try plan(own).runs) { XCTAssertNotEqual(old.key, new.key, old.title) }
        XCTAssertEqual(PlanBuilder.dataKey("fashion-mnist"), "", "built-in data sets are fixed releases")
    }

    func testTheTimeLeftScalesEachRunByItsEpochsAndTheClosestRunsShown() throws {
        let plan = try plan(good)
        let kd = plan.runs.first { $0.stage == "kd" }!, qat = plan.runs.first { $0.stage == "qat" }!
        let export = plan.runs.first { $0.stage == "export" }!
        XCTAssertEqual([plan.runs[0].epochs, kd.epochs, qat.epochs, export.epochs], [2, 3, 1, 0], "--epochs, else the default 3")
        typealias Timing = ExperimentRunner.RunTiming
        XCTAssertNil(ExperimentRunner.estimate([(kd, 0)], from: [Timing(stage: "export", kind: .export, seconds: 5)]),
                     "no training epoch yet")
        let teacher = Timing(stage: "big", kind: .train, seconds: 100)
        XCTAssertEqual(ExperimentRunner.estimate([(kd, 0), (qat, 0), (export, 0)], from: [teacher]), 400,
                       "every training run at the teacher's 100 s per epoch; an export not seen yet counts nothing")
        let kdTimings = [teacher, Timing(stage: "kd", kind: .distill, seconds: 30), Timing(stage: "kd", kind: .distill, seconds: 50),
                         Timing(stage: "export", kind: .export, seconds: 7)]
        XCTAssertEqual(ExperimentRunner.estimate([(kd, 1), (qat, 0), (export, 0)], from: kdTimings), 2 * 40 + 60 + 7,
                       "kd at its own stage's mean per epoch for the 2 epochs it has left; qat at every training run's mean")
        XCTAssertEqual(ExperimentRunner.estimate([(kd, 5)], from: kdTimings), 0, "a run past its epochs has nothing left")
    }

    func testBadFilesNameFileLineAndKey() {
        expectError("stages:\n  a:\n    train: {model: x\n", line: 4, key: nil, "malformed YAML")
        expectError("stages: [1, 2]\n", line: 1, key: "stages", "must be a mapping")
        expectError("colour: red\nstages: {}\n", line: 1, key: "colour", "unknown key; expected one of")
        expectError("models:\n  m: {preset: teacher}\nstages:\n  a:\n    fit: {model: m}\n", line: 5, key: "stages.a.fit", "unknown stage kind 'fit'")
        expectError("stages:\n  a:\n    train: {epochs: 3}\n", line: 2, key: "stages.a.train", "needs 'model'")
        expectError("stages:\n  a:\n    train: {model: nobody}\n", line: 3, key: "stages.a.train.model", "no model or stage is named 'nobody'")
        expectError("models:\n  m: {preset: teacher}\nstages:\n  a:\n    train: {model: m, lr: []}\n", line: 5, key: "stages.a.train.lr",
                    "an empty sweep expands to nothing")
        expectError("stages:\n  a:\n    quantize: {input: b}\n  b:\n    qat: {input: a}\n", line: 5, key: "stages.b.qat.input",
                    "the stages form a cycle: a -> b -> a")
        expectError("models:\n  m: {preset: teacher}\nstages:\n  a:\n    train: {model: m, seed: 3}\n", line: 5, key: "stages.a.train.seed",
                    "set by the runner")
        expectError("seeds: []\nstages: {}\n", line: 1, key: "seeds", "at least one seed")
        expectError("data: {validation: -5}\nstages: {}\n", line: 1, key: "data.validation", "must be an integer in 0...")
        expectError("models:\n  m: {preset: teacher, width: 2}\nstages:\n  a:\n    train: {model: m}\n", line: 2, key: "models.m.width",
                    "size options go with model: ARCHITECTURE only")
        expectError("models:\n  m: {preset: teacher}\nstages:\n  a:\n    quantize: {input: m}\n", line: 5, key: "stages.a.quantize.input",
                    "has no weights")
        expectError("models:\n  m: {preset: teacher}\nstages:\n  a:\n    train: {model: m}\n  e:\n    evaluate: {input: a}\n  b:\n    bench: {input: e}\n",
                    line: 9, key: "stages.b.bench.input", "leaves results, not a model")
    }

    /// The spread the summary and the report give: the sample standard deviation (n − 1), as
    /// docs/results.md's earlier tables and numpy's `std(ddof=1)`.
    func testMeanAndSampleDeviation() throws {
        let (mean, deviation) = try XCTUnwrap(ExperimentResults.meanAndDeviation([0.93, 0.94, 0.95]))
        XCTAssertEqual(mean, 0.94, accuracy: 1e-12)
        XCTAssertEqual(deviation, 0.01, accuracy: 1e-12)
        XCTAssertEqual(ExperimentResults.meanAndDeviation([0.5])?.deviation, 0)
        XCTAssertNil(ExperimentResults.meanAndDeviation([]))
        let front = Chart.paretoFront([(x: 3, y: 0.9), (x: 1, y: 0.8), (x: 2, y: 0.7), (x: 4, y: 0.85)])
        XCTAssertEqual(front.map(\.x), [1, 3], "a point is on the front when nothing smaller is as accurate")
    }

    func testTheCLIParserMessageGoesToTheOptionItNames() {
        let text = "models:\n  m: {preset: teacher}\nstages:\n  a:\n    train: {model: m,\n      epochs: 0}\n"
        XCTAssertThrowsError(try ExperimentPlan(ExperimentSpec.parse(text, file: file)) { arguments in
            arguments.contains("0") ? "--epochs must be in 1...100000, got 0" : nil
        }) { error in
            let error = error as! ExperimentError
            XCTAssertEqual(error.location?.line, 6)
            XCTAssertEqual(error.key, "stages.a.train.epochs")
            XCTAssertTrue(error.message.contains("minnow train refuses it: --epochs must be in"), error.message)
        }
    }
}
