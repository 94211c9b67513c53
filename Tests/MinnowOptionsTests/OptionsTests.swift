import ArgumentParser
import Foundation
import MinnowDistillation
import MinnowModels
import MinnowOptions
import MinnowPruning
import MinnowQuantization
import MinnowTraining
import MinnowWorkflows
import XCTest

/// The option groups parse the same flags for the CLI and for anything else that calls them (an
/// experiment file's stage options): their defaults, ranges and the settings they make.
final class OptionsTests: XCTestCase {
    /// The message a parse failure prints, or nil when `arguments` parse.
    private func failure<T: ParsableArguments>(_ type: T.Type, _ arguments: [String]) -> String? {
        do {
            _ = try T.parse(arguments)
            return nil
        } catch {
            return T.message(for: error)
        }
    }

    func testTrainingOptionsTakeTheLibraryDefaultsForWhatIsNotGiven() throws {
        let model = try ModelConfig.named("student_mbv2")
        let options = try TrainingOptions.parse(["--epochs", "7", "--lr", "0.05", "--optimizer", "adamw"])
        let config = try options.config(model: model)
        let defaults = TrainingConfig(model: model)
        XCTAssertEqual(config.epochs, 7)
        XCTAssertEqual(config.learningRate, 0.05)
        XCTAssertEqual(config.optimizer, .adamw)
        XCTAssertFalse(config.nesterov, "Nesterov momentum applies to SGD only")
        XCTAssertEqual(config.batchSize, defaults.batchSize)
        XCTAssertEqual(config.schedule, defaults.schedule)
        XCTAssertEqual(config.weightDecay, defaults.weightDecay)
        XCTAssertEqual(options.given, ["--epochs", "--optimizer", "--lr"])
    }

    func testFineTuningRecipeDefaultsToThreeCosineEpochsFromOneHundredth() throws {
        let model = try ModelConfig.named("student_mbv2")
        let plain = try TrainingOptions.parse([]).fineTuningConfig(model: model)
        XCTAssertEqual(plain.epochs, 3)
        XCTAssertEqual(plain.learningRate, 0.01)
        XCTAssertEqual(plain.schedule, .cosine)
        let given = try TrainingOptions.parse(["--epochs", "5", "--schedule", "step"]).fineTuningConfig(model: model)
        XCTAssertEqual(given.epochs, 5)
        XCTAssertEqual(given.schedule, .step)
    }

    func testOutOfRangeNumbersNameTheFlag() {
        let cases: [(any ParsableArguments.Type, [String], String)] = [
            (TrainingOptions.self, ["--epochs=-1"], "--epochs must be in 1...100000, got -1"),
            (TrainingOptions.self, ["--batch-size", "99999999999"], "--batch-size must be in 1...65536"),
            (TrainingOptions.self, ["--lr", "nan"], "--lr must be a positive number"),
            (TrainingOptions.self, ["--momentum", "1"], "--momentum must be in [0.0, 1.0)"),
            (TrainingOptions.self, ["--random-erasing", "1.5"], "--random-erasing must be in [0, 1], got 1.5"),
            (TrainingOptions.self, ["--random-erasing", "nan"], "--random-erasing must be in [0, 1], got nan"),
            (TrainingOptions.self, ["--validation=-1"], "--validation must be in 0...2147483647, got -1"),
            (TrainingOptions.self, ["--validation-seed", "3"], "--validation-seed needs --validation N"),
            (RunOptions.self, ["--keep-last", "0"], "--keep-last must be in 1...100000"),
            (ModelOptions.self, ["--width", "9"], "--width must be in (0, 8]"),
            (DistillationOptions.self, ["--alpha", "1.5"], "--alpha must be in [0.0, 1.0]"),
            (DistillationOptions.self, ["--hint-weight=-2"], "--hint-weight must be a number >= 0"),
            (PruningOptions.self, ["--target-macs", "1"], "--target-macs must be a fraction in (0, 1)"),
            (PruningOptions.self, ["--round-to", "0"], "--round-to must be in 1...4096"),
            (QATOptions.self, ["--weight-bits", "6"], "--weight-bits must be 8, 7 or 4"),
            (QATOptions.self, ["--layer-bits", "features.0=3"], "--layer-bits must be module.path=8, =7 or =4"),
            (RuntimeTimingOptions.self, ["--runs", "10"], "--runs must be in 1000...10000000"),
            (ExportOptions.self, ["--check-images=-1"], "--check-images must be in 0...100000000"),
        ]
        for (type, arguments, expected) in cases {
            let message = failure(type, arguments)
            XCTAssertTrue(message?.contains(expected) == true, "\(arguments): \(message ?? "parsed")")
        }
    }

    func testDistillationOptionsMakeTheSettingsAndTheStudent() throws {
        let options = try DistillationOptions.parse(["--student", "mobilenet_v2", "--width", "0.5", "--loss", "dkd",
                                                     "--dkd-beta", "4", "--hint", "features.6:layers.2"])
        let settings = try options.settings()
        XCTAssertEqual(settings.loss, .dkd)
        XCTAssertEqual(settings.dkdBeta, 4)
        XCTAssertEqual(settings.temperature, DistillationSettings().temperature)
        XCTAssertEqual(settings.hints, [LayerPair(student: "features.6", teacher: "layers.2")])
        XCTAssertEqual(try options.studentConfig().architecture, .mobilenetV2)
        XCTAssertEqual(options.given, ["--student", "--width", "--loss", "--dkd-beta", "--hint"])
        let folder = URL(fileURLWithPath: "/runs/kd")
        XCTAssertEqual(options.cacheDirectory(runFolder: folder)?.path, "/runs/.teacher-cache")
        XCTAssertNil(try DistillationOptions.parse(["--no-teacher-cache"]).cacheDirectory(runFolder: folder))
        XCTAssertThrowsError(try DistillationOptions.parse(["--hint", "features.6"]).settings())
    }

    func testPruningOptionsMakeTheRequestAndNeedOneTarget() throws {
        let options = try PruningOptions.parse(["--target-params", "0.4", "--criterion", "bn", "--prune-schedule", "agp", "--prune-steps", "4",
                                                "--exclude", "features.1", "--no-default-exclusions"])
        try options.validateTarget()
        let request = options.request
        XCTAssertEqual(request.target, .parameters(0.4))
        XCTAssertEqual(request.criterion, .bn)
        XCTAssertEqual(request.schedule, .agp)
        // `prune` takes both groups: `--prune-schedule` is the pruning's, `--schedule` the learning rate's.
        let both = try PruneArguments.parse(["--prune-schedule", "iterative", "--schedule", "step", "--out", "runs/p"])
        XCTAssertEqual(both.pruning.request.schedule, .iterative)
        XCTAssertEqual(try both.tuning.setup(model: try ModelConfig.named("student_mbv2")).config.schedule, .step)
        XCTAssertEqual(request.steps, 4)
        XCTAssertEqual(request.excluded, ["features.1"])
        XCTAssertFalse(request.defaultExclusions)
        XCTAssertThrowsError(try PruningOptions.parse([]).validateTarget())
        XCTAssertThrowsError(try PruningOptions.parse(["--target-macs", "0.5", "--target-channels", "0.5"]).validateTarget())
    }

    func testQATOptionsMakeTheScheme() throws {
        let options = try QATOptions.parse(["--method", "lsq", "--weight-bits", "7", "--layer-bits", "classifier=8"])
        XCTAssertEqual(options.method, .lsq)
        XCTAssertEqual(try options.quantization.layerWeightBits(), ["classifier": 8])
        XCTAssertEqual(options.quantization.calibrate, 512)
    }

    func testAResumedRunRefusesRecipeOptions() throws {
        let run = try RunOptions.parse(["--resume", "runs/a", "--keep-last", "3"])
        XCTAssertNoThrow(try run.validate(recipeOptions: []))
        XCTAssertThrowsError(try run.validate(recipeOptions: ["--epochs"])) { error in
            XCTAssertTrue(RunOptions.message(for: error).contains("remove --epochs"))
        }
        XCTAssertEqual(run.checkpointPolicy(CheckpointPolicy()).keepLast, 3)
    }

    func testAFineTuningStartsFromACheckpointOrResumesNeverBoth() throws {
        XCTAssertNoThrow(try FineTuningOptions.parse(["--out", "runs/q"]).validate(checkpoint: "a.h5"))
        XCTAssertNoThrow(try FineTuningOptions.parse(["--resume", "runs/q"]).validate(checkpoint: nil))
        XCTAssertThrowsError(try FineTuningOptions.parse(["--out", "runs/q"]).validate(checkpoint: nil))
        XCTAssertThrowsError(try FineTuningOptions.parse([]).validate(checkpoint: "a.h5"))
        XCTAssertThrowsError(try FineTuningOptions.parse(["--resume", "runs/q"]).validate(checkpoint: "a.h5"))
        XCTAssertThrowsError(try FineTuningOptions.parse(["--resume", "runs/q", "--lr", "0.1"]).validate(checkpoint: nil))
        let setup = try FineTuningOptions.parse(["--out", "runs/q", "--teacher", "t.h5", "--temperature", "2"])
            .setup(model: try ModelConfig.named("student_mbv2"))
        XCTAssertEqual(setup.teacher?.lastPathComponent, "t.h5")
        XCTAssertEqual(setup.distillation.temperature, 2)
        XCTAssertEqual(setup.config.epochs, 3)
    }
}

/// The option groups of `minnow prune`, as its command declares them.
private struct PruneArguments: ParsableArguments {
    @OptionGroup var pruning: PruningOptions
    @OptionGroup var tuning: FineTuningOptions
}
