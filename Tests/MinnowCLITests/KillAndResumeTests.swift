import Foundation
import MinnowCheckpoint
import MinnowTestSupport
import MinnowTraining
import XCTest

/// `minnow train` killed with SIGKILL, some of the kills while a checkpoint is being written,
/// then resumed: every checkpoint left behind loads, and the resumed run ends exactly where an
/// uninterrupted one does.
///
/// How the test knows that a kill landed during a write: a checkpoint is written to
/// `.last.h5.tmp-<pid>` and renamed to `last.h5` when complete. A kill is sent only while that file
/// exists, and is counted as landing during the write only if the file is still there after the
/// process died, that is, the rename never happened. At least one kill must land so.
final class KillAndResumeTests: CLITestCase {
    /// How a round ends the training process.
    private enum Kill {
        /// As soon as the process's temporary checkpoint file appears (during a write), at the `n`-th write.
        case duringWrite(Int)
        /// After this many milliseconds, wherever the process is.
        case after(milliseconds: Int)
    }

    func testKilledRunsResumeToTheUninterruptedResult() throws {
        let epochs = 12
        let reference = folder.appendingPathComponent("reference")
        let uninterrupted = try minnow(trainArguments(epochs: epochs, out: reference))
        XCTAssertTrue(uninterrupted.succeeded, uninterrupted.standardError)

        let run = folder.appendingPathComponent("run")
        let last = RunFolder(run).last
        var killsDuringWrites = 0
        var epochsSeen: [Int] = []
        let kills: [Kill] = [.duringWrite(2), .after(milliseconds: 300), .duringWrite(2), .after(milliseconds: 450), .duringWrite(3)]
        for (round, plan) in kills.enumerated() {
            let arguments = round == 0 ? trainArguments(epochs: epochs, out: run) : ["train", "--resume", run.path, "--progress", "none"]
            let log = folder.appendingPathComponent("round-\(round).log")
            let process = try Subprocess.start(minnow, arguments, environment: environment, output: log)
            let temporary = run.appendingPathComponent(".last.h5.tmp-\(process.processIdentifier)")
            let start = ContinuousClock.now
            var writesSeen = 0, wasWriting = false, killed = false
            while process.isRunning, !killed {
                switch plan {
                case .duringWrite(let n):
                    let writing = FileManager.default.fileExists(atPath: temporary.path)
                    if writing, !wasWriting { writesSeen += 1 }
                    wasWriting = writing
                    killed = writing && writesSeen >= n
                case .after(let milliseconds):
                    killed = ContinuousClock.now - start >= .milliseconds(milliseconds)
                }
                if killed { kill(process.processIdentifier, SIGKILL) } else { usleep(50) }
            }
            process.waitUntilExit()
            guard killed, process.terminationReason == .uncaughtSignal else {
                XCTAssertTrue(process.terminationStatus == 0, "round \(round) ended on its own with status \(process.terminationStatus)")
                break
            }
            if FileManager.default.fileExists(atPath: temporary.path) { killsDuringWrites += 1 }
            // Whatever the moment of the kill, the newest complete checkpoint is there and loads.
            guard FileManager.default.fileExists(atPath: last.path) else { continue }
            let state = try ModelCheckpoint.loadTraining(from: ModelCheckpoint.open(last), into: ModelCheckpoint.loadModel(from: last).model)
            XCTAssertGreaterThanOrEqual(state.epoch, epochsSeen.last ?? 0, "round \(round)")
            epochsSeen.append(state.epoch)
            for (_, url) in RunFolder(run).epochCheckpoints() { XCTAssertNoThrow(try tensors(url), url.lastPathComponent) }
        }
        print("checkpoint epochs after each kill: \(epochsSeen); \(killsDuringWrites) of \(kills.count) kills left a half-written checkpoint")
        XCTAssertGreaterThan(killsDuringWrites, 0, "no kill landed during a checkpoint write")

        let finish = try minnow(["train", "--resume", run.path, "--progress", "none"])
        XCTAssertTrue(finish.succeeded, finish.standardError)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [], "stale temporary files are removed when the run resumes")
        XCTAssertEqual(RunFolder(run).epochCheckpoints().map(\.epoch), [10, 11, 12])

        let expected = try tensors(RunFolder(reference).last), actual = try tensors(last)
        XCTAssertEqual(Set(actual.keys), Set(expected.keys))
        let differing = expected.keys.filter { expected[$0] != actual[$0] }.sorted()
        XCTAssertTrue(differing.isEmpty, "\(differing.count) tensors differ from the uninterrupted run's, first \(differing.first ?? "")")
        let records = { (folder: URL) throws -> [EpochRecord] in
            try String(contentsOf: RunFolder(folder).metrics, encoding: .utf8).split(separator: "\n")
                .map { try JSONDecoder().decode(EpochRecord.self, from: Data($0.utf8)) }
        }
        let (expectedRecords, actualRecords) = (try records(reference), try records(run))
        XCTAssertEqual(actualRecords.map(\.epoch), Array(1...epochs), "metrics.jsonl holds each epoch once")
        XCTAssertEqual(actualRecords.map(\.trainLoss), expectedRecords.map(\.trainLoss))
        XCTAssertEqual(actualRecords.map(\.test), expectedRecords.map(\.test))
    }
}
