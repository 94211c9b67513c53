import ArgumentParser
import Foundation
import MinnowExperiments

struct Experiment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an experiment file (YAML): stages, sweeps and seeds, cached and resumable.",
        discussion: "See experiments/README.md for the file format.",
        subcommands: [ExperimentRun.self, ExperimentStatus.self], defaultSubcommand: ExperimentRun.self)

    /// The plan of `file`, every stage's command line checked by this CLI's own parser.
    static func plan(_ file: String) throws -> ExperimentPlan {
        try ExperimentPlan(ExperimentSpec.load(URL(fileURLWithPath: file))) { arguments in
            do {
                _ = try Minnow.parseAsRoot(arguments)
                return nil
            } catch {
                return Minnow.message(for: error)
            }
        }
    }
}

struct ExperimentRun: MinnowCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the stages of an experiment file that are not done yet.",
        usage: "minnow experiment run <file.yaml> [--dry-run] [--only <stage>]",
        discussion: """
            Each stage run is a `minnow` command in its own folder under the experiment's runs \
            folder, cached under a key of its options, inputs and Minnow's version: a second run \
            skips what is done, a changed option reruns that stage and what depends on it, and a \
            training stage that was killed resumes from its last checkpoint. Writes results.csv, \
            results.json and summary.csv (mean and std over seeds) into the runs folder.

            Example:
              minnow experiment run experiments/quick.yaml
            """)

    @Argument(help: "An experiment file (.yaml).") var file: String
    @Flag(help: "Check the file and print the stage runs and their commands; run nothing.") var dryRun = false
    @Option(help: "Run only this stage (and the inputs it needs that are not done).") var only: String?
    @Option(help: "Folder for the report (NAME.ipynb, NAME.html, NAME/).") var reportDir = "notebooks-export"
    @Flag(help: "Write no report.") var noReport = false

    /// `--only` must name a stage of the file (a file that cannot be read is `execute`'s error).
    func validate() throws {
        guard let only, let spec = try? ExperimentSpec.load(URL(fileURLWithPath: file)) else { return }
        guard spec.stages.contains(where: { $0.name == only }) else {
            throw ValidationError("--only: no stage is named '\(only)' (stages: \(spec.stages.map(\.name).joined(separator: ", ")))")
        }
    }

    func execute() throws {
        let plan = try Experiment.plan(file)
        let runner = ExperimentRunner(plan: plan, executor: ProcessExecutor.current)
        if dryRun {
            for index in try runner.selection(only: only) {
                let run = plan.runs[index]
                print("\(run.title): \(runner.state(of: run).rawValue)")
                run.commands.forEach { print("  minnow " + $0.joined(separator: " ")) }
            }
            return
        }
        let results = try runner.run(only: only) { line in
            print(line)
            fflush(nil)  // each progress line reaches a log file as it happens
        }
        print(results.summaryText)
        print("results: \(plan.root.appendingPathComponent("results.csv").path)")
        guard !noReport else { return }
        let report = try ExperimentReport(runs: plan.root).write(to: URL(fileURLWithPath: reportDir))
        print("report: \(report.html.path) (notebook: \(report.notebook.path))")
    }
}

struct ExperimentStatus: MinnowCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "What of an experiment is done, interrupted, failed, stale or pending.")

    @Argument(help: "An experiment file (.yaml).") var file: String

    func execute() throws {
        let plan = try Experiment.plan(file)
        let runner = ExperimentRunner(plan: plan, executor: ProcessExecutor.current)
        for run in plan.runs { print("\(runner.state(of: run).rawValue.padding(toLength: 12, withPad: " ", startingAt: 0))\(run.title)  \(run.folder.path)") }
    }
}

struct Report: MinnowCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the report of an experiment's runs folder: a notebook and an HTML page with figures.",
        discussion: """
            Reads RUN_DIR (the runs folder of `minnow experiment run`: experiment.json, results.json, \
            the stage folders) and writes OUT/NAME.ipynb (nbformat 4), OUT/NAME.html (one \
            self-contained page) and OUT/NAME/ (the SVG figures, results.csv, summary.csv).

            Example:
              minnow report runs/quick
            """)

    @Argument(help: "An experiment's runs folder, e.g. runs/quick.") var runDir: String
    @Option(help: "Folder to write the report into.") var out = "notebooks-export"

    func execute() throws {
        let report = try ExperimentReport(runs: URL(fileURLWithPath: runDir)).write(to: URL(fileURLWithPath: out))
        print("report: \(report.html.path)\nnotebook: \(report.notebook.path)")
    }
}
