import ArgumentParser
import Foundation
import MinnowTensor
import MinnowTraining

@main
struct Minnow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "minnow",
        abstract: "Train, compress and benchmark small CNNs on the CPU.",
        discussion: """
            Minnow trains teacher and student CNNs (ResNet, MobileNet, SqueezeNet) on Fashion-MNIST \
            and CIFAR-10-format data, and measures what compression costs in accuracy and buys in speed. \
            Run `minnow <command> --help` for each command's options.

            Exit status: 0 on success, 1 when the work failed (a missing or damaged file, a run that \
            cannot continue, a loss that became NaN), 2 for a bad command line (an unknown flag, or a \
            value out of range). Every error, on standard error, names the flag or the file and \
            what is wrong.
            """,
        subcommands: [Train.self, Distill.self, Quantize.self, QAT.self, Prune.self, Export.self, RunModel.self, Eval.self, Inspect.self, Predict.self, Bench.self,
                      Experiment.self, Report.self])

    /// Parses and runs the command; a usage error exits with status 2 (the argument parser's own
    /// default, 64, is unusual for a command-line tool), any other failure with 1.
    static func main() {
        if let problem = Threads.settingError {
            FileHandle.standardError.write(Data("Error: \(problem)\n".utf8))
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code.isSuccess { exit(withError: error) }  // --help and --version print and exit 0
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

/// A command whose failures (any error the library throws) print as `Error: <message>` and exit
/// with status 1; `execute()` does the work.
protocol MinnowCommand: ParsableCommand {
    func execute() throws
}

extension MinnowCommand {
    func run() throws {
        do {
            try execute()
        } catch let error as CLIError {
            throw error
        } catch let error as CustomStringConvertible & Error {
            throw CLIError(message: error.description)
        }
    }
}

/// An error the CLI prints as `Error: <message>` before exiting with a non-zero status.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Prints `value` as pretty JSON to standard output.
func printJSON(_ value: some Encodable, pretty: Bool = true) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Prints where a resumed run continues from, and its warning (if any) on standard error.
func printResumed(_ resumed: (message: String, warning: String?)) {
    print(resumed.message)
    if let warning = resumed.warning { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
}
