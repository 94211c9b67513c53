import Foundation
import MinnowData
import MinnowTraining

/// One run of one stage: a variant of its sweeps, a seed, its inputs chosen, the `minnow`
/// command lines it runs and the cache key of its result.
public struct StageRun: Sendable {
    public var stage: String
    public var kind: StageKind
    public var seed: UInt64?
    /// The sweep values this run and its inputs chose, as `stage.key=value`.
    public var variant: [String]
    /// The cache key: the kind, the resolved options, the data, the seed, the inputs' keys and
    /// the Minnow version (a change to any reruns this stage and what depends on it).
    public var key: String
    /// Where the run writes its files.
    public var folder: URL
    /// The runs (indices into the plan) whose outputs this run reads.
    public var dependencies: [Int]
    /// The `minnow` argument lists it runs, in order.
    public var commands: [[String]]
    /// The output file of each input model this run measures (`evaluate`, `bench`: one).
    public var measured: URL?
    /// The plan index of the run whose model `evaluate` or `bench` measures.
    public var measuredRun: Int?

    /// `stage [variant, seed S]` (`stage of input [...]` for a run that measures a model), for
    /// progress lines and tables.
    public var title: String {
        stage + (measuredStage.map { " of \($0)" } ?? "") + (labelParts.isEmpty ? "" : " [\(labelParts.joined(separator: ", "))]")
    }
    /// The stage whose model `evaluate` or `bench` measures (nil for a model file).
    public var measuredStage: String?
    var labelParts: [String] { variant + (seed.map { ["seed \($0)"] } ?? []) }
    /// The epochs its training command asks for (`--epochs`, else the library's default of 3,
    /// which `train`, `distill`, `qat` and `prune` share); 0 for a run that does not train.
    public var epochs: Int {
        guard kind.trains, let command = commands.first else { return 0 }
        guard let index = command.firstIndex(of: "--epochs"), index + 1 < command.count else { return 3 }
        return Int(command[index + 1]) ?? 3
    }
    /// The run's output file, when its kind leaves one.
    public var output: URL? { kind.output.map { folder.appendingPathComponent($0) } }
}

/// An experiment resolved into its stage runs, in dependency order: every sweep expanded, every
/// training stage run once per seed, every input a run or a file.
public struct ExperimentPlan: Sendable {
    public let spec: ExperimentSpec
    public let runs: [StageRun]
    public let root: URL

    /// Resolves `spec`, checking every reference, kind of input and the order (no cycle), and each
    /// command line with `check` (the CLI's own parser: nil when the arguments parse, else its
    /// message, which is mapped to the option's line).
    public init(_ spec: ExperimentSpec, check: ([String]) -> String?) throws(ExperimentError) {
        self.spec = spec
        root = URL(fileURLWithPath: spec.runs)
        var builder = PlanBuilder(spec: spec, root: root)
        for stage in try Self.order(spec) { try builder.expand(stage, check: check) }
        runs = builder.runs
    }

    /// The stages in an order where every stage comes after its inputs; a cycle or a name that is
    /// neither a model nor a stage is an error at the reference.
    static func order(_ spec: ExperimentSpec) throws(ExperimentError) -> [StageSpec] {
        let byName = Dictionary(uniqueKeysWithValues: spec.stages.map { ($0.name, $0) })
        var state: [String: Bool] = [:]  // false: on the current path; true: done
        var ordered: [StageSpec] = []
        func visit(_ stage: StageSpec, path: [String]) throws(ExperimentError) {
            if state[stage.name] == true { return }
            state[stage.name] = false
            for (key, references) in stage.inputs.sorted(by: { $0.key < $1.key }) {
                for reference in references {
                    let keyPath = "stages.\(stage.name).\(stage.kind.rawValue).\(key)"
                    if let input = byName[reference.value] {
                        if state[input.name] == false {
                            let cycle = (path + [stage.name, input.name]).drop { $0 != input.name }
                            throw ExperimentError("the stages form a cycle: \(cycle.joined(separator: " -> "))", at: reference.location, key: keyPath)
                        }
                        try visit(input, path: path + [stage.name])
                    } else if spec.models[reference.value] == nil {
                        let known = (spec.models.keys.sorted() + spec.stages.map(\.name)).joined(separator: ", ")
                        throw ExperimentError("no model or stage is named '\(reference.value)' (known: \(known))", at: reference.location, key: keyPath)
                    }
                }
            }
            state[stage.name] = true
            ordered.append(stage)
        }
        for stage in spec.stages { try visit(stage, path: []) }
        return ordered
    }
}

/// Expands stages into runs, one stage at a time in dependency order.
struct PlanBuilder {
    let spec: ExperimentSpec
    let root: URL
    /// The key of the user's own data files (empty for the built-in data sets, fixed releases).
    lazy var dataKey: String = Self.dataKey(spec.data.dataset)
    var runs: [StageRun] = []
    var runsOf: [String: [Int]] = [:]

    /// A resolved input: a file, the key that stands for its content, and the run that makes it.
    struct Input {
        var file: URL
        var key: String
        var run: Int?
    }

    mutating func expand(_ stage: StageSpec, check: ([String]) -> String?) throws(ExperimentError) {
        let seeds: [UInt64?] = stage.kind.trains ? (stage.seeds ?? spec.seeds).map { $0 } : [nil]
        var made: [Int] = []
        for seed in seeds {
            for choice in try inputChoices(stage, seed: seed) {
                for sweep in Self.product(stage.options) {
                    let run = try makeRun(stage, seed: seed ?? choice.first?.value.run.flatMap { runs[$0].seed }, inputs: choice, sweep: sweep)
                    try checkArguments(run, stage: stage, check: check)
                    made.append(runs.count)
                    runs.append(run)
                }
            }
        }
        runsOf[stage.name] = made
    }

    /// Every assignment of one value to each option (a sweep's list multiplies the runs).
    static func product(_ options: [OptionSetting]) -> [[(OptionSetting, String)]] {
        options.reduce([[]]) { partial, option in partial.flatMap { prefix in option.values.map { prefix + [(option, $0)] } } }
    }

    /// The input choices of a run: for each input key, one run of each stage it names (the runs of
    /// the same seed when a training stage has them); `evaluate` and `bench` measure each named
    /// run on its own.
    func inputChoices(_ stage: StageSpec, seed: UInt64?) throws(ExperimentError) -> [[(key: String, value: Input)]] {
        var slots: [[(key: String, value: Input)]] = []
        let measuring = stage.kind == .evaluate || stage.kind == .bench
        for (key, _) in stage.kind.inputKeys {
            guard let references = stage.inputs[key] else { continue }
            if measuring {
                var union: [(key: String, value: Input)] = []
                for reference in references { union += try candidates(reference, key: key, stage: stage, seed: nil).map { (key, $0) } }
                slots.append(union)
            } else {
                for reference in references { slots.append(try candidates(reference, key: key, stage: stage, seed: seed).map { (key, $0) }) }
            }
        }
        if measuring { return slots.flatMap { $0.map { [$0] } } }
        return slots.reduce([[]]) { partial, slot in partial.flatMap { prefix in slot.map { prefix + [$0] } } }
    }

    /// The inputs a reference can stand for: a model's file, or the runs of a stage.
    func candidates(_ reference: Located<String>, key: String, stage: StageSpec, seed: UInt64?) throws(ExperimentError) -> [Input] {
        let keyPath = "stages.\(stage.name).\(stage.kind.rawValue).\(key)"
        if let model = spec.models[reference.value] {
            switch model.source {
            case .checkpoint(let path):
                let file = URL(fileURLWithPath: path)
                guard stage.kind != .distill || key != "student" else {
                    throw ExperimentError("a student is built (preset: or model:), not a checkpoint", at: reference.location, key: keyPath)
                }
                return [Input(file: file, key: "file:" + Self.contentKey(of: file), run: nil)]
            case .built:
                guard (stage.kind == .train && key == "model") || (stage.kind == .distill && key == "student") else {
                    throw ExperimentError("'\(reference.value)' is built from scratch and has no weights: name a stage that trains it, or a checkpoint", at: reference.location, key: keyPath)
                }
                return [Input(file: URL(fileURLWithPath: "/"), key: "model:" + reference.value, run: nil)]
            }
        }
        let stageSpec = spec.stages.first { $0.name == reference.value }!
        guard stageSpec.kind.output != nil else {
            throw ExperimentError("'\(reference.value)' is a \(stageSpec.kind.rawValue) stage: it leaves results, not a model", at: reference.location, key: keyPath)
        }
        guard !(stage.kind == .distill && key == "student") else {
            throw ExperimentError("a student is a model (preset: or model:); to start from a stage's weights, fine-tune with train: {model: \(reference.value)}", at: reference.location, key: keyPath)
        }
        let all = runsOf[reference.value] ?? []
        let sameSeed = all.filter { runs[$0].seed == seed }
        return (seed != nil && !sameSeed.isEmpty ? sameSeed : all).map { Input(file: runs[$0].output!, key: runs[$0].key, run: $0) }
    }

    /// A fingerprint of the files of an `arrays:` or `images:` data set (paths, sizes and
    /// modification times), so editing the data reruns what used it; empty for a built-in data set.
    static func dataKey(_ dataset: String?) -> String {
        guard let dataset, let choice = DatasetChoice(rawValue: dataset), !choice.isBuiltIn else { return "" }
        let location: URL
        switch choice.source {
        case .arrays(let path), .imageFolder(let path): location = URL(fileURLWithPath: path)
        case .fashionMNIST, .cifar10: return ""
        }
        let keys: [URLResourceKey] = [.fileSizeKey, .contentModificationDateKey]
        var files = [location]
        if let walker = FileManager.default.enumerator(at: location, includingPropertiesForKeys: keys) {
            files += walker.compactMap { $0 as? URL }
        }
        var fingerprint = Fingerprint()
        for file in files.sorted(by: { $0.path < $1.path }) {
            let values = try? file.resourceValues(forKeys: Set(keys))
            fingerprint.combine("\(file.path.dropFirst(location.path.count))|\(values?.fileSize ?? -1)|\(values?.contentModificationDate?.timeIntervalSince1970 ?? 0)")
        }
        return fingerprint.hex
    }

    /// A fingerprint of a file's size and first and last megabyte (checkpoints are rewritten whole).
    static func contentKey(of file: URL) -> String {
        guard let data = try? Data(contentsOf: file, options: .mappedIfSafe) else { return "missing:" + file.path }
        var fingerprint = Fingerprint()
        fingerprint.combine([UInt64(data.count)])
        fingerprint.combine(Array(data.prefix(1 << 20)))
        fingerprint.combine(Array(data.suffix(1 << 20)))
        return fingerprint.hex
    }

    mutating func makeRun(_ stage: StageSpec, seed: UInt64?, inputs: [(key: String, value: Input)], sweep: [(OptionSetting, String)]) throws(ExperimentError) -> StageRun {
        let options = sweep.flatMap { option, value in Self.flag(option.key, value) }
        let inherited = inputs.compactMap(\.value.run).flatMap { runs[$0].variant }
        let own = sweep.filter { $0.0.values.count > 1 }.map { "\(stage.name).\($0.0.key)=\($0.1)" }
        var variant: [String] = []
        for part in inherited + own where !variant.contains(part) { variant.append(part) }
        var fingerprint = Fingerprint()
        let modelKeys = inputs.map { "\($0.key)=\($0.value.key)" }
        let data = dataKey.isEmpty ? [] : ["data=" + dataKey]
        for part in [MinnowVersion.current, stage.kind.rawValue, seed.map(String.init) ?? "-"] + spec.data.trainingArguments + options + modelKeys + data {
            fingerprint.combine(part)
        }
        let key = fingerprint.hex
        let label = (variant + (seed.map { ["seed\($0)"] } ?? [])).joined(separator: "_")
            .map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" || $0 == "=" ? $0 : "-" }
        let folder = root.appendingPathComponent(stage.name)
            .appendingPathComponent((label.isEmpty || label.count > 80 ? "" : String(label) + "-") + String(key.prefix(10)))
        var run = StageRun(stage: stage.name, kind: stage.kind, seed: seed, variant: variant, key: key, folder: folder,
                           dependencies: inputs.compactMap(\.value.run), commands: [])
        run.commands = commands(stage, run: &run, inputs: inputs, options: options)
        return run
    }

    /// `--key value`; `true` is the flag alone, `false` its `--no-` form.
    static func flag(_ key: String, _ value: String) -> [String] {
        switch value {
        case "true": ["--\(key)"]
        case "false": ["--no-\(key)"]
        default: ["--\(key)", value]
        }
    }

    /// The flags of a model named in `models:`.
    func modelArguments(_ name: String, flag: String) -> [String] {
        guard case .built(let model, let sizes) = spec.models[name]?.source else { return [] }
        return [flag, model] + sizes.flatMap { Self.flag($0.key, $0.value) }
    }

    func commands(_ stage: StageSpec, run: inout StageRun, inputs: [(key: String, value: Input)], options: [String]) -> [[String]] {
        // Paths as the file gives them (relative to where `minnow` runs when the runs folder is):
        // the commands, logs and reports read the same on any machine.
        let folder = run.folder.relativePath
        let file = { (key: String) in inputs.filter { $0.key == key }.map(\.value.file.relativePath) }
        let training = spec.data.trainingArguments + options + ["--seed", "\(run.seed ?? 0)", "--out", folder, "--progress", "none"]
        let dataDirectory = spec.data.dataDirectory.map { ["--data-dir", $0] } ?? []
        let teachers = file("teacher").flatMap { ["--teacher", $0] }
        switch stage.kind {
        case .train:
            let model = stage.inputs["model"]![0].value
            let start = inputs[0].value.run != nil || spec.models[model].map { if case .checkpoint = $0.source { true } else { false } } == true
            return [["train"] + (start ? ["--init-from", inputs[0].value.file.relativePath] : modelArguments(model, flag: "--model")) + training]
        case .distill:
            return [["distill"] + teachers + modelArguments(stage.inputs["student"]![0].value, flag: "--student") + training]
        case .qat, .prune:
            return [[stage.kind.rawValue] + file("input") + teachers + training]
        case .quantize:
            return [["quantize"] + file("input") + dataDirectory + options + ["--out", folder]]
        case .export:
            return [["export"] + file("input") + ["-o", run.output!.relativePath] + dataDirectory + options]
        case .evaluate:
            let measured = inputs[0].value.file
            (run.measured, run.measuredRun) = (measured, inputs[0].value.run)
            run.measuredStage = inputs[0].value.run.map { runs[$0].stage }
            if measured.pathExtension == "mnw" {
                return [["run", measured.relativePath, "--json"] + (spec.data.dataset.map { ["--dataset", $0] } ?? []) + dataDirectory + options]
            }
            let test = ["eval", measured.relativePath, "--json"] + dataDirectory + options
            let held = spec.data.validation > 0
                ? [["eval", measured.relativePath, "--split", "validation", "--validation", "\(spec.data.validation)",
                    "--validation-seed", "\(spec.data.validationSeed)", "--json"] + dataDirectory + options] : []
            return held + [test]
        case .bench:
            let measured = inputs[0].value.file
            (run.measured, run.measuredRun) = (measured, inputs[0].value.run)
            run.measuredStage = inputs[0].value.run.map { runs[$0].stage }
            return [["bench", "model", measured.relativePath, "--no-peer", "--json", run.folder.appendingPathComponent("bench.json").relativePath] + options]
        }
    }

    /// Runs the CLI's parser on every command line of `run`; its message goes to the option it names.
    func checkArguments(_ run: StageRun, stage: StageSpec, check: ([String]) -> String?) throws(ExperimentError) {
        for command in run.commands {
            guard let message = check(command) else { continue }
            let named = stage.options.sorted { $0.key.count > $1.key.count }
                .first { message.contains("--\($0.key)") || message.contains("--no-\($0.key)") }
            let path = "stages.\(stage.name).\(stage.kind.rawValue)" + (named.map { ".\($0.key)" } ?? "")
            let name = command[0] == "bench" ? command.prefix(2).joined(separator: " ") : command[0]
            throw ExperimentError("minnow \(name) refuses it: \(message)",
                                  at: named?.location ?? stage.location, key: path)
        }
    }
}
