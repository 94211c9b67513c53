import Foundation
import MinnowTestSupport
import XCTest

/// Run folders written by an older build (`Tests/Fixtures/runs-0f31c9b`: training, distillation,
/// QAT and pruning, made by commit 0f31c9b on 64 real Fashion-MNIST images) resume with today's
/// build: continued from their `epoch-0001.h5`, each ends with exactly the tensors the old build
/// wrote at its last epoch (parameters, buffers and optimizer slots, bit for bit), and their
/// checkpoints evaluate (the QAT one in integer arithmetic).
final class OldRunFolderTests: CLITestCase {
    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures/runs-0f31c9b")

    /// The real data set (the runs' training data fingerprints name it), not the synthetic one; and
    /// OpenBLAS held to the kernels the fixtures were made with. OpenBLAS picks its GEMM kernels
    /// per CPU, and other families sum the linear layers' products in another order than its
    /// Haswell ones (which AMD Zen runs too): on an Intel Xeon that Debian's OpenBLAS 0.3.21 does
    /// not know, its generic Prescott kernels made the resumed tensors differ in their last bits.
    /// The check is of Minnow's code, not OpenBLAS's choice.
    override var environment: [String: String] { ["MINNOW_NUM_THREADS": "1", "OPENBLAS_CORETYPE": "Haswell"] }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try Requirements.require(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"),
                                 "the Fashion-MNIST data set is not installed (scripts/setup.sh data)")
        try FileManager.default.copyItem(at: Self.fixtures, to: folder.appendingPathComponent("runs"))
    }

    /// Resumes `run` from its first epoch with `command` (plus `extra`) and compares its new
    /// `last.h5` with the old build's.
    func resumesExactly(_ run: String, _ command: String, _ extra: [String] = []) throws {
        let copy = folder.appendingPathComponent("runs/\(run)")
        let old = try tensors(copy.appendingPathComponent("last.h5"))
        let result = try minnow([command, "--resume", copy.appendingPathComponent("epoch-0001.h5").path, "--progress", "none"] + extra)
        XCTAssertTrue(result.succeeded, "\(run): \(result.standardError)")
        let resumed = try tensors(copy.appendingPathComponent("last.h5"))
        XCTAssertEqual(Set(resumed.keys), Set(old.keys), run)
        for (name, value) in old { XCTAssertEqual(resumed[name], value, "\(run): \(name) differs from the old build's last epoch") }
    }

    func testOldTrainingRunResumesExactly() throws {
        try resumesExactly("train", "train")
    }

    func testOldDistillationRunResumesExactly() throws {
        // Its teacher was saved by an absolute path on the machine that made it: give the copy.
        try resumesExactly("distill", "distill", ["--teacher", folder.appendingPathComponent("runs/train/last.h5").path])
    }

    func testOldQATRunResumesExactlyAndEvaluatesInIntegers() throws {
        try resumesExactly("qat", "qat")
        let result = try minnow(["eval", folder.appendingPathComponent("runs/qat/last.h5").path])
        XCTAssertTrue(result.succeeded, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("int8"), result.standardOutput)
    }

    func testOldPruningRunResumesExactlyThroughItsNextEvent() throws {
        try resumesExactly("prune", "prune")
    }

    func testOldCheckpointsEvaluate() throws {
        for run in ["train", "distill", "prune"] {
            let result = try minnow(["eval", folder.appendingPathComponent("runs/\(run)/last.h5").path])
            XCTAssertTrue(result.succeeded, "\(run): \(result.standardError)")
            XCTAssertTrue(result.standardOutput.contains("top-1"), "\(run): \(result.standardOutput)")
        }
    }
}
