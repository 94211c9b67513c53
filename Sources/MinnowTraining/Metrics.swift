import Foundation
import MinnowData
import MinnowNN
import MinnowTensor

/// Loss and accuracy of a model on a labelled set.
public struct EvaluationResult: Codable, Sendable, Equatable {
    public var loss: Double
    public var top1: Double
    /// Top-5 accuracy, when there are more than 5 classes.
    public var top5: Double?
    public var count: Int
}

/// Counts correct top-1/top-5 predictions and sums the loss over batches.
public struct AccuracyMeter: Sendable {
    public private(set) var lossSum = 0.0
    public private(set) var top1Correct = 0
    public private(set) var top5Correct = 0
    public private(set) var count = 0

    public init() {}

    /// Adds a batch: `logits` `[N, C]`, its `labels`, and the batch's mean loss.
    public mutating func add(logits: Tensor, labels: [Int], meanLoss: Float) {
        let classes = logits.shape[1]
        let values = logits.scalars
        for (row, label) in labels.enumerated() {
            let scores = values[(row * classes)..<((row + 1) * classes)]
            let target = scores[scores.startIndex + label]
            // Rank of the true class as argmax ranks it (numpy, PyTorch, the runtime): the classes
            // scoring strictly higher, and those scoring the same with a lower index. Ties matter
            // for int8 logits, where equal codes are common.
            let higher = scores.enumerated().reduce(0) { $0 + ($1.element > target || ($1.element == target && $1.offset < label) ? 1 : 0) }
            if higher == 0 { top1Correct += 1 }
            if higher < 5 { top5Correct += 1 }
        }
        lossSum += Double(meanLoss) * Double(labels.count)
        count += labels.count
    }

    /// The totals so far.
    public func result(classes: Int) -> EvaluationResult {
        let n = Double(max(count, 1))
        return EvaluationResult(loss: lossSum / n, top1: Double(top1Correct) / n,
                                top5: classes > 5 ? Double(top5Correct) / n : nil, count: count)
    }
}

/// Evaluates `model` in evaluation mode without gradients on `batches`; restores the mode after.
public func evaluate(_ model: some Layer, batches: some Sequence<Batch>, classes: Int) -> EvaluationResult {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    return evaluate(batches: batches, classes: classes) { model($0) }
}

/// Loss, top-1 and top-5 of the logits `logits` gives for each batch (an integer model's, say).
public func evaluate(batches: some Sequence<Batch>, classes: Int, logits: (Tensor) -> Tensor) -> EvaluationResult {
    var meter = AccuracyMeter()
    withoutGrad {
        for batch in batches {
            let logits = logits(batch.images)
            meter.add(logits: logits, labels: batch.labels, meanLoss: crossEntropy(logits: logits, labels: batch.labels).item)
        }
    }
    return meter.result(classes: classes)
}

/// Appends one JSON object per line to a file (JSON Lines), flushed after every record.
public final class JSONLinesWriter: @unchecked Sendable {
    private let handle: FileHandle
    public let url: URL

    /// Opens (creating or appending to) `url`.
    public init(url: URL) throws {
        self.url = url
        if !FileManager.default.fileExists(atPath: url.path) {
            FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    /// Writes one record.
    public func write(_ record: some Encodable) throws {
        try handle.write(contentsOf: Self.line(record))
    }

    /// Replaces the file at `url` with one line per record, atomically.
    public static func rewrite(_ url: URL, with records: [some Encodable]) throws {
        var data = Data()
        for record in records { data.append(try line(record)) }
        try data.write(to: url, options: .atomic)
    }

    private static func line(_ record: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = try encoder.encode(record)
        data.append(0x0A)
        return data
    }

    deinit { try? handle.close() }
}
