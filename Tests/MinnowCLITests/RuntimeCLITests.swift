import Foundation
import MinnowData
import MinnowHDF5
import MinnowTensor
import MinnowTestSupport
import XCTest

/// `minnow export` and `minnow run`: a quantized checkpoint exports, checks itself bit for bit,
/// and runs; damaged model files and float checkpoints are clear errors.
final class RuntimeCLITests: CLITestCase {
    func testExportChecksItselfAndRunGivesTheIntegerAccuracy() throws {
        let float = folder.appendingPathComponent("float"), ptq = folder.appendingPathComponent("ptq")
        XCTAssertTrue(try minnow(trainArguments(epochs: 1, out: float)).succeeded)
        let checkpoint = float.appendingPathComponent("last.h5")
        var result = try minnow(["quantize", checkpoint.path, "--calibrate", "64", "--out", ptq.path])
        XCTAssertTrue(result.succeeded, result.standardError)
        let file = folder.appendingPathComponent("model.mnw")
        result = try minnow(["export", ptq.appendingPathComponent("quantized.h5").path, "-o", file.path, "--check-images", "64"])
        XCTAssertTrue(result.succeeded, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("(bit-exact)"), result.standardOutput)
        result = try minnow(["run", file.path])
        XCTAssertTrue(result.succeeded, result.standardError)
        let eval = try minnow(["eval", ptq.appendingPathComponent("quantized.h5").path, "--json"])
        let evaluated = try EvaluationJSON.decode(eval.standardOutput)
        let top1 = String(format: "%.2f%%", 100 * evaluated.top1)
        XCTAssertTrue(result.standardOutput.contains("top-1 \(top1)"), "runtime \(result.standardOutput) vs integer evaluation \(top1)")
        // Every kernel level gives the same accuracy, and the export's check passes on each.
        for kernels in ["avx-vnni", "avx2", "reference"] {
            let run = try minnow(["run", file.path, "--kernels", kernels])
            XCTAssertTrue(run.standardOutput.contains("top-1 \(top1)"), "\(kernels): \(run.standardOutput) \(run.standardError)")
            let check = try minnow(["export", ptq.appendingPathComponent("quantized.h5").path, "-o", file.path, "--check-images", "32",
                                    "--kernels", kernels])
            XCTAssertTrue(check.standardOutput.contains("(bit-exact)"), "\(kernels): \(check.standardOutput) \(check.standardError)")
        }
        _ = try expectFailure(["run", file.path, "--kernels", "sse9"], status: 2, ["--kernels", "sse9"])

        // A damaged file and a float checkpoint are clear errors.
        let bytes = try Data(contentsOf: file)
        let damaged = folder.appendingPathComponent("damaged.mnw")
        try bytes.prefix(bytes.count - 5).write(to: damaged)
        _ = try expectFailure(["run", damaged.path], status: 1, ["damaged.mnw", "truncated"])
        _ = try expectFailure(["export", checkpoint.path, "-o", folder.appendingPathComponent("x.mnw").path], status: 1,
                              ["holds a float model: quantize it first"])
        _ = try expectFailure(["run", folder.appendingPathComponent("missing.mnw").path], status: 1, ["missing.mnw"])
        try checkInputsAndOutputs(model: file, quantized: ptq.appendingPathComponent("quantized.h5"))
    }

    /// `quantize --weight-bits 7` stores every weight in [-64, 63]; the exported file checks itself
    /// bit for bit and gives the integer evaluation's accuracy on every kernel level (on AVX2 its
    /// layers run the byte kernels, `bytes_need_seven_bits`).
    func testSevenBitWeightsExportAndRunBitExactOnEveryLevel() throws {
        let float = folder.appendingPathComponent("float"), ptq = folder.appendingPathComponent("ptq7")
        XCTAssertTrue(try minnow(trainArguments(epochs: 1, out: float)).succeeded)
        var result = try minnow(["quantize", float.appendingPathComponent("last.h5").path, "--calibrate", "64", "--weight-bits", "7", "--out", ptq.path])
        XCTAssertTrue(result.succeeded, result.standardError)
        let quantized = ptq.appendingPathComponent("quantized.h5")
        let weights = try HDF5File.open(quantized).read("/quantization/fc/weight", as: Int8.self).values
        XCTAssertTrue(weights.allSatisfy { (-64...63).contains($0) } && weights.contains { $0 == -64 || $0 == 63 }, "\(weights.min()!)...\(weights.max()!)")
        let eval = try minnow(["eval", quantized.path, "--json"])
        let evaluated = try EvaluationJSON.decode(eval.standardOutput)
        let top1 = String(format: "%.2f%%", 100 * evaluated.top1)
        let file = folder.appendingPathComponent("model7.mnw")
        for kernels in ["fastest", "avx-vnni", "avx2", "reference"] {
            result = try minnow(["export", quantized.path, "-o", file.path, "--check-images", "64", "--kernels", kernels])
            XCTAssertTrue(result.standardOutput.contains("for 64 (bit-exact)"), "\(kernels): \(result.standardOutput) \(result.standardError)")
            let run = try minnow(["run", file.path, "--kernels", kernels])
            XCTAssertTrue(run.standardOutput.contains("top-1 \(top1)"), "\(kernels): \(run.standardOutput) \(run.standardError)")
        }
    }

    /// `run --input` takes [N, 28, 28, 1] or [N, 28, 28] and refuses other layouts naming the
    /// shapes; `export` never overwrites its checkpoint and leaves no file it rejected.
    func checkInputsAndOutputs(model: URL, quantized: URL) throws {
        for (shape, accepted) in [([3, 28, 28, 1], true), ([3, 28, 28], true), ([3, 1, 28, 28], false), ([3, 784], false), ([], false)] {
            let images = folder.appendingPathComponent("images.npy")
            try NPY.write(Tensor(shape: shape, scalars: [Float](repeating: 0.25, count: shape.reduce(1, *))), to: images)
            let result = try minnow(["run", model.path, "--input", images.path])
            XCTAssertFalse(result.signaled, "\(shape): \(result.standardError)")
            if accepted {
                XCTAssertTrue(result.standardOutput.contains("classified 3 images"), "\(shape): \(result.standardOutput) \(result.standardError)")
            } else {
                XCTAssertEqual(result.status, 1, "\(shape)")
                XCTAssertTrue(result.standardError.contains("the model takes images of shape [N, 28, 28, 1], the input has \(shape)"), result.standardError)
            }
        }
        let before = try Data(contentsOf: quantized)
        _ = try expectFailure(["export", quantized.path, "-o", quantized.path], status: 1, ["the output is the checkpoint itself"])
        XCTAssertEqual(try Data(contentsOf: quantized), before, "the checkpoint is unchanged")
    }
}
