import Foundation

/// Draws training progress: a redrawn progress bar with ETA on a terminal, plain lines (about
/// every tenth of an epoch) otherwise, or nothing.
public final class ProgressPrinter: TrainingObserver {
    public enum Style: String, Sendable, CaseIterable { case auto, bar, lines, none }

    private let style: Style
    private let clock = ContinuousClock()
    private var epochStart: ContinuousClock.Instant
    private var epoch = 0, epochs = 0
    private var lossSum: Double = 0

    /// `auto` picks `bar` when standard output is a terminal, `lines` otherwise.
    public init(style: Style) {
        self.style = style == .auto ? (isatty(STDOUT_FILENO) == 1 ? .bar : .lines) : style
        epochStart = clock.now
    }

    public func epochStarted(epoch: Int, epochs: Int, steps: Int) {
        self.epoch = epoch
        self.epochs = epochs
        lossSum = 0
        epochStart = clock.now
    }

    public func stepFinished(step: Int, steps: Int, loss: Float, learningRate: Float) {
        lossSum += Double(loss)
        let elapsed = seconds(clock.now - epochStart)
        let eta = elapsed / Double(step) * Double(max(steps - step, 0))
        let text = String(format: "epoch %d/%d %5d/%d  loss %.4f  lr %.4g  ", epoch, epochs, step, steps,
                          lossSum / Double(step), learningRate) + "\(clockText(elapsed)) elapsed, ETA \(clockText(eta))"
        switch style {
        case .bar:
            let width = 30
            let filled = steps > 0 ? width * step / steps : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardOutput.write(Data("\r\u{1B}[2K[\(bar)] \(text)".utf8))
        case .lines:
            if step == steps || step % max(1, steps / 10) == 0 { emit(text) }
        case .auto, .none:
            break
        }
    }

    public func epochFinished(_ record: EpochRecord) {
        guard style != .none else { return }
        if style == .bar { print("") }
        // Named loss terms (of objectives with several) follow the total, e.g. "train loss 0.41 (ce 0.05, kd 0.36)".
        let terms = record.lossTerms.map { terms in
            " (" + terms.sorted { $0.key < $1.key }.map { "\($0.key) " + String(format: "%.4f", $0.value) }
                .joined(separator: ", ") + ")"
        } ?? ""
        var text = String(format: "epoch %d/%d  train loss %.4f", record.epoch, epochs, record.trainLoss) + terms
            + String(format: " acc %.2f%%  %.0f img/s  %.1fs", record.trainAccuracy * 100, record.imagesPerSecond,
                     record.trainSeconds)
        if let validation = record.validation {
            text += String(format: "  |  val loss %.4f top-1 %.2f%%", validation.loss, validation.top1 * 100)
        }
        if let test = record.test {
            text += String(format: "  |  test loss %.4f top-1 %.2f%%", test.loss, test.top1 * 100)
            if let top5 = test.top5 { text += String(format: " top-5 %.2f%%", top5 * 100) }
        }
        emit(text)
    }

    /// Prints a line and flushes, so a log file or pipe sees it at once.
    private func emit(_ line: String) {
        print(line)
        fflush(nil)
    }
}

/// `mm:ss` or `h:mm:ss`.
func clockText(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60)
    return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%02d:%02d", m, s)
}
