import Foundation
import MinnowTestSupport
import XCTest

/// `minnow experiment`: a tiny experiment end to end on the synthetic data set (every stage kind,
/// one short epoch per training stage), then the cache (a second run skips everything; a changed
/// option reruns that stage and its dependants only), a run killed mid-stage that resumes, and
/// experiment files the CLI's parser refuses, each error naming the file, line and key.
final class ExperimentCLITests: CLITestCase {
    private func experiment(studentEpochs: Int, extra: String = "") -> String {
        """
        name: tiny
        runs: \(folder.appendingPathComponent("runs").path)
        data:
          validation: 128
        seeds: [0]
        models:
          small: {model: cnn, width: 0.25}
        stages:
          teacher:
            train: {model: small, epochs: 1, batch-size: 32}
          student:
            distill: {teacher: teacher, student: small, epochs: \(studentEpochs), batch-size: 32\(extra)}
          ptq:
            quantize: {input: student, calibrate: 32}
          export:
            export: {input: ptq, check-images: 32}
          eval:
            evaluate: {input: [student, export]}
          speed:
            bench: {input: export, runs: 1000, warmup: 0, batch: 2}
        """
    }

    private func write(_ text: String, name: String = "tiny.yaml") throws -> URL {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// The stages the runner ran (not cached), by the progress lines.
    private func ran(_ output: String) -> Set<String> {
        Set(output.split(separator: "\n").filter { $0.contains(": done in") }.map { line in
            String(line.split(separator: "]", maxSplits: 1)[1].dropFirst().split(separator: " ")[0])
        })
    }

    func testAnExperimentRunsCachesRerunsWhatChangedAndResumes() throws {
        let file = try write(experiment(studentEpochs: 1))
        let reports = folder.appendingPathComponent("reports")
        let first = try minnow(["experiment", "run", file.path, "--report-dir", reports.path])
        XCTAssertTrue(first.succeeded, first.standardError + first.standardOutput)
        try checkReport(in: reports)
        XCTAssertEqual(ran(first.standardOutput), ["teacher", "student", "ptq", "export", "eval", "speed"])
        let csv = try String(contentsOf: folder.appendingPathComponent("runs/results.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = rows[0]
        func cell(_ stage: String, _ column: String) -> String { rows.first { $0[0] == stage }![header.firstIndex(of: column)!] }
        XCTAssertEqual(rows.count, 5, "teacher, student, ptq and export rows: \(csv)")
        XCTAssertNotNil(Double(cell("student", "val_top1")), csv)
        XCTAssertNotNil(Double(cell("student", "test_top1")), csv)
        XCTAssertNotNil(Double(cell("ptq", "int8_test_top1")), csv)
        XCTAssertNotNil(Double(cell("export", "runtime_test_top1")), csv)
        XCTAssertNotNil(Double(cell("export", "latency_p50_ms")), csv)
        XCTAssertGreaterThan(Int(cell("export", "arena_bytes")) ?? 0, 0, csv)

        let second = try minnow(["experiment", "run", file.path, "--no-report"])
        XCTAssertTrue(second.succeeded, second.standardError)
        XCTAssertEqual(ran(second.standardOutput), [], "a second run skips every stage: \(second.standardOutput)")
        XCTAssertEqual(second.standardOutput.components(separatedBy: "(cached)").count - 1, 7)

        _ = try write(experiment(studentEpochs: 2))
        let changed = try minnow(["experiment", "run", file.path, "--no-report"])
        XCTAssertTrue(changed.succeeded, changed.standardError)
        XCTAssertEqual(ran(changed.standardOutput), ["student", "ptq", "export", "eval", "speed"], "the teacher is not rerun")
        let status = try minnow(["experiment", "status", file.path])
        XCTAssertEqual(status.standardOutput.split(separator: "\n").filter { $0.hasPrefix("done") }.count, 7, status.standardOutput)

        // Kill the runner and its training child once the student's first epoch is checkpointed.
        _ = try write(experiment(studentEpochs: 4))
        let log = folder.appendingPathComponent("killed.out")
        let runner = try Subprocess.start(minnow, ["experiment", "run", file.path, "--no-report"], environment: environment, output: log)
        let students = folder.appendingPathComponent("runs/student")
        let earlier = Set(try FileManager.default.contentsOfDirectory(atPath: students.path))
        var killed = false
        let deadline = Date().addingTimeInterval(120)
        while runner.isRunning, Date() < deadline, !killed {
            let folders = ((try? FileManager.default.contentsOfDirectory(at: students, includingPropertiesForKeys: nil)) ?? [])
                .filter { !earlier.contains($0.lastPathComponent) }
            if let run = folders.first(where: { ((try? String(contentsOf: $0.appendingPathComponent("metrics.jsonl"), encoding: .utf8)) ?? "").split(separator: "\n").count == 1 }),
               FileManager.default.fileExists(atPath: run.appendingPathComponent("last.h5").path) {
                for child in Self.children(of: runner.processIdentifier) { kill(child, SIGKILL) }
                kill(runner.processIdentifier, SIGKILL)
                killed = true
            }
            usleep(20_000)
        }
        runner.waitUntilExit()
        XCTAssertTrue(killed, "the runner finished before a kill landed: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        let interrupted = try minnow(["experiment", "status", file.path])
        XCTAssertTrue(interrupted.standardOutput.contains("interrupted student"), interrupted.standardOutput)
        let resumed = try minnow(["experiment", "run", file.path, "--no-report"])
        XCTAssertTrue(resumed.succeeded, resumed.standardError)
        XCTAssertTrue(resumed.standardOutput.contains("student [seed 0]: resuming"), resumed.standardOutput)
        let studentLog = try FileManager.default.contentsOfDirectory(at: students, includingPropertiesForKeys: nil)
            .compactMap { try? String(contentsOf: $0.appendingPathComponent("log.txt"), encoding: .utf8) }.first { $0.contains("--resume") }
        XCTAssertNotNil(studentLog, "the killed stage continued with --resume")
        let metrics = try XCTUnwrap(try FileManager.default.contentsOfDirectory(at: students, includingPropertiesForKeys: nil)
            .compactMap { try? String(contentsOf: $0.appendingPathComponent("metrics.jsonl"), encoding: .utf8) }
            .first { $0.split(separator: "\n").count == 4 }, "the resumed student has its 4 epochs")
        XCTAssertEqual(metrics.split(separator: "\n").count, 4)
    }

    /// The report of the tiny experiment: a notebook `nbformat` validates, with its figures as SVG
    /// outputs, and an HTML page that headless Chromium renders with its figures (not blank).
    private func checkReport(in reports: URL) throws {
        let notebook = reports.appendingPathComponent("tiny.ipynb"), page = reports.appendingPathComponent("tiny.html")
        let python = try Requirements.require(Subprocess.which("python3"), "python3 (scripts/setup.sh python)")
        let validation = try Subprocess.run(python, ["-c", """
            import sys, nbformat
            notebook = nbformat.read(sys.argv[1], as_version=4)
            nbformat.validate(notebook)
            svgs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if "image/svg+xml" in o.get("data", {})]
            print(len(notebook.cells), len(svgs))
            """, notebook.path])
        XCTAssertTrue(validation.succeeded, "nbformat refuses the notebook: \(validation.standardError)")
        let counts = validation.standardOutput.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertGreaterThanOrEqual(counts.last ?? 0, 5, "curves of 2 training stages and 3 trade-off figures: \(validation.standardOutput)")
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertFalse(html.contains("http://") && html.contains("<script"), "the page loads nothing")
        XCTAssertTrue(FileManager.default.fileExists(atPath: reports.appendingPathComponent("tiny/results.csv").path))
        _ = try Requirements.require(Subprocess.which("chromium"), "chromium (scripts/setup.sh browser)")
        let render = try Subprocess.run(URL(fileURLWithPath: Self.packageRoot.appendingPathComponent("scripts/render-report.sh").path),
                                        [page.path, folder.appendingPathComponent("tiny.png").path, "5"])
        XCTAssertTrue(render.succeeded, "the page renders blank or without figures: \(render.standardOutput) \(render.standardError)")
    }

    /// Process ids whose parent is `pid` (from /proc).
    private static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { candidate in
            guard let stat = try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == pid
        }
    }

    func testOptionsTheCommandsRefuseNameTheirLine() throws {
        let cases: [(extra: String, expected: [String])] = [
            (", bogus-flag: 3", ["tiny.yaml:12:", "stages.student.distill.bogus-flag", "Unknown option '--bogus-flag'"]),
            (", temperature: -1", ["tiny.yaml:12:", "stages.student.distill.temperature", "--temperature"]),
            (", lr: [0.1, abc]", ["tiny.yaml:12:", "stages.student.distill.lr", "abc"]),
        ]
        for (extra, expected) in cases {
            let file = try write(experiment(studentEpochs: 1, extra: extra))
            try expectFailure(["experiment", "run", file.path, "--no-report"], status: 1, expected)
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs/teacher").path), "nothing ran")
        }
        // A flag naming a stage the file does not have is a usage error, as any bad flag.
        let file = try write(experiment(studentEpochs: 1, extra: ""))
        try expectFailure(["experiment", "run", file.path, "--only", "nowhere", "--no-report"], status: 2, ["--only", "nowhere", "student"])
        try expectFailure(["experiment", "run", file.path, "--only=", "--dry-run"], status: 2, ["--only"])
    }
}
