import Foundation
import MinnowTestSupport
import XCTest

/// A user's own data set through every command: trained on, evaluated (found again from the
/// checkpoint), quantized, exported and run, with its normalization measured and stored.
final class OwnDataCLITests: CLITestCase {
    /// A folder of `.npy` arrays: 16×16 RGB images of 3 classes whose colour says the class.
    private func writeArrays(labelsBeyondClasses: Bool = false) throws -> URL {
        let arrays = folder.appendingPathComponent("arrays")
        try FileManager.default.createDirectory(at: arrays, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        for (split, count) in [("train", 96), ("test", 30)] {
            let labels = (0..<count).map { $0 % 3 }
            var pixels = [UInt8]()
            for label in labels {
                for _ in 0..<(16 * 16) {
                    for channel in 0..<3 { pixels.append(UInt8.random(in: 0...60, using: &generator) + (channel == label ? 150 : 0)) }
                }
            }
            try NPYFixture.write(arrays.appendingPathComponent("\(split)_images.npy"), descr: "|u1", shape: [count, 16, 16, 3], payload: pixels)
            let stored = labelsBeyondClasses ? labels.map { $0 + 1 } : labels
            try NPYFixture.write(arrays.appendingPathComponent("\(split)_labels.npy"), descr: "<i8", shape: [count],
                    payload: NPYFixture.int64Payload(stored))
        }
        try Data("red\ngreen\nblue\n".utf8).write(to: arrays.appendingPathComponent("classes.txt"))
        return arrays
    }

    private func trainOwn(_ dataset: String, out: URL) -> [String] {
        ["train", "--model", "cnn", "--width", "0.25", "--dataset", dataset, "--epochs", "2", "--batch-size", "16",
         "--validation", "12", "--progress", "none", "--out", out.path]
    }

    func testArraysTrainEvaluateQuantizeExportAndRun() throws {
        let arrays = try writeArrays()
        let dataset = "arrays:" + arrays.path
        let run = folder.appendingPathComponent("own")
        let trained = try minnow(trainOwn(dataset, out: run))
        XCTAssertTrue(trained.succeeded, trained.standardError)

        // The normalization is measured on the training split and stored with the run.
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["dataset"] as? String, dataset)
        let normalization = try XCTUnwrap(config["normalization"] as? [String: [Double]])
        XCTAssertEqual(normalization["mean"]?.count, 3)
        // Each channel is bright (+150) in a third of the images: mean about (30 + 150 / 3) / 255.
        for mean in normalization["mean"] ?? [] { XCTAssertEqual(mean, 80.0 / 255, accuracy: 0.02) }

        // eval finds the data set again from the checkpoint.
        let evaluation = try minnow(["eval", run.appendingPathComponent("best.h5").path, "--json"])
        XCTAssertTrue(evaluation.succeeded, evaluation.standardError)
        XCTAssertEqual(try EvaluationJSON.decode(evaluation.standardOutput).count, 30)

        let quantized = folder.appendingPathComponent("ptq"), model = folder.appendingPathComponent("own.mnw")
        let steps = [["quantize", run.appendingPathComponent("best.h5").path, "--calibrate", "32", "--out", quantized.path],
                     ["export", quantized.appendingPathComponent("quantized.h5").path, "-o", model.path],
                     ["eval", quantized.appendingPathComponent("quantized.h5").path, "--json"],
                     ["run", model.path, "--dataset", dataset]]
        for step in steps {
            let result = try minnow(step)
            XCTAssertTrue(result.succeeded, "\(step): \(result.standardError)")
        }
    }

    func testBadOwnDataAnswersWithTheFileOrFlag() throws {
        let arrays = try writeArrays(labelsBeyondClasses: true)
        let run = folder.appendingPathComponent("bad")
        try expectFailure(trainOwn("arrays:" + arrays.path, out: run), status: 1, ["train_labels.npy", "label 3", "0..<3"])
        try expectFailure(trainOwn("arrays:", out: run), status: 2, ["--dataset"])
        try expectFailure(trainOwn("images:" + folder.appendingPathComponent("nowhere").path, out: run), status: 1, ["nowhere", "train/"])
        try expectFailure(trainOwn("arrays:" + arrays.path, out: run) + ["--data-dir", folder.path], status: 2, ["--data-dir", "arrays:"])
    }
}
