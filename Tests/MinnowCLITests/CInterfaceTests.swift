import Foundation
import MinnowData
import MinnowTestSupport
import XCTest

/// The runtime's C interface (include/minnow_runtime.h) from C: the example program, built with
/// the system's C compiler against the shared library `swift test` builds, gives the classes and
/// output codes `minnow run` gives, on the fastest and the reference kernels; and every error a C
/// caller can make comes back as a code with a message (Tests/CInterface/api_checks.c).
final class CInterfaceTests: CLITestCase {
    /// Compiles `sources` into `name` in the test folder, linked against libMinnowRuntimeC.
    private func compile(_ sources: [String], _ name: String) throws -> URL {
        let compiler = try Requirements.require(Subprocess.which("cc"), "a C compiler (cc) to build the C interface's programs: scripts/setup.sh installs gcc")
        let library = minnow.deletingLastPathComponent()
        try Requirements.require(FileManager.default.fileExists(atPath: library.appendingPathComponent("libMinnowRuntimeC.so").path),
                                 "libMinnowRuntimeC.so next to minnow: swift build and swift test build it")
        let output = folder.appendingPathComponent(name)
        let root = Self.packageRoot.path
        let result = try Subprocess.run(compiler, ["-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", "-I", root + "/include"]
            + sources.map { root + "/" + $0 }
            + ["-L", library.path, "-lMinnowRuntimeC", "-lz", "-lm", "-Wl,-rpath," + library.path, "-o", output.path])
        XCTAssertTrue(result.succeeded, "cc: \(result.standardError)")
        return output
    }

    /// An exported model of the small CNN trained one epoch on the synthetic data.
    private func exportedModel() throws -> URL {
        let checkpoint = try floatRun()
        let ptq = folder.appendingPathComponent("ptq"), model = folder.appendingPathComponent("model.mnw")
        XCTAssertTrue(try minnow(["quantize", checkpoint.path, "--calibrate", "64", "--out", ptq.path]).succeeded)
        let export = try minnow(["export", ptq.appendingPathComponent("quantized.h5").path, "-o", model.path])
        XCTAssertTrue(export.succeeded, export.standardError)
        return model
    }

    func testTheCExampleClassifiesAsMinnowRunDoes() throws {
        let classify = try compile(["Examples/c/classify.c"], "classify")
        let model = try exportedModel()
        let images = try XCTUnwrap(["t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"].map { data.appendingPathComponent($0) }
            .first { FileManager.default.fileExists(atPath: $0.path) })
        let (predictions, codes, logits) = (folder.appendingPathComponent("classes.npy"), folder.appendingPathComponent("codes.npy"),
                                            folder.appendingPathComponent("logits.npy"))
        let run = try minnow(["run", model.path, "--output", predictions.path, "--codes", codes.path, "--logits", logits.path])
        XCTAssertTrue(run.succeeded, run.standardError)
        let expected = try NPY.read(predictions).scalars.map { Int($0) }
        let runCodes = try NPY.read(codes), runLogits = try NPY.read(logits)
        XCTAssertEqual(runCodes.shape, [expected.count, 10])
        XCTAssertEqual(runLogits.shape, runCodes.shape)
        // The logits are one increasing affine map of the codes: scale · (code − zero point).
        let pairs = zip(runCodes.scalars, runLogits.scalars).map { ($0, $1) }
        let low = pairs.min { $0.0 < $1.0 }!, high = pairs.max { $0.0 < $1.0 }!
        let scale = (high.1 - low.1) / (high.0 - low.0)
        XCTAssertGreaterThan(scale, 0)
        for (code, logit) in pairs { XCTAssertEqual(logit, low.1 + scale * (code - low.0), accuracy: 1e-4 * max(1, abs(logit))) }

        var outputs: [String] = []
        for kernels in [[], ["--kernels", "reference"]] {
            let result = try Subprocess.run(classify, [model.path, images.path, "--codes"] + kernels)
            XCTAssertTrue(result.succeeded, result.standardError)
            let lines = result.standardOutput.split(separator: "\n")
            XCTAssertEqual(lines.map { Int($0.split(separator: " ")[0])! }, expected, "the C program's classes are minnow run's")
            XCTAssertEqual(lines.flatMap { $0.split(separator: " ").dropFirst().map { Float($0)! } }, runCodes.scalars,
                           "the C program's output codes are minnow run --codes'")
            outputs.append(result.standardOutput)
        }
        XCTAssertEqual(outputs[0], outputs[1], "the fastest and the reference kernels give the same output codes")
        // The exported file (format version 4) names its classes; the program quantized the raw
        // pixels with the file's normalization (what the lines above compared with minnow run).
        let named = try Subprocess.run(classify, [model.path, images.path, "--names", "--limit", "5"])
        XCTAssertTrue(named.standardError.contains("input normalization from the model file"), named.standardError)
        let fashion = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        for (line, predicted) in zip(named.standardOutput.split(separator: "\n"), expected) {
            XCTAssertEqual(String(line), "\(predicted) \(fashion[predicted])")
        }

        var corrupt = try Data(contentsOf: model)
        corrupt[corrupt.count / 2] ^= 0x5a
        try corrupt.write(to: folder.appendingPathComponent("corrupt.mnw"))
        let refused = try Subprocess.run(classify, [folder.appendingPathComponent("corrupt.mnw").path, images.path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.standardError.contains("checksum") && refused.standardError.contains("(model)"), refused.standardError)
    }

    func testEveryCallerErrorIsACodeWithAMessage() throws {
        let checks = try compile(["Tests/CInterface/api_checks.c"], "api_checks")
        let result = try Subprocess.run(checks, [try exportedModel().path])
        XCTAssertFalse(result.signaled, "api_checks crashed: \(result.standardOutput)")
        XCTAssertEqual(result.status, 0, result.standardOutput + result.standardError)
        XCTAssertTrue(result.standardOutput.contains("pass small arena: arena"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("pass corrupt model: model"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.hasSuffix("0 failures\n"), result.standardOutput)
    }
}
