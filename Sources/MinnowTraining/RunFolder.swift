import Foundation

/// The files of a training run's folder: `config.json` (the manifest), `metrics.jsonl`, the
/// checkpoints `last.h5`, `best.h5` and, when more than one is kept, `epoch-NNNN.h5`, and the
/// settings file of the run's objective when it is not cross-entropy (`ObjectiveDeclaration`)
/// (docs/checkpoint-format.md, "Run folders").
public struct RunFolder: Sendable {
    public let url: URL

    public init(_ url: URL) { self.url = url }

    /// The run's manifest (`TrainingRun.Manifest`).
    public var config: URL { url.appendingPathComponent("config.json") }
    /// One JSON line per epoch.
    public var metrics: URL { url.appendingPathComponent("metrics.jsonl") }
    /// The newest checkpoint.
    public var last: URL { url.appendingPathComponent("last.h5") }
    /// The checkpoint of the best epoch by the run's best metric.
    public var best: URL { url.appendingPathComponent("best.h5") }
    /// The settings file of `objective` in this folder.
    public func settings(of objective: ObjectiveDeclaration) -> URL { url.appendingPathComponent(objective.settingsFile) }

    /// The checkpoint of `epoch` when the run keeps several: `epoch-0003.h5`.
    public func checkpoint(epoch: Int) -> URL {
        url.appendingPathComponent("epoch-" + String(repeating: "0", count: max(0, 4 - String(epoch).count)) + "\(epoch).h5")
    }

    /// The epoch-numbered checkpoints in the folder, oldest first.
    public func epochCheckpoints() -> [(epoch: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("epoch-"), name.hasSuffix(".h5"),
                  let epoch = Int(name.dropFirst("epoch-".count).dropLast(".h5".count)) else { return nil }
            return (epoch, url.appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// Gives `last.h5` the name of its epoch as well (a hard link, or a copy where the file system
    /// has none), replacing a file of that name atomically.
    func linkLast(asEpoch epoch: Int) throws(TrainingError) {
        let target = checkpoint(epoch: epoch)
        let temporary = url.appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
        unlink(temporary.path)
        if link(last.path, temporary.path) != 0 {
            do { try FileManager.default.copyItem(at: last, to: temporary) } catch {
                throw .io("\(target.path): cannot link or copy \(last.lastPathComponent) there: \(error)")
            }
        }
        guard rename(temporary.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw .io("\(target.path): cannot rename \(temporary.lastPathComponent) over it: \(reason)")
        }
    }

    /// Removes epoch-numbered checkpoints of epochs after `epoch` (left by a run that is being
    /// replaced or resumed from an earlier point) and all but the newest `keep` of the others.
    func pruneEpochCheckpoints(after epoch: Int, keep: Int) throws(TrainingError) {
        let checkpoints = epochCheckpoints()
        let newer = checkpoints.filter { $0.epoch > epoch }
        let older = checkpoints.filter { $0.epoch <= epoch }.dropLast(keep)
        for (_, file) in newer + older {
            guard unlink(file.path) == 0 || errno == ENOENT else {
                throw .io("\(file.path): cannot remove an old checkpoint: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Removes the temporary files (`.NAME.tmp-PID`) of atomic writes whose process no longer
    /// runs: a process killed while writing a checkpoint leaves one. Returns their names.
    @discardableResult
    public func removeStaleTemporaries() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { name in
            guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards),
                  let pid = Int32(name[marker.upperBound...]), pid > 0 else { return false }
            // Signal 0 checks that the process exists; this process is not writing anything yet.
            let running = pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM)
            return !running && unlink(url.appendingPathComponent(name).path) == 0
        }
    }
}
