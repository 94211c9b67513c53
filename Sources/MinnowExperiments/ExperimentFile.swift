import Foundation
import Yams

/// The kinds of stage an experiment file can hold: each runs the `minnow` command of its name
/// (`evaluate` runs `eval` and `run`, `bench` runs `bench model`).
public enum StageKind: String, CaseIterable, Sendable, Codable {
    case train, distill, quantize, qat, prune, export, evaluate, bench

    /// Whether the stage trains (takes the experiment's seeds, the data options and `--resume`).
    public var trains: Bool { [.train, .distill, .qat, .prune].contains(self) }

    /// The keys that name the stage's inputs (models or earlier stages), and whether each must be given.
    public var inputKeys: [(key: String, required: Bool)] {
        switch self {
        case .train: [("model", true)]
        case .distill: [("teacher", true), ("student", true)]
        case .quantize, .export, .evaluate, .bench: [("input", true)]
        case .qat, .prune: [("input", true), ("teacher", false)]
        }
    }

    /// The file a finished stage leaves for the stages after it, in its folder (nil: results only).
    public var output: String? {
        switch self {
        case .train, .distill, .qat, .prune: "best.h5"
        case .quantize: "quantized.h5"
        case .export: "model.mnw"
        case .evaluate, .bench: nil
        }
    }
}

/// A value where the file wrote it.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var location: SourceLocation
}

/// One option of a stage: a flag of the stage's command (`epochs: 3` is `--epochs 3`), or a sweep
/// when the file gives a list (`lr: [0.05, 0.1]`).
public struct OptionSetting: Sendable {
    public var key: String
    /// The values, one for a plain option, several for a sweep.
    public var values: [String]
    public var location: SourceLocation
}

/// One stage as the file writes it.
public struct StageSpec: Sendable {
    public var name: String
    public var kind: StageKind
    /// The input keys given (`model`, `teacher`, `student`, `input`) and the names they give.
    public var inputs: [String: [Located<String>]]
    public var options: [OptionSetting]
    /// The stage's own seeds (`seeds:` in the stage), else the experiment's.
    public var seeds: [UInt64]?
    public var location: SourceLocation
}

/// A model an experiment names: a preset, an architecture with size options, or a checkpoint file.
public struct ModelSpec: Sendable {
    public enum Source: Sendable {
        /// The `minnow train --model` value and the size options (`width`, `depth`, `dropout`, `init-seed`).
        case built(model: String, options: [(key: String, value: String)])
        case checkpoint(String)
    }
    public var name: String
    public var source: Source
    public var location: SourceLocation
}

/// The data every stage reads: the data set, its folder, the validation split and a train subset.
public struct DataSpec: Sendable {
    public var dataset: String?
    public var dataDirectory: String?
    public var validation: Int = 5_000
    public var validationSeed: UInt64 = 0
    public var trainSubset: Int?

    /// The flags that say this to a training command.
    public var trainingArguments: [String] {
        (dataset.map { ["--dataset", $0] } ?? []) + (dataDirectory.map { ["--data-dir", $0] } ?? [])
            + (trainSubset.map { ["--train-subset", "\($0)"] } ?? [])
            + (validation > 0 ? ["--validation", "\(validation)", "--validation-seed", "\(validationSeed)"] : [])
    }
}

/// An experiment file (YAML), read and checked for its structure: data, models, seeds and stages.
/// `ExperimentPlan` then resolves inputs, sweeps and seeds into the stage runs.
public struct ExperimentSpec: Sendable {
    public var name: String
    public var description: String?
    public var file: URL
    /// The file's text, as read.
    public var text: String = ""
    public var data: DataSpec
    public var seeds: [UInt64]
    public var models: [String: ModelSpec]
    /// The stages in the file's order.
    public var stages: [StageSpec]
    /// The folder of the runs (`runs:`; default `runs/NAME`).
    public var runs: String

    /// Reads and checks `file`; the first problem is thrown with its line and key.
    public static func load(_ file: URL) throws(ExperimentError) -> ExperimentSpec {
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw ExperimentError("cannot read the experiment file: \(error.localizedDescription)", at: nil, key: file.path)
        }
        return try parse(text, file: file)
    }

    /// Parses experiment YAML `text` read from `file`.
    public static func parse(_ text: String, file: URL) throws(ExperimentError) -> ExperimentSpec {
        let reader = SpecReader(file: file.relativePath)
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw reader.yamlError(error) }
        guard let root, case .mapping(let top) = root else {
            throw ExperimentError("an experiment file is a mapping with data, models, seeds and stages", at: reader.location(root), key: nil)
        }
        var spec = try reader.experiment(top, node: root, defaultName: file.deletingPathExtension().lastPathComponent)
        spec.text = text
        return spec
    }
}

/// Turns YAML nodes into the spec, with a located error for every unexpected shape.
struct SpecReader {
    let file: String

    func location(_ node: Node?) -> SourceLocation {
        SourceLocation(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1)
    }

    func fail(_ message: String, _ node: Node?, _ key: String?) -> ExperimentError {
        ExperimentError(message, at: location(node), key: key)
    }

    func yamlError(_ error: any Error) -> ExperimentError {
        let mark: Mark? = switch error as? YamlError {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark
        default: nil
        }
        let problem = switch error as? YamlError {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _), .composer(let context, let problem, _, _):
            "malformed YAML: " + (context.map { "\($0.text) " } ?? "") + problem
        case .duplicatedKeysInMapping(let duplicates, let context):
            "malformed YAML: the key \(duplicates.sorted().joined(separator: ", ")) appears twice (line \(context.mark.line))"
        default: "malformed YAML: \(error)"
        }
        return ExperimentError(problem, at: SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1))
    }

    /// The pairs of a mapping with string keys, refusing keys outside `allowed` (when given).
    func pairs(_ node: Node, _ path: String, allowed: [String]? = nil) throws(ExperimentError) -> [(key: String, keyNode: Node, value: Node)] {
        guard case .mapping(let mapping) = node else { throw fail("must be a mapping of keys to values", node, path) }
        var result: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else { throw fail("keys must be names", keyNode, path) }
            let key = scalar.string
            let dotted = path.isEmpty ? key : "\(path).\(key)"
            if let allowed, !allowed.contains(key) {
                throw fail("unknown key; expected one of: \(allowed.joined(separator: ", "))", keyNode, dotted)
            }
            result.append((key, keyNode, value))
        }
        return result
    }

    func scalar(_ node: Node, _ path: String) throws(ExperimentError) -> String {
        guard case .scalar(let scalar) = node, node.null == nil || scalar.style != .plain else {
            throw fail("must be a single value (a number, a word or true/false)", node, path)
        }
        return scalar.string
    }

    func integer(_ node: Node, _ path: String, in range: ClosedRange<Int>) throws(ExperimentError) -> Int {
        guard let value = Int(try scalar(node, path)), range.contains(value) else {
            throw fail("must be an integer in \(range.lowerBound)...\(range.upperBound), got \(node.string ?? "?")", node, path)
        }
        return value
    }

    func seeds(_ node: Node, _ path: String) throws(ExperimentError) -> [UInt64] {
        let items: [Node] = if case .sequence(let sequence) = node { Array(sequence) } else { [node] }
        guard !items.isEmpty else { throw fail("must list at least one seed", node, path) }
        var seeds: [UInt64] = []
        for item in items {
            guard let seed = UInt64(try scalar(item, path)) else { throw fail("a seed is an integer >= 0, got \(item.string ?? "?")", item, path) }
            guard !seeds.contains(seed) else { throw fail("seed \(seed) is listed twice", item, path) }
            seeds.append(seed)
        }
        return seeds
    }

    func experiment(_ top: Node.Mapping, node: Node, defaultName: String) throws(ExperimentError) -> ExperimentSpec {
        var spec = ExperimentSpec(name: defaultName, file: URL(fileURLWithPath: file), data: DataSpec(), seeds: [0], models: [:], stages: [], runs: "")
        spec.description = nil
        var stagesNode: Node?
        for (key, _, value) in try pairs(node, "", allowed: ["name", "description", "runs", "data", "seeds", "models", "stages"]) {
            switch key {
            case "name": spec.name = try name(value, key)
            case "description": spec.description = try scalar(value, key)
            case "runs": spec.runs = try scalar(value, key)
            case "data": spec.data = try data(value)
            case "seeds": spec.seeds = try seeds(value, key)
            case "models": spec.models = try models(value)
            default: stagesNode = value
            }
        }
        if spec.runs.isEmpty { spec.runs = "runs/\(spec.name)" }
        guard let stagesNode else { throw fail("an experiment needs stages", node, "stages") }
        spec.stages = try stages(stagesNode, models: spec.models)
        return spec
    }

    /// A name for files and references: letters, digits, `-` and `_`.
    func name(_ node: Node, _ path: String) throws(ExperimentError) -> String {
        let value = try scalar(node, path)
        guard !value.isEmpty, value.count <= 64, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw fail("a name is 1 to 64 letters, digits, '-' or '_', got '\(value)'", node, path)
        }
        return value
    }

    func data(_ node: Node) throws(ExperimentError) -> DataSpec {
        var data = DataSpec()
        for (key, _, value) in try pairs(node, "data", allowed: ["dataset", "data-dir", "validation", "validation-seed", "train-subset"]) {
            let path = "data.\(key)"
            switch key {
            case "dataset": data.dataset = try scalar(value, path)
            case "data-dir": data.dataDirectory = try scalar(value, path)
            case "validation": data.validation = try integer(value, path, in: 0...Int(Int32.max))
            case "validation-seed": data.validationSeed = try seeds(value, path)[0]
            default: data.trainSubset = try integer(value, path, in: 1...Int(Int32.max))
            }
        }
        return data
    }

    func models(_ node: Node) throws(ExperimentError) -> [String: ModelSpec] {
        var models: [String: ModelSpec] = [:]
        for (key, keyNode, value) in try pairs(node, "models") {
            let path = "models.\(key)"
            _ = try name(keyNode, path)
            let entries = try pairs(value, path, allowed: ["preset", "model", "checkpoint", "width", "depth", "dropout", "init-seed"])
            let sources = entries.filter { ["preset", "model", "checkpoint"].contains($0.key) }
            guard sources.count == 1 else {
                throw fail("a model is exactly one of preset: NAME, model: ARCHITECTURE (with width, depth, dropout, init-seed) or checkpoint: FILE", value, path)
            }
            let source = sources[0], sourceValue = try scalar(source.value, "\(path).\(source.key)")
            let sizes = entries.filter { !["preset", "model", "checkpoint"].contains($0.key) }
            if source.key != "model", let extra = sizes.first {
                throw fail("size options go with model: ARCHITECTURE only", extra.keyNode, "\(path).\(extra.key)")
            }
            var options: [(key: String, value: String)] = []
            for entry in sizes { options.append((entry.key, try scalar(entry.value, "\(path).\(entry.key)"))) }
            models[key] = ModelSpec(name: key, source: source.key == "checkpoint" ? .checkpoint(sourceValue) : .built(model: sourceValue, options: options),
                                    location: location(keyNode))
        }
        return models
    }

    func stages(_ node: Node, models: [String: ModelSpec]) throws(ExperimentError) -> [StageSpec] {
        let entries = try pairs(node, "stages")
        guard !entries.isEmpty else { throw fail("an experiment needs at least one stage", node, "stages") }
        var stages: [StageSpec] = []
        for (key, keyNode, value) in entries {
            let path = "stages.\(key)"
            _ = try name(keyNode, path)
            if models[key] != nil { throw fail("a stage and a model cannot share the name '\(key)'", keyNode, path) }
            stages.append(try stage(key, keyNode: keyNode, value, path))
        }
        return stages
    }

    /// `NAME: {KIND: {inputs and options}}`, or `NAME: {kind: KIND, ...}`.
    func stage(_ name: String, keyNode: Node, _ node: Node, _ path: String) throws(ExperimentError) -> StageSpec {
        let entries = try pairs(node, path)
        guard entries.count == 1, let kind = StageKind(rawValue: entries[0].key) else {
            let first = entries.first
            let message = entries.count == 1
                ? "unknown stage kind '\(entries[0].key)'; the kinds are \(StageKind.allCases.map(\.rawValue).joined(separator: ", "))"
                : "a stage is one kind with its options, as `\(name): {train: {model: ..., epochs: 3}}`"
            throw fail(message, first?.keyNode ?? node, entries.count == 1 ? "\(path).\(entries[0].key)" : path)
        }
        let body = entries[0].value, bodyPath = "\(path).\(kind.rawValue)"
        var spec = StageSpec(name: name, kind: kind, inputs: [:], options: [], seeds: nil, location: location(keyNode))
        let inputKeys = kind.inputKeys.map(\.key)
        let items = body.null != nil ? [] : try pairs(body, bodyPath)
        for (key, keyNode, value) in items {
            let keyPath = "\(bodyPath).\(key)"
            if inputKeys.contains(key) {
                spec.inputs[key] = try references(value, keyPath)
            } else if key == "seeds" {
                guard kind.trains else { throw fail("only training stages take seeds; this stage runs once per input", keyNode, keyPath) }
                spec.seeds = try seeds(value, keyPath)
            } else if ["seed", "out", "resume", "output", "o", "json", "progress"].contains(key) {
                throw fail("'\(key)' is set by the runner (seeds come from `seeds:`)", keyNode, keyPath)
            } else {
                spec.options.append(OptionSetting(key: key, values: try optionValues(value, keyPath), location: location(keyNode)))
            }
        }
        for (key, required) in kind.inputKeys where required && spec.inputs[key] == nil {
            throw fail("a \(kind.rawValue) stage needs '\(key)'", keyNode, bodyPath)
        }
        return spec
    }

    func references(_ node: Node, _ path: String) throws(ExperimentError) -> [Located<String>] {
        let items: [Node] = if case .sequence(let sequence) = node { Array(sequence) } else { [node] }
        guard !items.isEmpty else { throw fail("must name at least one model or stage", node, path) }
        var names: [Located<String>] = []
        for item in items { names.append(Located(value: try name(item, path), location: location(item))) }
        return names
    }

    /// One value, or a list of them (a sweep); `true`/`false` are flags.
    func optionValues(_ node: Node, _ path: String) throws(ExperimentError) -> [String] {
        guard case .sequence(let sequence) = node else { return [try scalar(node, path)] }
        guard !sequence.isEmpty else { throw fail("an empty sweep expands to nothing: give at least one value", node, path) }
        var values: [String] = []
        for item in sequence { values.append(try scalar(item, path)) }
        return values
    }
}
