import Foundation
import MinnowHDF5
import MinnowNN
import MinnowTensor

/// The resumable part of a checkpoint: optimizer, training position, generators, metrics, provenance.
extension ModelCheckpoint {
    static let optimizerGroup = "/training/optimizer"

    /// A new optimizer configured as the checkpoint's (kind and hyperparameters), with its
    /// learning rate, step count and slots; slot shapes are checked against the parameters of
    /// `model` and of the `auxiliary` modules trained with it (paths `name.path`, as `Trainer` keys them).
    public static func loadOptimizer(from file: HDF5File, model: Module,
                                     auxiliary: [(name: String, module: Module)] = []) throws(CheckpointError) -> any Optimizer {
        let group = optimizerGroup
        let name = try file.stringAttribute("name", at: group)
        let learningRate: Float = try file.attribute("learning_rate", at: group)
        let weightDecay: Float = try file.attribute("weight_decay", at: group)
        let optimizer: any Optimizer
        switch name {
        case "sgd":
            let momentum: Float = try file.attribute("momentum", at: group)
            let nesterov = try file.attribute("nesterov", at: group, as: Int64.self) != 0
            guard !nesterov || momentum > 0 else {
                throw .invalidContent(file: file.url.path, path: group, detail: "Nesterov SGD with momentum \(momentum)")
            }
            optimizer = SGD(learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        case "adam", "adamw":
            optimizer = Adam(learningRate: learningRate, beta1: try file.attribute("beta1", at: group),
                             beta2: try file.attribute("beta2", at: group), epsilon: try file.attribute("epsilon", at: group),
                             weightDecay: weightDecay, decoupledWeightDecay: name == "adamw")
        default:
            throw .invalidContent(file: file.url.path, path: group, detail: "unknown optimizer '\(name)'")
        }
        optimizer.stepCount = Int(try file.attribute("step_count", at: group, as: Int64.self))
        let auxiliaryShapes = auxiliary.flatMap { name, module in
            module.namedParameters().map { ("\(name).\($0.path)", $0.parameter.shape) }
        }
        let shapes = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.parameter.shape) } + auxiliaryShapes)
        for path in try file.members(of: group) {
            guard let shape = shapes[path] else {
                throw .invalidContent(file: file.url.path, path: "\(group)/\(path)", detail: "optimizer state for a parameter the model does not have")
            }
            for slot in try file.members(of: "\(group)/\(path)") {
                optimizer.slots[path, default: [:]][slot] = try file.readTensor("\(group)/\(path)/\(slot)", expectedShape: shape)
            }
        }
        return optimizer
    }

    /// The training position and the trainer's generators; restores the generators of `model`'s
    /// Dropout modules in place.
    public static func loadTraining(from file: HDF5File, into model: Module) throws(CheckpointError) -> TrainingState {
        func count(_ name: String) throws(CheckpointError) -> Int {
            Int(try file.attribute(name, at: "/training", as: Int64.self))
        }
        var state = TrainingState(epoch: try count("epoch"), step: try count("step"), batch: try count("batch"),
                                  threads: try count("threads"))
        if file.exists("/training/config") { state.recipe = try file.readString("/training/config") }
        if file.exists("/training/rng") {
            for name in try file.members(of: "/training/rng") where name != "modules" {
                state.generators[name] = try readGenerator(file, "/training/rng/\(name)")
            }
        }
        for (path, dropout) in dropoutModules(model) {
            dropout.generator = try readGenerator(file, "/training/rng/modules/\(path)")
        }
        return state
    }

    /// The metrics history JSON, if the checkpoint has one.
    public static func metricsHistory(in file: HDF5File) throws(CheckpointError) -> String? {
        file.exists("/metrics/history") ? try file.readString("/metrics/history") : nil
    }

    /// The run's best metric when the checkpoint was written, if it records one.
    public static func bestMetric(in file: HDF5File) throws(CheckpointError) -> BestMetric? {
        let path = "/metrics/history"
        guard file.exists(path), file.hasAttribute("best_metric", at: path) else { return nil }
        return BestMetric(name: try file.stringAttribute("best_metric", at: path),
                          value: try file.attribute("best_value", at: path),
                          epoch: Int(try file.attribute("best_epoch", at: path, as: Int64.self)))
    }

    /// Where the checkpoint came from.
    public static func loadProvenance(from file: HDF5File) throws(CheckpointError) -> Provenance {
        let group = "/provenance"
        let commandLine = try file.stringAttribute("command_line", at: group)
        guard let arguments = try? JSONDecoder().decode([String].self, from: Data(commandLine.utf8)) else {
            throw .invalidContent(file: file.url.path, path: group, detail: "command_line is not a JSON array of strings")
        }
        var fingerprints: [String: String] = [:]
        if file.hasAttribute("data_fingerprints", at: group) {
            let json = try file.stringAttribute("data_fingerprints", at: group)
            guard let decoded = try? JSONDecoder().decode([String: String].self, from: Data(json.utf8)) else {
                throw .invalidContent(file: file.url.path, path: group, detail: "data_fingerprints is not a JSON object of strings")
            }
            fingerprints = decoded
        }
        return Provenance(minnowVersion: try file.stringAttribute("minnow_version", at: group), commandLine: arguments,
                          dataset: try file.stringAttribute("dataset", at: group), dataFingerprints: fingerprints,
                          seed: try file.attribute("seed", at: group), createdUTC: try file.stringAttribute("created_utc", at: group))
    }

    // MARK: Writing

    static func saveOptimizer(_ optimizer: any Optimizer, in file: HDF5File) throws(CheckpointError) {
        let group = optimizerGroup
        try file.createGroup(group)
        switch optimizer {
        case let sgd as SGD:
            try file.setAttribute("name", "sgd", at: group)
            try file.setAttribute("momentum", sgd.momentum, at: group)
            try file.setAttribute("nesterov", Int64(sgd.nesterov ? 1 : 0), at: group)
            try file.setAttribute("weight_decay", sgd.weightDecay, at: group)
        case let adam as Adam:
            try file.setAttribute("name", adam.decoupledWeightDecay ? "adamw" : "adam", at: group)
            try file.setAttribute("beta1", adam.beta1, at: group)
            try file.setAttribute("beta2", adam.beta2, at: group)
            try file.setAttribute("epsilon", adam.epsilon, at: group)
            try file.setAttribute("weight_decay", adam.weightDecay, at: group)
        default:
            throw .invalidContent(file: file.url.path, path: group, detail: "cannot save optimizer \(type(of: optimizer))")
        }
        try file.setAttribute("learning_rate", optimizer.learningRate, at: group)
        try file.setAttribute("step_count", Int64(optimizer.stepCount), at: group)
        for (path, slots) in optimizer.slots {
            for (slot, tensor) in slots { try writeTensor(tensor, to: "\(group)/\(path)/\(slot)", in: file) }
        }
    }

    static func saveTraining(_ state: TrainingState, model: Module, in file: HDF5File) throws(CheckpointError) {
        try file.createGroup("/training")
        for (name, value) in [("epoch", state.epoch), ("step", state.step), ("batch", state.batch), ("threads", state.threads)] {
            try file.setAttribute(name, Int64(value), at: "/training")
        }
        if let recipe = state.recipe { try file.write(string: recipe, to: "/training/config") }
        for (name, generator) in state.generators { try file.write(generator.state, to: "/training/rng/\(name)") }
        for (path, dropout) in dropoutModules(model) {
            try file.write(dropout.generator.state, to: "/training/rng/modules/\(path)")
        }
    }

    static func saveBest(_ best: BestMetric, in file: HDF5File) throws(CheckpointError) {
        let path = "/metrics/history"
        try file.setAttribute("best_metric", best.name, at: path)
        try file.setAttribute("best_value", best.value, at: path)
        try file.setAttribute("best_epoch", Int64(best.epoch), at: path)
    }

    static func saveProvenance(_ provenance: Provenance, in file: HDF5File) throws(CheckpointError) {
        let group = "/provenance"
        let commandLine = (try? JSONEncoder().encode(provenance.commandLine)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        try file.createGroup(group)
        try file.setAttribute("minnow_version", provenance.minnowVersion, at: group)
        try file.setAttribute("command_line", commandLine, at: group)
        try file.setAttribute("dataset", provenance.dataset, at: group)
        if !provenance.dataFingerprints.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let json = (try? encoder.encode(provenance.dataFingerprints)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            try file.setAttribute("data_fingerprints", json, at: group)
        }
        try file.setAttribute("seed", provenance.seed, at: group)
        try file.setAttribute("created_utc", provenance.createdUTC, at: group)
    }

    // MARK: Helpers

    /// The Dropout modules of `model` with their paths: their generators are training state.
    private static func dropoutModules(_ model: Module) -> [(String, Dropout)] {
        var found: [(String, Dropout)] = []
        model.visitModules { path, module in
            if let dropout = module as? Dropout { found.append((path, dropout)) }
        }
        return found
    }

    private static func readGenerator(_ file: HDF5File, _ path: String) throws(CheckpointError) -> SeededGenerator {
        var generator = SeededGenerator(seed: 0)
        generator.state = try file.read(path, as: UInt64.self, expectedShape: [4]).values
        return generator
    }
}
