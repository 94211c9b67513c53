import Foundation
import MinnowCheckpoint
import MinnowHDF5
import MinnowNN

extension Trainer {
    /// Continues from a checkpoint: restores the weights and buffers (the model's and the
    /// auxiliary modules'; install those first, e.g. with `Distiller.install`), the optimizer (kind,
    /// hyperparameters, slots, step count), the position (completed epochs, global step), the
    /// history and the Dropout generators. The data order needs no state: the loader is a pure
    /// function of the seed and the epoch. Returns the checkpoint's training state (its `threads`:
    /// bit-identical continuation needs the same thread count).
    ///
    /// The checkpoint's model must be this trainer's: the same description (layers and channel
    /// counts, so an edited model resumes as edited), or for a format-1 file the same zoo config;
    /// its optimizer must be of the recipe's kind. On error the trainer may be partly restored:
    /// discard it.
    @discardableResult
    public func restore(from file: HDF5File) throws -> TrainingState {
        let path = file.url.path
        if let stored = try ModelCheckpoint.readDescription(file) {
            let mine = try LayerDescription(describing: model)
            guard stored.layer == mine else {
                throw CheckpointError.invalidContent(file: path, path: "/description",
                                                     detail: "the checkpoint's model is not this trainer's (other layers or channel counts)")
            }
        } else {
            let stored = try ModelCheckpoint.readConfig(file)
            guard stored == config.model else {
                throw CheckpointError.invalidContent(file: path, path: "/config", detail: "the checkpoint's model \(stored) is not the recipe's \(config.model)")
            }
        }
        guard file.exists("/training") else {
            throw CheckpointError.invalidContent(file: path, path: "/training", detail: "no training state: this checkpoint cannot be resumed")
        }
        try ModelCheckpoint.loadWeights(into: model, from: file)
        try ModelCheckpoint.checkIntegerForm(of: model, in: file)
        try restoreAuxiliaryModules(from: file)
        let restored = try ModelCheckpoint.loadOptimizer(from: file, model: model, auxiliary: auxiliaryModules)
        let kind: TrainingConfig.OptimizerKind? = switch restored {
        case is SGD: .sgd
        case let adam as Adam: adam.decoupledWeightDecay ? .adamw : .adam
        default: nil
        }
        guard kind == config.optimizer else {
            throw CheckpointError.invalidContent(file: path, path: "/training/optimizer",
                                                 detail: "optimizer \(kind.map(\.rawValue) ?? "unknown"), the recipe's is \(config.optimizer.rawValue)")
        }
        let state = try ModelCheckpoint.loadTraining(from: file, into: model)
        let history: [EpochRecord]
        do {
            history = try JSONDecoder().decode([EpochRecord].self, from: Data((ModelCheckpoint.metricsHistory(in: file) ?? "[]").utf8))
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.invalidContent(file: path, path: "/metrics/history", detail: "not a list of epoch records: \(error)")
        }
        guard state.batch == 0, state.epoch <= config.epochs, history.count == state.epoch else {
            throw CheckpointError.invalidContent(
                file: path, path: "/training",
                detail: "cannot continue at epoch \(state.epoch), batch \(state.batch) of \(config.epochs) epochs with \(history.count) epochs of history")
        }
        optimizer = restored
        completedEpochs = state.epoch
        globalStep = state.step
        self.history = history
        return state
    }

    /// Loads each auxiliary module from `/auxiliary/<name>`; the checkpoint must hold exactly these modules.
    private func restoreAuxiliaryModules(from file: HDF5File) throws {
        let saved = file.exists("/auxiliary") ? Set(try file.members(of: "/auxiliary")) : []
        let names = Set(auxiliaryModules.map(\.name))
        guard saved == names else {
            throw CheckpointError.invalidContent(
                file: file.url.path, path: "/auxiliary",
                detail: "the checkpoint has modules \(saved.sorted()) trained with the model, this trainer has \(names.sorted())")
        }
        for (name, module) in auxiliaryModules { try ModelCheckpoint.loadAuxiliary(into: module, named: name, from: file) }
    }
}

extension TrainingRun {
    /// Where a run continues from: its folder, its recipe, and the checkpoint to restore (nil when
    /// the run wrote none yet and starts over).
    public struct ResumePoint: Sendable {
        public let folder: RunFolder
        public let manifest: Manifest
        public let checkpoint: URL?

        /// The run's objective when not cross-entropy: the recipe's, or for runs recorded before
        /// recipes named their objective, the one among `known` whose settings file the folder holds.
        public func objective(known: [ObjectiveDeclaration]) -> String? {
            manifest.objective ?? known.first { FileManager.default.fileExists(atPath: folder.settings(of: $0).path) }?.name
        }
    }

    /// Finds where the run at `location` continues: a run folder continues from its `last.h5` (or,
    /// when the run wrote no checkpoint yet, starts over from its `config.json`); a checkpoint file
    /// continues in the checkpoint's folder from that checkpoint. The recipe is the checkpoint's
    /// (`/training/config`), else the folder's `config.json`.
    public static func resumePoint(from location: URL) throws -> ResumePoint {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location.path, isDirectory: &isDirectory) else {
            throw TrainingError.io("\(location.path): no such run folder or checkpoint")
        }
        let folder = RunFolder(isDirectory.boolValue ? location : location.deletingLastPathComponent())
        let checkpoint = isDirectory.boolValue ? folder.last : location
        guard !isDirectory.boolValue || FileManager.default.fileExists(atPath: checkpoint.path) else {
            return ResumePoint(folder: folder, manifest: try readManifest(folder.config), checkpoint: nil)
        }
        let file = try ModelCheckpoint.open(checkpoint)
        guard file.exists("/training/config") else {
            guard FileManager.default.fileExists(atPath: folder.config.path) else {
                throw CheckpointError.invalidContent(file: checkpoint.path, path: "/training/config",
                                                     detail: "no training recipe, and no config.json beside the checkpoint: it cannot be resumed")
            }
            return ResumePoint(folder: folder, manifest: try readManifest(folder.config), checkpoint: checkpoint)
        }
        let json = try file.readString("/training/config")
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(json.utf8))
        } catch {
            throw CheckpointError.invalidContent(file: checkpoint.path, path: "/training/config", detail: "not a run manifest: \(error)")
        }
        do {
            try manifest.validate()
        } catch {
            throw CheckpointError.invalidContent(file: checkpoint.path, path: "/training/config", detail: error.description)
        }
        return ResumePoint(folder: folder, manifest: manifest, checkpoint: checkpoint)
    }

    /// Reopens a cross-entropy run to continue it exactly where a checkpoint left off (see
    /// `resumePoint(from:)`); `start` then replaces the folder's later epoch checkpoints and metrics.
    /// A run with another objective is refused: it resumes through its own code. `knownObjectives`
    /// recognize older runs of those objectives and say how to resume them.
    public static func resume(from location: URL, dataDirectory: URL? = nil,
                              knownObjectives: [ObjectiveDeclaration] = []) throws -> TrainingRun {
        let point = try resumePoint(from: location)
        if let objective = point.objective(known: knownObjectives) {
            let command = knownObjectives.first { $0.name == objective }?.resumeCommand
            throw TrainingError.invalidConfig(
                "\(point.folder.url.path) is a \(objective) run: resuming it as plain training would drop its objective"
                    + (command.map { "; continue it with `\($0)`" } ?? ""))
        }
        let run = try TrainingRun(manifest: point.manifest, dataDirectory: dataDirectory, directory: point.folder.url,
                                  model: try point.checkpoint.flatMap { try describedModel($0) })
        if let checkpoint = point.checkpoint { try run.restore(from: checkpoint) }
        return run
    }

    /// Restores the trainer from `checkpoint` (`Trainer.restore(from:)`) and records it as the point
    /// this run continues from. Install auxiliary modules and objectives before. The training data
    /// must be the checkpoint's (same content fingerprint, when the checkpoint records one): other
    /// data cannot continue the run exactly.
    public func restore(from checkpoint: URL) throws {
        let file = try ModelCheckpoint.open(checkpoint)
        if file.exists("/provenance"), let recorded = try ModelCheckpoint.loadProvenance(from: file).dataFingerprints["train"],
           recorded != dataFingerprints["train"] {
            throw TrainingError.invalidConfig(
                "\(checkpoint.path) was trained on data with fingerprint \(recorded); the \(manifest.dataset.rawValue) training data loaded now have \(dataFingerprints["train"] ?? "none"): the run can only continue on the same data")
        }
        resumedFrom = (checkpoint, try trainer.restore(from: file))
    }

    /// The model a checkpoint's description rebuilds (fresh weights; `restore` loads them), or nil
    /// for a format-1 checkpoint, whose model is the recipe's.
    public static func describedModel(_ checkpoint: URL) throws -> (any Layer)? {
        let file = try ModelCheckpoint.open(checkpoint)
        guard try ModelCheckpoint.readDescription(file) != nil else { return nil }
        return try ModelCheckpoint.buildModel(from: file)
    }

    /// The manifest saved as a run folder's `config.json`.
    static func readManifest(_ url: URL) throws -> Manifest {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TrainingError.io("\(url.path): no such file: not a run folder, or the run wrote no checkpoint yet")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw TrainingError.invalidConfig("\(url.path): not a run manifest: \(error)")
        }
        do {
            try manifest.validate()
        } catch TrainingError.invalidConfig(let message) {
            throw TrainingError.invalidConfig("\(url.path): \(message)")
        }
        return manifest
    }
}

/// A training objective other than cross-entropy, as run folders and resumes see it: the name its
/// runs record (`TrainingRun.Manifest.objective`), the file of its settings in the run folder (which
/// also marks runs recorded before manifests named their objective), and the command that resumes
/// it. The module of the objective declares it; MinnowTraining knows none by name.
public struct ObjectiveDeclaration: Sendable, Equatable {
    public let name: String
    public let settingsFile: String
    public let resumeCommand: String

    public init(name: String, settingsFile: String, resumeCommand: String) {
        self.name = name
        self.settingsFile = settingsFile
        self.resumeCommand = resumeCommand
    }
}
