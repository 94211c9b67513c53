import Foundation
import MinnowCheckpoint
import MinnowNN
import MinnowQuantization
import MinnowTestSupport
import XCTest

/// `minnow prune` and `minnow prune sensitivity` on the synthetic data set: a pruned checkpoint is
/// smaller, reloads, evaluates and quantizes; a pruning run resumes exactly mid-schedule; bad
/// input is a clear error.
final class PruningCLITests: CLITestCase {
    func pruneArguments(_ checkpoint: URL, epochs: Int, out: URL) -> [String] {
        ["prune", checkpoint.path, "--target-macs", "0.6", "--round-to", "2", "--epochs", "\(epochs)", "--batch-size", "32",
         "--progress", "none", "--out", out.path]
    }

    func macs(_ checkpoint: URL) throws -> Int {
        let (model, config) = try ModelCheckpoint.loadModel(from: checkpoint)
        return try ModelGraph.trace(model, inputShape: config.inputShape).totalMACs
    }

    /// The pruned checkpoint holds the smaller model (its description rebuilds it), eval runs it,
    /// quantize lowers it to integer arithmetic; the report and settings files are written.
    func testPruneWritesASmallerCheckpointThatEvalAndQuantizeRun() throws {
        let checkpoint = try floatRun(), out = folder.appendingPathComponent("pruned")
        let result = try minnow(pruneArguments(checkpoint, epochs: 1, out: out) + ["--teacher", checkpoint.path])
        XCTAssertTrue(result.succeeded, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("MACs "), result.standardOutput)
        for name in ["pruning.json", "pruning-report.txt", "pruning-report.json", "distillation.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), name)
        }
        let pruned = out.appendingPathComponent("last.h5")
        XCTAssertLessThanOrEqual(Double(try macs(pruned)), 0.6 * Double(try macs(checkpoint)))
        let eval = try minnow(["eval", pruned.path, "--json"])
        XCTAssertTrue(eval.succeeded, eval.standardError)
        let quantized = folder.appendingPathComponent("ptq")
        let quantize = try minnow(["quantize", pruned.path, "--calibrate", "32", "--test-images", "32", "--out", quantized.path])
        XCTAssertTrue(quantize.succeeded, quantize.standardError)
        XCTAssertTrue(quantize.standardOutput.contains("int8"), quantize.standardOutput)
    }

    /// An AGP run killed after its first epoch, in the middle of its schedule, and resumed ends
    /// with the same checkpoint, bit for bit, as an uninterrupted one.
    func testAGPRunResumesExactlyMidSchedule() throws {
        let checkpoint = try floatRun()
        let agp = ["--prune-schedule", "agp", "--prune-steps", "4", "--prune-every", "0.5"]
        let straight = folder.appendingPathComponent("straight"), split = folder.appendingPathComponent("split")
        var result = try minnow(pruneArguments(checkpoint, epochs: 3, out: straight) + agp)
        XCTAssertTrue(result.succeeded, result.standardError)
        result = try minnow(pruneArguments(checkpoint, epochs: 3, out: split) + agp + ["--keep-last", "3"])
        XCTAssertTrue(result.succeeded, result.standardError)
        let resumed = folder.appendingPathComponent("resumed")
        try FileManager.default.createDirectory(at: resumed, withIntermediateDirectories: true)
        for name in ["config.json", "metrics.jsonl", "pruning.json"] {
            try FileManager.default.copyItem(at: split.appendingPathComponent(name), to: resumed.appendingPathComponent(name))
        }
        try FileManager.default.copyItem(at: split.appendingPathComponent("epoch-0001.h5"), to: resumed.appendingPathComponent("last.h5"))
        let before = try macs(resumed.appendingPathComponent("last.h5"))
        result = try minnow(["prune", "--resume", resumed.path, "--progress", "none"])
        XCTAssertTrue(result.succeeded, result.standardError)
        XCTAssertGreaterThan(before, try macs(resumed.appendingPathComponent("last.h5")), "pruning continued after the resume")
        XCTAssertEqual(try tensors(resumed.appendingPathComponent("last.h5")), try tensors(straight.appendingPathComponent("last.h5")))
        // Resuming it as plain training would skip its pruning events: refused, with the right command.
        _ = try expectFailure(["train", "--resume", split.path], status: 1, ["is a pruning run", "minnow prune --resume"])
    }

    /// Pruning a QAT checkpoint keeps it quantization-aware (QAT goes on on the smaller model) and
    /// its checkpoint evaluates in integer arithmetic.
    func testPruningAQATCheckpointKeepsItQuantized() throws {
        let checkpoint = try floatRun(), qat = folder.appendingPathComponent("qat"), out = folder.appendingPathComponent("pruned-qat")
        var result = try minnow(["qat", checkpoint.path, "--epochs", "1", "--batch-size", "32", "--calibrate", "32", "--method", "lsq",
                                 "--progress", "none", "--out", qat.path])
        XCTAssertTrue(result.succeeded, result.standardError)
        result = try minnow(pruneArguments(qat.appendingPathComponent("last.h5"), epochs: 1, out: out))
        XCTAssertTrue(result.succeeded, result.standardError)
        let (model, _) = try ModelCheckpoint.loadModel(from: out.appendingPathComponent("last.h5"))
        let quantized = try XCTUnwrap(model as? QuantizedModel)
        XCTAssertLessThanOrEqual(Double(try ModelGraph.trace(quantized.model, inputShape: [28, 28, 1]).totalMACs), 0.6 * Double(try macs(checkpoint)))
        let eval = try minnow(["eval", out.appendingPathComponent("last.h5").path])
        XCTAssertTrue(eval.succeeded && eval.standardOutput.contains("int8"), eval.standardOutput + eval.standardError)
    }

    /// Without held-out images the analysis evaluates test images and says so; `--test-images`
    /// still names the count.
    func testSensitivityWritesTableJSONAndPlot() throws {
        let checkpoint = try floatRun(), out = folder.appendingPathComponent("sensitivity")
        let result = try minnow(["prune", "sensitivity", checkpoint.path, "--ratios", "0.25,0.5", "--test-images", "64", "--out", out.path])
        XCTAssertTrue(result.succeeded, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("unpruned:") && result.standardOutput.contains("on 64 test images"), result.standardOutput)
        XCTAssertTrue(result.standardError.contains("held out no validation images; evaluating on test images"), result.standardError)
        let svg = try String(contentsOf: out.appendingPathComponent("sensitivity.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("<polyline"), svg)
        _ = try expectFailure(["prune", "sensitivity", checkpoint.path, "--split", "validation"], status: 1, ["held out no validation images", "--split test"])
        _ = try expectFailure(["prune", "sensitivity", checkpoint.path, "--images=-1"], status: 2, ["--images"])
    }

    /// A checkpoint whose run held images out is analysed on those images by default (the table
    /// guides choices), on the test set only when asked.
    func testSensitivityChoosesOnTheHeldOutImages() throws {
        let run = folder.appendingPathComponent("held")
        let train = try minnow(trainArguments(epochs: 1, out: run) + ["--validation", "48"])
        XCTAssertTrue(train.succeeded, train.standardError)
        let checkpoint = run.appendingPathComponent("last.h5").path
        let held = try minnow(["prune", "sensitivity", checkpoint, "--ratios", "0.5", "--out", folder.appendingPathComponent("s1").path])
        XCTAssertTrue(held.succeeded, held.standardError)
        XCTAssertTrue(held.standardOutput.contains("on 48 validation images"), held.standardOutput)
        XCTAssertFalse(held.standardError.contains("note:"), held.standardError)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("s1/sensitivity.json"))) as? [String: Any]
        XCTAssertEqual(json?["split"] as? String, "validation")
        XCTAssertEqual(json?["images"] as? Int, 48)
        let test = try minnow(["prune", "sensitivity", checkpoint, "--ratios", "0.5", "--split", "test", "--images", "40"])
        XCTAssertTrue(test.succeeded && test.standardOutput.contains("on 40 test images"), test.standardOutput + test.standardError)
    }

    func testBadPruningInputIsAClearError() throws {
        let checkpoint = try floatRun(), out = folder.appendingPathComponent("bad")
        let base = ["prune", checkpoint.path, "--out", out.path, "--progress", "none"]
        _ = try expectFailure(base + ["--target-macs", "0.5", "--criterion", "magic"], status: 2, ["--criterion", "magic"])
        _ = try expectFailure(base + ["--target-macs=-1"], status: 2, ["--target-macs must be a fraction in (0, 1), got -1.0"])
        _ = try expectFailure(base + ["--target-macs", "1.5"], status: 2, ["--target-macs must be a fraction in (0, 1), got 1.5"])
        _ = try expectFailure(base, status: 2, ["give exactly one of --target-macs, --target-params, --target-channels"])
        _ = try expectFailure(base + ["--target-macs", "0.01"], status: 1, ["cannot be reached", "would remove whole layers"])
        _ = try expectFailure(base + ["--target-macs", "0.5", "--exclude", "nope"], status: 1, ["no convolution or linear layer at or under 'nope'"])
        _ = try expectFailure(base + ["--target-macs", "0.5", "--exclude", "features", "--exclude", "hidden"], status: 1, ["cannot be reached"])
        _ = try expectFailure(["prune", "sensitivity", checkpoint.path, "--ratios", "0.5,2"], status: 2, ["--ratios must be fractions in (0, 1)"])
        _ = try expectFailure(["prune", "--resume", folder.path + "/missing"], status: 1, ["no such run folder or checkpoint"])
    }
}
