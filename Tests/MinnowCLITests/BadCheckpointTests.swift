import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowHDF5
import MinnowModels
import MinnowNN
import MinnowTensor
import MinnowTestSupport
import MinnowTraining
import XCTest

/// `minnow eval`, `inspect`, `predict` and `train --resume` on files that are not usable
/// checkpoints: each exits with a non-zero status and a one-line error naming the file, never
/// a crash or HDF5's own diagnostics.
final class BadCheckpointTests: CLITestCase {
    /// Bad files by what is wrong with them, each with a phrase its error must contain.
    private func badFiles() throws -> [(url: URL, problem: String)] {
        let bad = folder.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: bad, withIntermediateDirectories: true)
        let config = ModelConfig(architecture: .cnn, width: 0.25)
        let valid = bad.appendingPathComponent("valid.h5")
        try ModelCheckpoint.save(try ModelZoo.build(config), config: config, to: valid)

        let truncated = bad.appendingPathComponent("truncated.h5")
        let bytes = try Data(contentsOf: valid)
        try bytes.prefix(bytes.count / 2).write(to: truncated)

        let text = bad.appendingPathComponent("text.h5")
        try Data("epoch 1: loss 0.42\n".utf8).write(to: text)

        let newer = bad.appendingPathComponent("newer.h5")
        do {
            let file = try HDF5File.create(at: newer)
            try file.setAttribute("format", ModelCheckpoint.formatName)
            try file.setAttribute("format_version", ModelCheckpoint.formatVersion + 1)
        }

        // Weights of a quarter-width CNN under the description, config (and resumable recipe) of a half-width one.
        let misfit = bad.appendingPathComponent("misfit.h5")
        var wider = config
        wider.width = 0.5
        let recipe = TrainingRun.Manifest(training: TrainingConfig(model: wider, epochs: 2), dataset: .fashionMNIST)
        try ModelCheckpoint.save(try ModelZoo.build(config), config: wider, to: misfit,
                                 training: TrainingState(epoch: 1, step: 1, threads: 1,
                                                         recipe: String(decoding: try JSONEncoder().encode(recipe), as: UTF8.self)),
                                 description: ModelDescription(model: try ModelZoo.build(wider), inputShape: wider.inputShape,
                                                               classes: wider.classes))

        return [(truncated, "truncated"), (text, "not an HDF5 file"), (newer, "format version 3 is not supported"),
                (misfit, "expected shape")]
    }

    private func assertCleanFailure(_ result: Subprocess.Result, naming file: URL, problem: String, _ command: String) {
        XCTAssertNotEqual(result.status, 0, "\(command) succeeded")
        XCTAssertTrue(result.standardError.contains(file.path), "\(command): the error does not name the file: \(result.standardError)")
        XCTAssertTrue(result.standardError.contains(problem), "\(command): the error does not say '\(problem)': \(result.standardError)")
        XCTAssertFalse(result.standardError.contains("HDF5-DIAG") || result.standardError.contains("Fatal error"),
                       "\(command): \(result.standardError)")
    }

    func testEvalInspectPredictAndResumeRefuseBadFiles() throws {
        let images = folder.appendingPathComponent("images.npy")
        try NPY.write(Tensor.zeros([2, 28, 28, 1]), to: images)
        for (file, problem) in try badFiles() {
            let commands = [
                ["eval", file.path], ["inspect", file.path],
                ["predict", file.path, "--input", images.path, "--output", folder.appendingPathComponent("logits.npy").path],
                ["train", "--resume", file.path, "--progress", "none"],
            ]
            for arguments in commands {
                let command = "minnow \(arguments.prefix(2).joined(separator: " ")) (\(file.lastPathComponent))"
                assertCleanFailure(try minnow(arguments), naming: file, problem: problem, command)
            }
        }
    }

    /// Resuming a run folder whose last.h5 is damaged names that file.
    func testResumeOfAFolderWithADamagedLastCheckpoint() throws {
        let run = folder.appendingPathComponent("run")
        XCTAssertTrue(try minnow(trainArguments(epochs: 1, out: run)).succeeded)
        let last = RunFolder(run).last
        let bytes = try Data(contentsOf: last)
        try bytes.prefix(1000).write(to: last)
        assertCleanFailure(try minnow(["train", "--resume", run.path]), naming: last, problem: "truncated", "train --resume RUN")
    }

    func testResumeOfAFolderThatIsNotARun() throws {
        let empty = folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        assertCleanFailure(try minnow(["train", "--resume", empty.path]), naming: empty, problem: "not a run folder",
                           "train --resume EMPTY")
    }
}

