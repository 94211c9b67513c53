/// Median and spread of repeated timings.
public struct TimingStats: Codable, Sendable {
    public let median: Double
    public let min: Double
    public let max: Double

    public init(_ samples: [Double]) {
        let sorted = samples.sorted()
        median = sorted.isEmpty ? 0 : (sorted.count % 2 == 1 ? sorted[sorted.count / 2]
            : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2)
        min = sorted.first ?? 0
        max = sorted.last ?? 0
    }
}

/// Times `body`: `warmup` untimed calls, then `repeats` runs of `iterations` calls each;
/// returns milliseconds per call (median, min, max over the runs), as the peers' scripts do.
public func measure(warmup: Int = 3, iterations: Int, repeats: Int, _ body: () -> Void) -> TimingStats {
    for _ in 0..<warmup { body() }
    let clock = ContinuousClock()
    var samples: [Double] = []
    for _ in 0..<repeats {
        let start = clock.now
        for _ in 0..<iterations { body() }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        samples.append(seconds * 1000 / Double(iterations))
    }
    return TimingStats(samples)
}

/// Formats rows as an aligned plain-text table (first column left-aligned, the rest right-aligned).
public func formatTable(_ headers: [String], _ rows: [[String]]) -> String {
    let all = [headers] + rows
    let widths = headers.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    func line(_ row: [String]) -> String {
        row.enumerated().map { index, cell in
            let padding = String(repeating: " ", count: widths[index] - cell.count)
            return index == 0 ? cell + padding : padding + cell
        }.joined(separator: "  ")
    }
    return ([line(headers), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
        .joined(separator: "\n")
}
