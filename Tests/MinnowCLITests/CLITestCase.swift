import Foundation
import MinnowCheckpoint
import MinnowTestSupport
import XCTest

/// Tests that run the built `minnow` command in a fresh folder with a small synthetic
/// Fashion-MNIST-format data set. One thread per process: runs are bit-reproducible.
class CLITestCase: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    var folder: URL!
    var minnow: URL!
    var data: URL { folder.appendingPathComponent("data") }
    /// The environment every `minnow` run gets.
    var environment: [String: String] { ["MINNOW_FASHION_MNIST_DIR": data.path, "MINNOW_NUM_THREADS": "1"] }

    override func setUpWithError() throws {
        minnow = try Subprocess.requireMinnowExecutable(packageRoot: Self.packageRoot)
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-cli-\(UUID().uuidString)")
        try SyntheticData.writeFashionMNIST(to: data, train: 512, test: 128)
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    /// Runs `minnow arguments` to the end.
    @discardableResult
    func minnow(_ arguments: [String]) throws -> Subprocess.Result {
        try Subprocess.run(minnow, arguments, environment: environment)
    }

    /// Runs `arguments` and checks the exit status and that standard error contains each of `expected`.
    @discardableResult
    func expectFailure(_ arguments: [String], status: Int32, _ expected: [String], line: UInt = #line) throws -> Subprocess.Result {
        let result = try minnow(arguments)
        XCTAssertFalse(result.signaled, "\(arguments): ended by signal \(result.status) (a trap): \(result.standardError)", line: line)
        XCTAssertEqual(result.status, status, "\(arguments): \(result.standardError)", line: line)
        for text in expected {
            XCTAssertTrue(result.standardError.contains(text), "\(arguments): stderr lacks '\(text)': \(result.standardError)", line: line)
        }
        return result
    }

    /// A small, fast training command: a quarter-width CNN, batches of 32, the last 3 checkpoints kept.
    func trainArguments(epochs: Int, out: URL) -> [String] {
        ["train", "--model", "cnn", "--width", "0.25", "--epochs", "\(epochs)", "--batch-size", "32", "--keep-last", "3",
         "--progress", "none", "--out", out.path]
    }

    /// Trains the small CNN one epoch into `folder/float` and returns its `last.h5`.
    func floatRun() throws -> URL {
        let run = folder.appendingPathComponent("float")
        let result = try minnow(trainArguments(epochs: 1, out: run))
        XCTAssertTrue(result.succeeded, result.standardError)
        return run.appendingPathComponent("last.h5")
    }

    /// The checkpoint's tensors, bit patterns by name: parameters, buffers and optimizer slots.
    func tensors(_ url: URL) throws -> [String: [UInt32]] {
        let (model, _) = try ModelCheckpoint.loadModel(from: url)
        var result: [String: [UInt32]] = [:]
        for (path, parameter) in model.namedParameters() { result[path] = parameter.value.scalars.map(\.bitPattern) }
        for (path, buffer) in model.namedBuffers() { result[path] = buffer.value.scalars.map(\.bitPattern) }
        let optimizer = try ModelCheckpoint.loadOptimizer(from: ModelCheckpoint.open(url), model: model)
        for (path, slots) in optimizer.slots {
            for (slot, tensor) in slots { result["\(path)/\(slot)"] = tensor.scalars.map(\.bitPattern) }
        }
        return result
    }
}

/// What `minnow eval --json` prints.
struct EvaluationJSON: Decodable {
    let count: Int
    let loss: Double
    let top1: Double
    let top5: Double?
    /// `fp32`, or `int8` for a quantized checkpoint evaluated in integer arithmetic.
    let arithmetic: String
    /// `test` or `validation`.
    let split: String

    static func decode(_ output: String) throws -> EvaluationJSON {
        try JSONDecoder().decode(EvaluationJSON.self, from: Data(output.utf8))
    }
}
