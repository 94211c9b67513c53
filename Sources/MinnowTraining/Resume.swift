import Foundation
import MinnowCheckpoint
import MinnowHDF5
import MinnowNN

extension Trainer {
    /// Continues from a checkpoint: restores the weights and buffers, the optimizer (kind,
    /// hyperparameters, slots, step count), the position (completed epochs, global step), the
    /// history and the Dropout generators. The data order needs no state: the loader is a pure
    /// function of the seed and the epoch. Returns the checkpoint's training state (its `threads`:
    /// bit-identical continuation needs the same thread count).
    ///
    /// The checkpoint's model must be the recipe's and its optimizer of the recipe's kind. On
    /// error the trainer may be partly restored: discard it.
    @discardableResult
    public func restore(from file: HDF5File) throws -> TrainingState {
        let path = file.url.path
        let stored = try ModelCheckpoint.readConfig(file)
        guard stored == config.model else {
            throw CheckpointError.invalidContent(file: path, path: "/config", detail: "the checkpoint's model \(stored) is not the recipe's \(config.model)")
        }
        guard file.exists("/training") else {
            throw CheckpointError.invalidContent(file: path, path: "/training", detail: "no training state: this checkpoint cannot be resumed")
        }
        try ModelCheckpoint.loadWeights(into: model, from: file)
        let restored = try ModelCheckpoint.loadOptimizer(from: file, model: model)
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
}

extension TrainingRun {
    /// Reopens a run to continue it exactly where a checkpoint left off.
    ///
    /// `location` is a run folder, continued from its `last.h5` (or, when the run wrote no
    /// checkpoint yet, started over from its `config.json`), or a checkpoint file: the run then
    /// continues in the checkpoint's folder from that checkpoint, and `start` replaces the
    /// folder's later epoch checkpoints and metrics. The recipe is the checkpoint's
    /// (`/training/config`), else the folder's `config.json`.
    public static func resume(from location: URL, dataDirectory: URL? = nil) throws -> TrainingRun {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location.path, isDirectory: &isDirectory) else {
            throw TrainingError.io("\(location.path): no such run folder or checkpoint")
        }
        let folder = RunFolder(isDirectory.boolValue ? location : location.deletingLastPathComponent())
        let checkpoint = isDirectory.boolValue ? folder.last : location
        guard !isDirectory.boolValue || FileManager.default.fileExists(atPath: checkpoint.path) else {
            return try TrainingRun(manifest: readManifest(folder.config), dataDirectory: dataDirectory, directory: folder.url)
        }
        let file = try ModelCheckpoint.open(checkpoint)
        let manifest: Manifest
        if file.exists("/training/config") {
            let json = try file.readString("/training/config")
            do {
                manifest = try JSONDecoder().decode(Manifest.self, from: Data(json.utf8))
            } catch {
                throw CheckpointError.invalidContent(file: checkpoint.path, path: "/training/config", detail: "not a run manifest: \(error)")
            }
        } else {
            guard FileManager.default.fileExists(atPath: folder.config.path) else {
                throw CheckpointError.invalidContent(file: checkpoint.path, path: "/training/config",
                                                     detail: "no training recipe, and no config.json beside the checkpoint: it cannot be resumed")
            }
            manifest = try readManifest(folder.config)
        }
        let run = try TrainingRun(manifest: manifest, dataDirectory: dataDirectory, directory: folder.url)
        run.resumedFrom = (checkpoint, try run.trainer.restore(from: file))
        return run
    }

    /// The manifest saved as a run folder's `config.json`.
    static func readManifest(_ url: URL) throws -> Manifest {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TrainingError.io("\(url.path): no such file: not a run folder, or the run wrote no checkpoint yet")
        }
        do {
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw TrainingError.invalidConfig("\(url.path): not a run manifest: \(error)")
        }
    }
}
