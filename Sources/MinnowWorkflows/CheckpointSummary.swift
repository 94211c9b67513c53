import Foundation
import MinnowCheckpoint
import MinnowNN
import MinnowTraining

/// What a checkpoint holds, as `minnow inspect` prints it: architecture and summary, provenance,
/// training state (and the command that resumes it), best metric and metrics history.
public enum CheckpointSummary {
    /// The summary of the checkpoint at `url`, titled `name`.
    public static func text(of url: URL, name: String) throws -> String {
        let (model, config) = try ModelCheckpoint.loadModel(from: url)
        let file = try ModelCheckpoint.open(url)
        var lines = ["\(name): \(config.architecture.rawValue), width \(config.width), input \(config.inputShape), \(config.classes) classes",
                     "\(ModelSummary(model: model, inputShape: [1] + config.inputShape))"]
        if file.exists("/provenance") {
            let provenance = try ModelCheckpoint.loadProvenance(from: file)
            lines += ["\nprovenance: Minnow \(provenance.minnowVersion), created \(provenance.createdUTC), data set \(provenance.dataset), seed \(provenance.seed)",
                      "command: \(provenance.commandLine.joined(separator: " "))"]
            lines += provenance.dataFingerprints.sorted { $0.key > $1.key }.map { "\($0.key) data fingerprint: \($0.value)" }
        }
        if file.exists("/training") {
            let state = try ModelCheckpoint.loadTraining(from: file, into: model)
            let objective = state.recipe.flatMap { try? JSONDecoder().decode(TrainingRun.Manifest.self, from: Data($0.utf8)) }?.objective
            let command = TrainingObjectives.all.first { $0.name == objective }?.resumeCommand ?? "minnow train --resume"
            lines.append("\ntraining: \(state.epoch) epochs done, \(state.step) steps, \(state.threads) threads"
                         + (state.recipe != nil ? "; resumable (\(command) \(name))" : ""))
        }
        if let best = try ModelCheckpoint.bestMetric(in: file) {
            lines.append("best so far: \(best.name) \(best.value) at epoch \(best.epoch)")
        }
        if let history = try ModelCheckpoint.metricsHistory(in: file) {
            let records = (try? JSONDecoder().decode([EpochRecord].self, from: Data(history.utf8))) ?? []
            lines.append("\nmetrics:")
            lines += records.map { record in
                String(format: "  epoch %d  train loss %.4f acc %.2f%%", record.epoch, record.trainLoss, record.trainAccuracy * 100)
                    + (record.test.map { String(format: "  test top-1 %.2f%%", $0.top1 * 100) } ?? "")
            }
        }
        return lines.joined(separator: "\n")
    }
}
