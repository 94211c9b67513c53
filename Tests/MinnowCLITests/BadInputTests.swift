import Foundation
import MinnowTestSupport
import XCTest

/// Bad values a user controls, on the command line or in files, each run through the built `minnow`:
/// a one-line error that names the flag or the file and what is wrong, exit status 2 for a bad
/// command line and 1 for bad files, never a trap (a signal).
final class BadInputTests: CLITestCase {
    /// A one-epoch run on the synthetic data, for the tests that need a run folder or a checkpoint.
    func trainedRun() throws -> URL {
        let run = folder.appendingPathComponent("run")
        let result = try minnow(trainArguments(epochs: 1, out: run))
        XCTAssertTrue(result.succeeded, result.standardError)
        return run
    }

    func testEvalBatchSizeZeroIsAUsageError() throws {
        try expectFailure(["eval", "run/last.h5", "--batch-size", "0"], status: 2, ["--batch-size must be in 1...65536, got 0"])
    }

    func testNegativeCropPaddingIsAUsageError() throws {
        try expectFailure(["train", "--model", "cnn", "--out", folder.path + "/x", "--crop-padding=-1"], status: 2,
                          ["--crop-padding must be in 0...4096, got -1"])
        try expectFailure(["train", "--model", "cnn", "--out", folder.path + "/x", "--crop-padding", "29", "--epochs", "1"], status: 1,
                          ["crop padding must be in 0...28 for [28, 28, 1] images, got 29"])
    }

    /// A run killed before its first checkpoint continues from config.json; a damaged value there
    /// is an error naming the file, before any training.
    func testNegativeCropPaddingInAResumedRunsConfigIsNamed() throws {
        let run = try trainedRun()
        for name in try FileManager.default.contentsOfDirectory(atPath: run.path) where name.hasSuffix(".h5") {
            try FileManager.default.removeItem(at: run.appendingPathComponent(name))
        }
        let config = run.appendingPathComponent("config.json")
        var manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: config)) as? [String: Any])
        manifest["augmentation"] = ["cropPadding": -1, "horizontalFlip": false]
        try JSONSerialization.data(withJSONObject: manifest).write(to: config)
        try expectFailure(["train", "--resume", run.path], status: 1, [config.path, "crop padding must be in 0...28", "got -1"])
    }

    func testGemmSizesOutOfRangeAreUsageErrors() throws {
        for size in ["-1", "0", "100000"] {
            try expectFailure(["bench", "gemm", "--sizes=\(size)"], status: 2, ["--sizes must be in 1...8192, got \(size)"])
        }
        try expectFailure(["bench", "ops", "--shapes", "1,8,8,6,4,3,1,4", "--no-peer"], status: 2,
                          ["--shapes: invalid shape '1,8,8,6,4,3,1,4'", "groups dividing Cin and Cout"])
    }

    /// The peers' scripts are not in this repository: without --peers-dir or MINNOW_PEERS_DIR a
    /// benchmark that compares with a peer says how to give them, instead of guessing a path.
    func testPeerScriptsFolderMustBeGiven() throws {
        try expectFailure(["bench", "ops", "--shapes", "1,6,6,4,4,3,1,1", "--iterations", "1", "--repeats", "1"], status: 1,
                          ["--peers-dir", "MINNOW_PEERS_DIR", "--no-peer"])
    }

    /// Every numeric option out of its range, written as a user might (`--flag=-1`), stops before
    /// any work with a usage error that names the flag.
    func testEveryNumericOptionIsRangeChecked() throws {
        let train = ["train", "--model", "cnn", "--out", folder.path + "/x"]
        let distill = ["distill", "--teacher", "t.h5", "--student", "cnn", "--out", folder.path + "/x"]
        let cases: [([String], String)] = [
            (train + ["--train-subset=-5"], "--train-subset must be in 1...2147483647, got -5"),
            (train + ["--batch-size", "0"], "--batch-size must be in 1...65536, got 0"),
            (train + ["--lr", "inf"], "--lr must be a positive number"),
            (train + ["--momentum", "1"], "--momentum must be in [0.0, 1.0)"),
            (train + ["--momentum", "nan"], "--momentum must be in [0.0, 1.0)"),
            (train + ["--weight-decay=-1e-4"], "--weight-decay must be a number >= 0"),
            (train + ["--warmup-steps=-1"], "--warmup-steps must be in 0...100000000, got -1"),
            (train + ["--step-epochs", "0"], "--step-epochs must be in 1...100000, got 0"),
            (train + ["--step-gamma", "0"], "--step-gamma must be a positive number"),
            (train + ["--clip-norm=-1"], "--clip-norm must be a positive number"),
            (train + ["--width=-1"], "--width must be in (0, 8]"),
            (train + ["--width", "9"], "--width must be in (0, 8]"),
            (train + ["--dropout", "1"], "--dropout must be in [0.0, 1.0)"),
            (train + ["--checkpoint-every", "0"], "--checkpoint-every must be in 1...100000, got 0"),
            (train + ["--keep-last=-2"], "--keep-last must be in 1...100000, got -2"),
            (distill + ["--temperature=-4"], "--temperature must be a positive number"),
            (distill + ["--alpha", "1.5"], "--alpha must be in [0.0, 1.0]"),
            (distill + ["--dkd-beta=-8"], "--dkd-beta must be a number >= 0"),
            (distill + ["--dkd-warmup-epochs=-1"], "--dkd-warmup-epochs must be a number >= 0"),
            (distill + ["--hint-weight=-1"], "--hint-weight must be a number >= 0"),
            (distill + ["--attention-beta=-1"], "--attention-beta must be a number >= 0"),
            (distill + ["--width", "0"], "--width must be in (0, 8]"),
            (["predict", "m.h5", "--input", "i.npy", "--output", "o.npy", "--batch-size=-1"], "--batch-size must be in 1...65536, got -1"),
            (["bench", "ops", "--iterations", "0", "--no-peer"], "--iterations must be in 1...100000, got 0"),
            (["bench", "train", "--batch=-1", "--no-peer"], "--batch must be in 1...4096, got -1"),
            (["bench", "distill", "--repeats", "0"], "--repeats must be in 1...1000, got 0"),
        ]
        for (arguments, expected) in cases {
            try expectFailure(arguments, status: 2, [expected])
        }
    }

    /// Every count a user types has an upper bound: values near Int.max (which once overflowed,
    /// trapped or allocated until the machine died) are usage errors naming the flag and range.
    func testHugeNumbersAreUsageErrors() throws {
        let huge = "\(Int.max)"
        let train = ["train", "--model", "cnn", "--out", folder.path + "/x"]
        let cases: [([String], String)] = [
            (train + ["--epochs", huge], "--epochs must be in 1...100000"),
            (train + ["--batch-size", huge], "--batch-size must be in 1...65536"),
            (train + ["--warmup-steps", huge], "--warmup-steps must be in 0...100000000"),
            (train + ["--depth", huge], "--depth must be in 2...1000"),
            (["qat", "c.h5", "--out", "x", "--epochs", huge], "--epochs must be in 1...100000"),
            (["qat", "c.h5", "--out", "x", "--freeze-bn-epoch", "nan"], "--freeze-bn-epoch must be a number >= 0"),
            (["prune", "c.h5", "--out", "x", "--target-macs", "0.5", "--prune-steps", huge], "--prune-steps must be in 1...100000000"),
            (["prune", "c.h5", "--out", "x", "--target-macs", "0.5", "--prune-every", "inf"], "--prune-every must be a positive number of epochs"),
            (["eval", "c.h5", "--batch-size", huge], "--batch-size must be in 1...65536"),
            (["export", "c.h5", "-o", "m.mnw", "--check-images", huge], "--check-images must be in 0...100000000"),
            (["run", "m.mnw", "--limit", huge], "--limit must be in 1...100000000"),
            (["bench", "model", "m.mnw", "--runs", huge], "--runs must be in 1000...10000000"),
            (["bench", "models", "c.h5", "--inference-batch", huge], "--inference-batch must be in 1...4096"),
            (["bench", "models", "c.h5", "--train-batch", huge], "--train-batch must be in 1...4096"),
            (["bench", "qat", "--batch", huge], "--batch must be in 1...4096"),
        ]
        for (arguments, expected) in cases {
            try expectFailure(arguments, status: 2, [expected, "got"])
        }
        try expectFailure(["bench", "ops", "--shapes", "100000,100000,100000,8,8,3,1,1", "--no-peer"], status: 2,
                          ["--shapes: invalid shape '100000,100000,100000,8,8,3,1,1'", "in 1...65536"])
    }

    /// Schedule positions far past the run's end (once an overflow or an endless allocation) are
    /// errors naming the option, before any training.
    func testPruningScheduleBeyondTheRunIsNamed() throws {
        let checkpoint = try trainedRun().appendingPathComponent("last.h5").path
        let prune = ["prune", checkpoint, "--target-macs", "0.5", "--epochs", "1", "--batch-size", "32", "--out", folder.path + "/p"]
        try expectFailure(prune + ["--prune-start", "1e300"], status: 1, ["schedule's last pruning comes after the run's 16 steps"])
        try expectFailure(prune + ["--prune-schedule", "iterative", "--prune-every", "1e300"], status: 1, ["schedule's last pruning comes after"])
        try expectFailure(prune + ["--prune-schedule", "agp", "--prune-steps", "100000"], status: 1, ["--prune-steps must be at most the run's 16 training steps"])
        // A freeze past the run's end means "never during this run": it trains.
        let qat = try minnow(["qat", checkpoint, "--epochs", "1", "--freeze-bn-epoch", "1e300", "--batch-size", "32", "--calibrate", "32",
                              "--progress", "none", "--out", folder.path + "/q"])
        XCTAssertFalse(qat.signaled, qat.standardError)
        XCTAssertTrue(qat.succeeded, qat.standardError)
        XCTAssertTrue(qat.standardOutput.contains("freezes at steps 16 (observers), 17 (batch norms)"), qat.standardOutput)
    }

    /// A directory where a file is expected, and arrays of the wrong shape, are errors naming the
    /// path (the reader once took a directory's size as Int.max and tried to allocate it).
    func testDirectoriesAndWrongShapesAreNamed() throws {
        let run = try trainedRun()
        let checkpoint = run.appendingPathComponent("last.h5").path
        try expectFailure(["predict", checkpoint, "--input", folder.path, "--output", folder.path + "/o.npy"], status: 1,
                          [folder.path, "a directory, not a file"])
        try FileManager.default.removeItem(at: data.appendingPathComponent("t10k-images-idx3-ubyte"))
        try FileManager.default.createDirectory(at: data.appendingPathComponent("t10k-images-idx3-ubyte"), withIntermediateDirectories: true)
        try expectFailure(["eval", checkpoint], status: 1, ["t10k-images-idx3-ubyte", "a directory, not a file"])
    }

    /// `minnow quantize` on a trained run: fp32 and int8 accuracy side by side and a per-layer
    /// report; zero calibration images is a usage error.
    func testQuantizeReportsBothAccuraciesAndEveryLayer() throws {
        let run = try trainedRun()
        let result = try minnow(["quantize", run.appendingPathComponent("last.h5").path, "--calibrate", "64", "--test-images", "32"])
        XCTAssertTrue(result.succeeded, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("64 calibration images of fashion-mnist"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("top-1 on 32 test images: fp32"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("int8 (integer arithmetic)"), result.standardOutput)
        for layer in ["features.0 ", "hidden ", "fc "] {
            XCTAssertTrue(result.standardOutput.contains("\n" + layer), "no row for \(layer): \(result.standardOutput)")
        }
        try expectFailure(["quantize", run.appendingPathComponent("last.h5").path, "--calibrate", "0"], status: 2,
                          ["--calibrate must be in 1...100000000, got 0"])
    }

    /// `MINNOW_NUM_THREADS` that is not a thread count stops every command before it starts (100000
    /// used to try to start that many threads).
    func testBadThreadCountVariableIsAUsageError() throws {
        for value in ["0", "-1", "abc", "100000"] {
            var environment = self.environment
            environment["MINNOW_NUM_THREADS"] = value
            let result = try Subprocess.run(minnow, ["bench", "gemm", "--sizes", "64"], environment: environment)
            XCTAssertFalse(result.signaled, value)
            XCTAssertEqual(result.status, 2, "\(value): \(result.standardError)")
            XCTAssertTrue(result.standardError.contains("MINNOW_NUM_THREADS must be an integer in 1...256, got '\(value)'"),
                          result.standardError)
        }
    }

    /// IDX image files whose header gives 0 images, or images of 0 rows or columns.
    func testIDXHeaderWithNoRowsOrColumnsIsNamed() throws {
        let images = data.appendingPathComponent("train-images-idx3-ubyte")
        for (count, rows, columns) in [(10, 0, 28), (10, 28, 0), (0, 28, 28)] {
            let header = [0x0803, count, rows, columns].flatMap { value in [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
            try Data(header).write(to: images)
            var labels: [UInt8] = [0, 0, 8, 1, 0, 0, 0, UInt8(count)]
            labels += [UInt8](repeating: 1, count: count)
            try Data(labels).write(to: data.appendingPathComponent("train-labels-idx1-ubyte"))
            try expectFailure(["train", "--model", "cnn", "--epochs", "1", "--out", folder.path + "/x"], status: 1,
                              [images.path, "header says \(count)x\(rows)x\(columns): no images, or images of no pixels"])
        }
    }

    /// `eval` reads the test split only: a damaged training file does not stop it.
    func testEvalReadsOnlyTheTestSplit() throws {
        let run = try trainedRun()
        try Data([0x1f, 0x8b, 0, 1, 2]).write(to: data.appendingPathComponent("train-images-idx3-ubyte"))
        let result = try minnow(["eval", run.appendingPathComponent("last.h5").path])
        XCTAssertTrue(result.succeeded, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("test (128 images, fp32)"), result.standardOutput)
        // The damage is real: training on the same folder stops at that file.
        try expectFailure(["train", "--model", "cnn", "--epochs", "1", "--out", folder.path + "/x"], status: 1,
                          ["train-images-idx3-ubyte", "corrupt gzip"])
    }

    /// Every command's help reads well in an 80-column terminal: no line longer than 80 columns.
    func testHelpFitsEightyColumns() throws {
        let commands = [[], ["train"], ["distill"], ["eval"], ["inspect"], ["predict"], ["bench"], ["bench", "ops"], ["bench", "gemm"],
                        ["bench", "train"], ["bench", "distill"], ["bench", "qat"], ["bench", "models"], ["quantize"], ["qat"], ["prune"], ["prune", "sensitivity"], ["export"], ["run"]]
        for command in commands {
            let result = try minnow(command + ["--help"])
            XCTAssertTrue(result.succeeded, "\(command): \(result.standardError)")
            let long = result.standardOutput.split(separator: "\n").filter { $0.count > 80 }
            XCTAssertEqual(long, [], "minnow \(command.joined(separator: " ")) --help has lines over 80 columns")
        }
    }
}
