import Foundation
import MinnowCheckpoint
import MinnowHDF5
import MinnowQuantization
import MinnowTestSupport
import XCTest

/// `minnow quantize --out`, `minnow qat` (plain and with a teacher) and `minnow eval` of a
/// quantized checkpoint, on the synthetic data set.
final class QuantizationCLITests: CLITestCase {
    func qatArguments(_ checkpoint: URL, epochs: Int, out: URL) -> [String] {
        ["qat", checkpoint.path, "--epochs", "\(epochs)", "--batch-size", "64", "--calibrate", "64", "--progress", "none", "--out", out.path]
    }

    /// PTQ writes a quantized checkpoint whose int8 numbers h5py-style readers find as int8 and
    /// int32 datasets, and which `eval` evaluates in integer arithmetic to the accuracy
    /// `quantize` reported.
    func testQuantizeOutWritesAnIntegerCheckpointThatEvalRuns() throws {
        let checkpoint = try floatRun(), out = folder.appendingPathComponent("ptq")
        let result = try minnow(["quantize", checkpoint.path, "--calibrate", "64", "--out", out.path])
        XCTAssertTrue(result.succeeded, result.standardError)
        let file = try HDF5File.open(out.appendingPathComponent("quantized.h5"))
        let weight = try file.read("/quantization/fc/weight", as: Int8.self)
        XCTAssertEqual(weight.shape.count, 2)
        XCTAssertEqual(try file.read("/quantization/fc/bias", as: Int32.self).values.count, weight.shape[1])
        XCTAssertEqual(try file.read("/quantization/fc/weight_scale", as: Float.self).values.count, weight.shape[1])
        let numbers = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: out.appendingPathComponent("quantization.json")))
        let reported = try XCTUnwrap(numbers["int8_top1"].flatMap(Double.init))
        let eval = try minnow(["eval", out.appendingPathComponent("quantized.h5").path, "--json"])
        XCTAssertTrue(eval.succeeded, eval.standardError)
        let evaluated = try EvaluationJSON.decode(eval.standardOutput)
        XCTAssertEqual(evaluated.top1, reported, "eval and quantize report the same integer accuracy")
        XCTAssertEqual(evaluated.arithmetic, "int8")
        XCTAssertEqual(evaluated.split, "test")
        let text = try minnow(["eval", out.appendingPathComponent("quantized.h5").path])
        XCTAssertTrue(text.standardOutput.contains("int8"), text.standardOutput)
    }

    /// h5py reads the integer numbers as int8, float32 and int32 numpy arrays, the values Minnow wrote.
    func testH5pyReadsTheIntegerNumbers() throws {
        let python = try Requirements.pythonWithH5py()
        let checkpoint = try floatRun(), out = folder.appendingPathComponent("ptq")
        XCTAssertTrue(try minnow(["quantize", checkpoint.path, "--calibrate", "32", "--test-images", "16", "--out", out.path]).succeeded)
        let url = out.appendingPathComponent("quantized.h5")
        let script = """
            import h5py, json, sys
            f = h5py.File(sys.argv[1], "r")
            g = f["quantization/fc"]
            print(json.dumps({k: [str(g[k].dtype), g[k][()].ravel().tolist() if g[k].shape else [g[k][()].item()]] for k in g}))
            """
        let result = try Subprocess.run(python, ["-c", script, url.path])
        XCTAssertTrue(result.succeeded, result.standardError)
        struct Entry: Decodable { let type: String, values: [Double]; init(from d: any Decoder) throws {
            var c = try d.unkeyedContainer(); type = try c.decode(String.self); values = try c.decode([Double].self) } }
        let read = try JSONDecoder().decode([String: Entry].self, from: Data(result.standardOutput.utf8))
        let file = try HDF5File.open(url)
        XCTAssertEqual(read["weight"]?.type, "int8")
        XCTAssertEqual(read["weight"]?.values, try file.read("/quantization/fc/weight", as: Int8.self).values.map(Double.init))
        XCTAssertEqual(read["bias"]?.type, "int32")
        XCTAssertEqual(read["bias"]?.values, try file.read("/quantization/fc/bias", as: Int32.self).values.map(Double.init))
        XCTAssertEqual(read["weight_scale"]?.type, "float32")
        XCTAssertEqual(read["weight_scale"]?.values, try file.read("/quantization/fc/weight_scale", as: Float.self).values.map(Double.init))
        XCTAssertEqual(read["weight_zero_point"]?.type, "int32")
        XCTAssertEqual(read["output_zero_point"]?.type, "int32")
        XCTAssertEqual(read["input_scale"]?.type, "float32")
    }

    /// The `/quantization` numbers are derived from `/model` and `/buffers` and checked on load:
    /// an edit or damage made with h5py (a group deleted, a scale zeroed, NaN or negative, int8
    /// codes of another shape, a non-finite weight, a step counter no training writes) is an error
    /// naming the dataset, for `eval`, `export` and `qat --resume` alike.
    func testEditedQuantizationNumbersAreRefused() throws {
        let python = try Requirements.pythonWithH5py()
        let checkpoint = try floatRun(), out = folder.appendingPathComponent("ptq")
        XCTAssertTrue(try minnow(["quantize", checkpoint.path, "--calibrate", "32", "--test-images", "16", "--out", out.path]).succeeded)
        let original = out.appendingPathComponent("quantized.h5"), edited = folder.appendingPathComponent("edited.h5")
        let edits: [(String, String)] = [
            ("del f['quantization']", "/quantization: missing"),
            ("del f['quantization/fc']", "/quantization/fc/weight: missing"),
            ("f['quantization/fc/weight_scale'][0] = 0", "/quantization/fc/weight_scale"),
            ("f['quantization/fc/weight_scale'][0] = float('nan')", "/quantization/fc/weight_scale"),
            ("f['quantization/fc/output_scale'][()] = -0.5", "/quantization/fc/output_scale"),
            ("w = f['quantization/fc/weight'][()]; del f['quantization/fc/weight']; f['quantization/fc/weight'] = w[:-1]", "/quantization/fc/weight"),
            ("f['quantization/extra/weight'] = [1]", "/quantization/extra: a layer the model does not have"),
            ("f['quantization'].attrs['scheme'] = '{}'", "attribute scheme"),
            ("f['model/model.fc/weight'][0, 0] = float('nan')", "/model/model.fc/weight: holds a value that is not finite"),
            ("f['buffers/trainingSteps'][0] = 1e30", "trainingSteps is 1e+30"),
        ]
        for (edit, expected) in edits {
            try? FileManager.default.removeItem(at: edited)
            try? FileManager.default.removeItem(at: folder.appendingPathComponent("e.mnw"))
            try FileManager.default.copyItem(at: original, to: edited)
            let result = try Subprocess.run(python, ["-c", "import h5py, sys\nf = h5py.File(sys.argv[1], 'r+')\n\(edit)\nf.close()", edited.path])
            XCTAssertTrue(result.succeeded, "\(edit): \(result.standardError)")
            for command in [["eval", edited.path], ["export", edited.path, "-o", folder.appendingPathComponent("e.mnw").path]] {
                _ = try expectFailure(command, status: 1, [edited.path, expected])
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("e.mnw").path), "\(edit): export wrote a file")
        }
    }

    /// A QAT run killed after its first epoch and resumed ends with the same checkpoint, bit for
    /// bit, as an uninterrupted one (ranges, step counter and batch-norm freeze included).
    func testQATResumesExactly() throws {
        let checkpoint = try floatRun()
        let straight = folder.appendingPathComponent("straight"), split = folder.appendingPathComponent("split")
        var result = try minnow(qatArguments(checkpoint, epochs: 2, out: straight))
        XCTAssertTrue(result.succeeded, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("int8 (integer arithmetic)"), result.standardOutput)
        result = try minnow(qatArguments(checkpoint, epochs: 2, out: split) + ["--checkpoint-every", "1", "--keep-last", "2"])
        XCTAssertTrue(result.succeeded, result.standardError)
        // Continue from the epoch-1 checkpoint: it must reproduce the second epoch exactly.
        let first = split.appendingPathComponent("epoch-0001.h5")
        XCTAssertTrue(FileManager.default.fileExists(atPath: first.path))
        let resumed = folder.appendingPathComponent("resumed")
        try FileManager.default.createDirectory(at: resumed, withIntermediateDirectories: true)
        for name in ["config.json", "metrics.jsonl"] {
            try FileManager.default.copyItem(at: split.appendingPathComponent(name), to: resumed.appendingPathComponent(name))
        }
        try FileManager.default.copyItem(at: first, to: resumed.appendingPathComponent("last.h5"))
        result = try minnow(["qat", "--resume", resumed.path, "--progress", "none"])
        XCTAssertTrue(result.succeeded, result.standardError)
        XCTAssertEqual(try tensors(resumed.appendingPathComponent("last.h5")), try tensors(straight.appendingPathComponent("last.h5")))
        let (model, _) = try ModelCheckpoint.loadModel(from: resumed.appendingPathComponent("last.h5"))
        XCTAssertTrue(model is QuantizedModel)
        // A step counter no training writes (it once trapped the resume) is an error naming it.
        let python = try Requirements.pythonWithH5py()
        for value in ["1e30", "float('nan')", "-3", "2.5"] {
            try? FileManager.default.removeItem(at: resumed.appendingPathComponent("last.h5"))
            try FileManager.default.copyItem(at: first, to: resumed.appendingPathComponent("last.h5"))
            let edit = try Subprocess.run(python, ["-c", "import h5py, sys\nf = h5py.File(sys.argv[1], 'r+')\nf['buffers/trainingSteps'][0] = \(value)\nf.close()",
                                                   resumed.appendingPathComponent("last.h5").path])
            XCTAssertTrue(edit.succeeded, edit.standardError)
            _ = try expectFailure(["qat", "--resume", resumed.path, "--progress", "none"], status: 1, ["last.h5", "trainingSteps"])
        }
    }

    /// QAT with a teacher distills; LSQ with 4-bit weights runs and says so in its checkpoint.
    func testQATWithTeacherAndLSQ() throws {
        let checkpoint = try floatRun(), out = folder.appendingPathComponent("kd")
        var result = try minnow(qatArguments(checkpoint, epochs: 1, out: out) + ["--teacher", checkpoint.path, "--method", "lsq", "--weight-bits", "4"])
        XCTAssertTrue(result.succeeded, result.standardError)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("distillation.json").path))
        let (model, _) = try ModelCheckpoint.loadModel(from: out.appendingPathComponent("last.h5"))
        let quantized = try XCTUnwrap(model as? QuantizedModel)
        XCTAssertEqual(quantized.scheme.method, .lsq)
        XCTAssertEqual(quantized.scheme.weightBits, 4)
        let file = try HDF5File.open(out.appendingPathComponent("last.h5"))
        XCTAssertTrue(try file.read("/quantization/fc/weight", as: Int8.self).values.allSatisfy { (-7...7).contains($0) })
        // Bad input: a bit width that is not supported, a layer that does not exist.
        _ = try expectFailure(qatArguments(checkpoint, epochs: 1, out: folder.appendingPathComponent("x")) + ["--weight-bits", "3"], status: 2,
                          ["--weight-bits must be 8, 7 or 4, got 3"])
        result = try minnow(qatArguments(checkpoint, epochs: 1, out: folder.appendingPathComponent("y")) + ["--layer-bits", "nope=4"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.standardError.contains("'nope' is not a convolution or linear layer of the model"), result.standardError)
    }
}

/// `minnow train --init-from`: a fine-tuning run starts from a checkpoint's model and weights (the
/// fp32 control of QAT, which also fine-tunes).
final class InitFromCLITests: CLITestCase {
    func testFineTuningStartsFromTheCheckpoint() throws {
        let first = folder.appendingPathComponent("first")
        XCTAssertTrue(try minnow(trainArguments(epochs: 1, out: first)).succeeded)
        let start = first.appendingPathComponent("last.h5"), tuned = folder.appendingPathComponent("tuned")
        // A learning rate of almost 0 leaves the weights where they were: the run started from them.
        let result = try minnow(["train", "--init-from", start.path, "--epochs", "1", "--batch-size", "32", "--lr", "1e-30",
                                 "--schedule", "constant", "--weight-decay", "0", "--momentum", "0", "--no-nesterov", "--progress", "none", "--out", tuned.path])
        XCTAssertTrue(result.succeeded, result.standardError)
        let before = try tensors(start), after = try tensors(tuned.appendingPathComponent("last.h5"))
        for (path, value) in before where !path.contains("/") && !path.contains("running") {
            XCTAssertEqual(after[path], value, "\(path) moved")
        }
        _ = try expectFailure(["train", "--init-from", start.path, "--model", "cnn", "--out", tuned.path], status: 2,
                              ["--init-from takes the checkpoint's model; remove --model"])
    }
}
