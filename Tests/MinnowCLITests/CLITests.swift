import Foundation
import MinnowTestSupport
import XCTest

/// The `minnow` binary, run as a user would: bad input gives a clear message and a non-zero exit.
final class CLITests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    struct Result {
        let status: Int32
        let output: String
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = try Subprocess.requireMinnowExecutable(packageRoot: Self.packageRoot)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// Every benchmark says where it ran: its report starts with the machine (the CPU's model name
    /// from /proc/cpuinfo, the build's target and vector set, the int8 kernel level, the threads),
    /// and its JSON holds the same beside the results.
    func testBenchmarksNameTheirMachine() throws {
        let json = NSTemporaryDirectory() + "minnow-bench-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: json) }
        let result = try run(["bench", "gemm", "--sizes", "32", "--iterations", "1", "--repeats", "1", "--json", json])
        XCTAssertEqual(result.status, 0, result.output)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let model = try XCTUnwrap(cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":", maxSplits: 1).last)
            .trimmingCharacters(in: .whitespaces)
        XCTAssertTrue(result.output.hasPrefix("machine: \(model) ["), result.output)
        let record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let machine = try XCTUnwrap(record["machine"] as? [String: Any])
        XCTAssertEqual(machine["cpu"] as? String, model)
        XCTAssertEqual(machine["buildTarget"] as? String, ProcessInfo.processInfo.environment["MINNOW_TARGET_CPU"] ?? "native")
        XCTAssertTrue(["avx512", "avx2", "sse2", "arm64-neon"].contains(machine["buildVectorISA"] as? String ?? ""), "\(machine)")
        XCTAssertTrue(["avx512-vnni", "avx-vnni", "avx2", "reference"].contains(machine["runtimeKernels"] as? String ?? ""), "\(machine)")
        let tiles = machine["convolutionTiles"] as? String
        XCTAssertEqual(tiles, machine["buildVectorISA"] as? String == "avx512" ? "wide" : "narrow", "\(machine)")
        let core = try XCTUnwrap(machine["openBLASCore"] as? String)
        XCTAssertFalse(core.isEmpty, "\(machine)")
        XCTAssertTrue(result.output.contains("; OpenBLAS \(core); "), result.output)
        XCTAssertEqual((record["results"] as? [Any])?.count, 1)
    }

    func testHelpExplainsTheCommands() throws {
        let result = try run(["--help"])
        XCTAssertEqual(result.status, 0)
        for command in ["train", "eval", "inspect", "bench"] { XCTAssertTrue(result.output.contains(command), result.output) }
        let train = try run(["train", "--help"])
        XCTAssertTrue(train.output.contains("--learning-rate") || train.output.contains("--lr"), train.output)
    }

    func testUnknownModelNameFails() throws {
        let result = try run(["train", "--model", "resnet9000", "--out", NSTemporaryDirectory() + "minnow-cli-unknown"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("unknown model 'resnet9000'"), result.output)
        XCTAssertTrue(result.output.contains("student_mbv2"), "lists the choices: \(result.output)")
    }

    func testInvalidFlagValuesFail() throws {
        for (arguments, expected) in [
            (["--epochs", "0"], "--epochs must be in 1...100000, got 0"),
            (["--lr=-0.1"], "--lr must be a positive number, got -0.1"),
            (["--optimizer", "rmsprop"], "rmsprop"),
            (["--label-smoothing", "1.5"], "--label-smoothing must be in [0.0, 1.0), got 1.5"),
            (["--batch-size", "abc"], "abc"),
        ] {
            let result = try run(["train", "--model", "cnn", "--out", NSTemporaryDirectory() + "minnow-cli-bad"] + arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.output.contains(expected), "\(arguments): \(result.output)")
        }
    }

    /// A resumed run keeps its saved recipe and distillation settings: giving them again is refused
    /// before anything is loaded; a new distillation run needs a teacher, a student and a folder;
    /// bad settings and a missing teacher stop before any data are read.
    func testDistillArgumentsAreCheckedBeforeLoading() throws {
        for (arguments, expected) in [
            (["--resume", "runs/x", "--temperature", "3", "--epochs", "2"], "remove --temperature, --epochs"),
            (["--resume", "runs/x", "--hint", "features.3:layers.1"], "remove --hint"),
            (["--student", "student_mbv2", "--out", "runs/x"], "at least one --teacher"),
            (["--teacher", "t.h5", "--out", "runs/x"], "--student and --out are required"),
            (["--teacher", "t.h5", "--student", "student_mbv2", "--out", "runs/x", "--temperature", "0"], "--temperature must be a positive number, got 0.0"),
            (["--teacher", "missing-teacher.h5", "--student", "student_mbv2", "--out", "runs/x"], "missing-teacher.h5"),
        ] {
            let result = try run(["distill"] + arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.output.contains(expected), "\(arguments): \(result.output)")
        }
    }

    func testMissingDataSetSaysHowToInstallIt() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-cli-empty-\(getpid())")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let result = try run(["train", "--model", "cnn", "--epochs", "1", "--out", empty.path + "/run"],
                             environment: ["MINNOW_FASHION_MNIST_DIR": empty.path])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("apt-get install dataset-fashion-mnist"), result.output)
        XCTAssertTrue(result.output.contains(empty.path), "names the folder: \(result.output)")
    }

    func testCorruptIDXFileIsNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-cli-corrupt-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            // A valid images header (2051, 10 x 28 x 28) but only 100 bytes of pixels: truncated.
            var bytes: [UInt8] = name.contains("images") ? [0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28] : [0, 0, 8, 1, 0, 0, 0, 10]
            bytes += [UInt8](repeating: 1, count: name.contains("images") ? 100 : 10)
            try Data(bytes).write(to: folder.appendingPathComponent(name))
        }
        let result = try run(["train", "--model", "cnn", "--epochs", "1", "--out", folder.path + "/run"],
                             environment: ["MINNOW_FASHION_MNIST_DIR": folder.path])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("train-images-idx3-ubyte") && result.output.contains("truncated"), result.output)
    }
}
