import Foundation
import MinnowHDF5
import MinnowModels
import MinnowNN
import MinnowQuantization
import MinnowTensor

/// Minnow checkpoints: one HDF5 file per checkpoint in the layout of docs/checkpoint-format.md.
///
/// `save` writes everything in one atomic call; `loadModel` rebuilds a model from the checkpoint
/// alone; `loadOptimizer` and `loadTraining` restore what an exact resume needs. Every failure is
/// a `CheckpointError` naming the file, the path inside it and what is wrong.
public enum ModelCheckpoint {
    /// The layout version this Minnow writes, and the newest it reads. Version 2 stores the
    /// model's description at `/description`; version 1 files (a zoo config only) still load.
    public static let formatVersion: Int64 = 2
    /// The root `format` attribute that marks a Minnow checkpoint.
    public static let formatName = "minnow.checkpoint"

    /// Writes a checkpoint of `model` to `url`, atomically: a crash at any moment leaves the
    /// previous file there intact. The model's description (`ModelDescription`, with
    /// `normalization` when given) is stored, so the file alone rebuilds the model as it is now,
    /// edited or not; `config` records the zoo configuration it came from. `description` replaces
    /// the model's own (for a caller that knows better, or a test that needs a file whose
    /// description and tensors disagree). Optional parts are written when given;
    /// `best` (the run's best metric so far) needs `metricsHistoryJSON`. `auxiliary` modules (trained
    /// with the model but not part of it, such as distillation adapters) have their parameters
    /// written under `/auxiliary/<name>`, where `loadModel` does not look.
    public static func save(_ model: Module, config: ModelConfig, to url: URL,
                            optimizer: (any Optimizer)? = nil, training: TrainingState? = nil,
                            metricsHistoryJSON: String? = nil, best: BestMetric? = nil,
                            provenance: Provenance? = nil, auxiliary: [(name: String, module: Module)] = [],
                            normalization: InputNormalization? = nil, description: ModelDescription? = nil) throws {
        guard let layer = model as? any Layer else { throw DescriptionError.notDescribable(String(describing: type(of: model))) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let configJSON = String(decoding: try encoder.encode(config), as: UTF8.self)
        let description = try (description ?? ModelDescription(model: layer, inputShape: config.inputShape, classes: config.classes,
                                                               normalization: normalization)).json()
        try HDF5File.writeAtomically(to: url) { file in
            try file.setAttribute("format", formatName)
            try file.setAttribute("format_version", formatVersion)
            try file.write(string: configJSON, to: "/config")
            try file.write(string: description, to: "/description")
            try file.createGroup("/model")
            for (path, parameter) in model.namedParameters() {
                try writeTensor(parameter.value, to: location(path, in: "model"), in: file)
            }
            for (path, buffer) in model.namedBuffers() {
                try writeTensor(buffer.value, to: location(path, in: "buffers"), in: file)
            }
            for (name, module) in auxiliary {
                for (path, parameter) in module.namedParameters() {
                    try writeTensor(parameter.value, to: location(path, in: "auxiliary/\(name)"), in: file)
                }
            }
            if let quantized = model as? any IntegerFormModel { try saveQuantization(of: quantized, in: file) }
            if let optimizer { try saveOptimizer(optimizer, in: file) }
            if let training { try saveTraining(training, model: model, in: file) }
            if let metricsHistoryJSON {
                try file.write(string: metricsHistoryJSON, to: "/metrics/history")
                if let best { try saveBest(best, in: file) }
            }
            if let provenance { try saveProvenance(provenance, in: file) }
        }
    }

    /// Opens a checkpoint read-only after checking that it is one and that this Minnow reads its version.
    public static func open(_ url: URL) throws(CheckpointError) -> HDF5File {
        let file = try HDF5File.open(url)
        guard file.hasAttribute("format"), try file.stringAttribute("format") == formatName else {
            throw .invalidContent(file: url.path, path: "/", detail: "not a Minnow checkpoint (no format = \"\(formatName)\" attribute)")
        }
        let version = try file.attribute("format_version", as: Int64.self)
        guard version >= 1, version <= formatVersion else {
            throw .unsupportedFormatVersion(file: url.path, found: version, supported: formatVersion)
        }
        return file
    }

    /// Rebuilds the checkpoint's model and loads its weights (see `buildModel(from:)`).
    public static func loadModel(from url: URL) throws(CheckpointError) -> (model: any Layer, config: ModelConfig) {
        let file = try open(url)
        let model = try buildModel(from: file)
        try loadWeights(into: model, from: file)
        try checkIntegerForm(of: model, in: file)
        return (model, try readConfig(file))
    }

    /// For a model with an integer form whose weights `file` just loaded: its quantization state
    /// (`IntegerFormModel.checkState`) and the `/quantization` numbers (`checkQuantization`).
    public static func checkIntegerForm(of model: any Layer, in file: HDF5File) throws(CheckpointError) {
        guard let quantized = model as? any IntegerFormModel else { return }
        do {
            try quantized.checkState()
        } catch {
            throw .invalidContent(file: file.url.path, path: "/buffers", detail: "\(error)")
        }
        try checkQuantization(of: quantized, in: file)
    }

    /// The checkpoint's model with fresh weights: built from its description (`/description`,
    /// format 2) after a trace shows that its layers fit together, or for a format-1 file from its
    /// zoo config.
    public static func buildModel(from file: HDF5File) throws(CheckpointError) -> any Layer {
        let path = file.url.path
        guard let description = try readDescription(file) else {
            do {
                return try ModelZoo.build(try readConfig(file))
            } catch let error as CheckpointError {
                throw error
            } catch {
                throw .invalidContent(file: path, path: "/config", detail: "\(error)")
            }
        }
        do {
            let model = try description.build(registry: .checkpoints)
            // A model with an integer form traced its float model when it was built.
            if !(model is any IntegerFormModel) { _ = try ModelGraph.trace(model, inputShape: description.inputShape) }
            return model
        } catch let error as CustomStringConvertible & Error {
            throw .invalidContent(file: path, path: "/description", detail: error.description)
        } catch {
            throw .invalidContent(file: path, path: "/description", detail: "\(error)")
        }
    }

    /// The model description stored at `/description`; nil for a format-1 file, which has none.
    public static func readDescription(_ file: HDF5File) throws(CheckpointError) -> ModelDescription? {
        guard file.exists("/description") else { return nil }
        do {
            return try ModelDescription(json: try file.readString("/description"))
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw .invalidContent(file: file.url.path, path: "/description", detail: "\(error)")
        }
    }

    /// The model config stored at `/config`.
    public static func readConfig(_ file: HDF5File) throws(CheckpointError) -> ModelConfig {
        let json = try file.readString("/config")
        do {
            return try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8))
        } catch {
            throw .invalidContent(file: file.url.path, path: "/config", detail: "not a model config: \(error)")
        }
    }

    /// Loads every parameter and buffer of `model`, checking that each exists with the model's
    /// shape and that the file holds none the model lacks. All or nothing: on error the model is unchanged.
    public static func loadWeights(into model: Module, from file: HDF5File) throws(CheckpointError) {
        let parameters = model.namedParameters(), buffers = model.namedBuffers()
        var parameterValues: [Tensor] = [], bufferValues: [Tensor] = []
        for (path, parameter) in parameters {
            parameterValues.append(try file.readTensor(location(path, in: "model"), expectedShape: parameter.shape))
        }
        for (path, buffer) in buffers {
            bufferValues.append(try file.readTensor(location(path, in: "buffers"), expectedShape: buffer.value.shape))
        }
        try checkNoExtras(in: file, section: "model", expected: Set(parameters.map { location($0.path, in: "model") }))
        try checkNoExtras(in: file, section: "buffers", expected: Set(buffers.map { location($0.path, in: "buffers") }))
        let datasets = Array(zip(parameters.map { location($0.path, in: "model") }, parameterValues))
            + Array(zip(buffers.map { location($0.path, in: "buffers") }, bufferValues))
        for (dataset, value) in datasets where !value.scalars.allSatisfy(\.isFinite) {
            throw .invalidContent(file: file.url.path, path: dataset, detail: "holds a value that is not finite (NaN or infinity)")
        }
        for ((_, parameter), value) in zip(parameters, parameterValues) { parameter.assign(value) }
        for ((_, buffer), value) in zip(buffers, bufferValues) { buffer.value = value }
    }

    /// Loads the parameters of an auxiliary module saved under `/auxiliary/<name>` into `module`,
    /// checking each one's shape and that the file holds none the module lacks. All or nothing: on
    /// error the module is unchanged.
    public static func loadAuxiliary(into module: Module, named name: String, from file: HDF5File) throws(CheckpointError) {
        let parameters = module.namedParameters(), section = "auxiliary/\(name)"
        var values: [Tensor] = []
        for (path, parameter) in parameters {
            values.append(try file.readTensor(location(path, in: section), expectedShape: parameter.shape))
        }
        try checkNoExtras(in: file, section: section, expected: Set(parameters.map { location($0.path, in: section) }))
        for ((_, parameter), value) in zip(parameters, values) { parameter.assign(value) }
    }

    // MARK: Layout helpers

    /// Where a dotted module path lives: `features.3.conv.filter` in section `model` is
    /// `/model/features.3.conv/filter` (one group per module path).
    static func location(_ path: String, in section: String) -> String {
        guard let dot = path.lastIndex(of: ".") else { return "/\(section)/\(path)" }
        return "/\(section)/\(path[..<dot])/\(path[path.index(after: dot)...])"
    }

    /// Writes `tensor` with its `layout` attribute (HWIO filters, IO linear weights, C vectors).
    static func writeTensor(_ tensor: Tensor, to location: String, in file: HDF5File) throws(CheckpointError) {
        try file.write(tensor, to: location)
        if let layout = [1: "C", 2: "IO", 4: "HWIO"][tensor.rank] {
            try file.setAttribute("layout", layout, at: location)
        }
    }

    /// Every dataset under `/section` must be one the model expects: an extra one means the
    /// checkpoint is of another architecture.
    private static func checkNoExtras(in file: HDF5File, section: String, expected: Set<String>) throws(CheckpointError) {
        guard file.exists("/\(section)") else { return }
        for name in try file.members(of: "/\(section)") {
            let path = "/\(section)/\(name)"
            let datasets = try file.kind(of: path) == .group ? file.members(of: path).map { "\(path)/\($0)" } : [path]
            for dataset in datasets where !expected.contains(dataset) {
                throw .invalidContent(file: file.url.path, path: dataset, detail: "the model has no such tensor")
            }
        }
    }
}
