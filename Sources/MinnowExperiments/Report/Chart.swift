import Foundation

/// A scatter or line chart as a standalone SVG document, with labelled axes (units in the labels),
/// "nice" ticks, an optional logarithmic x axis, error bars, a Pareto front and a legend.
public struct Chart: Sendable {
    public enum Mark: Sendable { case line, points }

    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var mark: Mark
        /// Half-widths of vertical error bars, one per point (a standard deviation).
        public var errors: [Double]?
        /// A label drawn beside each point.
        public var labels: [String]?

        public init(name: String, points: [(x: Double, y: Double)], mark: Mark, errors: [Double]? = nil, labels: [String]? = nil) {
            (self.name, self.points, self.mark, self.errors, self.labels) = (name, points, mark, errors, labels)
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var logarithmicX = false
    /// Ticks at whole numbers only on the x axis (epochs).
    public var integerX = false
    /// Points of the Pareto front (higher y for lower x), drawn as a dashed step line.
    public var front: [(x: Double, y: Double)]?

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logarithmicX: Bool = false) {
        (self.title, self.xLabel, self.yLabel, self.series, self.logarithmicX) = (title, xLabel, yLabel, series, logarithmicX)
    }

    static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// The points of `points` on the Pareto front: no other point has both a lower (or equal) x
    /// and a higher y. Sorted by x.
    public static func paretoFront(_ points: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
        var front: [(x: Double, y: Double)] = []
        for point in points.sorted(by: { $0.x < $1.x || ($0.x == $1.x && $0.y > $1.y) }) where point.y > (front.last?.y ?? -.infinity) {
            front.append(point)
        }
        return front
    }

    public var svg: String {
        let (width, height, left, right, top, bottom) = (760.0, 440.0, 70.0, 200.0, 34.0, 52.0)
        let all = series.flatMap { s in s.points.enumerated().map { (x: $1.x, y: $1.y, e: s.errors?[$0] ?? 0) } }
        let xs = all.map(\.x).filter { !logarithmicX || $0 > 0 }
        let xAxis = logarithmicX ? Axis.logarithmic(xs.min() ?? 1, xs.max() ?? 10)
            : Axis.linear(xs.min() ?? 0, xs.max() ?? 1, minimumStep: integerX ? 1 : 0)
        let yAxis = Axis.linear(all.map { $0.y - $0.e }.min() ?? 0, all.map { $0.y + $0.e }.max() ?? 1)
        func px(_ v: Double) -> Double { left + xAxis.fraction(v) * (width - left - right) }
        func py(_ v: Double) -> Double { height - bottom - yAxis.fraction(v) * (height - top - bottom) }
        var out = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(left)\" y=\"20\" font-size=\"14\" font-weight=\"bold\">\(escapeXML(title))</text>",
        ]
        for tick in xAxis.ticks {
            let x = px(tick)
            out.append("<line x1=\"\(x)\" y1=\"\(top)\" x2=\"\(x)\" y2=\"\(height - bottom)\" stroke=\"#e5e5e5\"/>")
            out.append("<text x=\"\(x)\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(Axis.format(tick))</text>")
        }
        for tick in yAxis.ticks {
            let y = py(tick)
            out.append("<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(width - right)\" y2=\"\(y)\" stroke=\"#e5e5e5\"/>")
            out.append("<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(Axis.format(tick))</text>")
        }
        out.append("<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width - left - right)\" height=\"\(height - top - bottom)\" fill=\"none\" stroke=\"black\"/>")
        out.append("<text x=\"\((left + width - right) / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">\(escapeXML(xLabel))</text>")
        let middle = (top + height - bottom) / 2
        out.append("<text x=\"16\" y=\"\(middle)\" transform=\"rotate(-90 16 \(middle))\" text-anchor=\"middle\">\(escapeXML(yLabel))</text>")
        if let front, front.count > 1 {
            var path = "M \(px(front[0].x)) \(py(front[0].y))"
            for point in front.dropFirst() { path += " H \(px(point.x)) V \(py(point.y))" }
            out.append("<path d=\"\(path)\" fill=\"none\" stroke=\"#555\" stroke-width=\"1.2\" stroke-dasharray=\"6,4\"/>")
        }
        for (index, s) in series.enumerated() {
            let colour = Self.colours[index % Self.colours.count]
            let points = s.points.filter { !logarithmicX || $0.x > 0 }
            if s.mark == .line, points.count > 1 {
                out.append("<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.8\" points=\"\(points.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " "))\"/>")
            }
            for (i, point) in points.enumerated() {
                if let error = s.errors?[i], error > 0 {
                    out.append("<line x1=\"\(px(point.x))\" y1=\"\(py(point.y - error))\" x2=\"\(px(point.x))\" y2=\"\(py(point.y + error))\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>")
                }
                out.append("<circle cx=\"\(px(point.x))\" cy=\"\(py(point.y))\" r=\"\(s.mark == .points ? 4 : 2.5)\" fill=\"\(colour)\"/>")
                if let label = s.labels?[i] {
                    out.append("<text x=\"\(px(point.x) + 6)\" y=\"\(py(point.y) - 6)\" font-size=\"10\" fill=\"\(colour)\">\(escapeXML(label))</text>")
                }
            }
            let y = top + 8 + Double(index) * 18
            out.append("<circle cx=\"\(width - right + 16)\" cy=\"\(y)\" r=\"4\" fill=\"\(colour)\"/>")
            out.append("<text x=\"\(width - right + 26)\" y=\"\(y + 4)\">\(escapeXML(String(s.name.prefix(26))))</text>")
        }
        if front != nil {
            let y = top + 8 + Double(series.count) * 18
            out.append("<line x1=\"\(width - right + 8)\" y1=\"\(y)\" x2=\"\(width - right + 24)\" y2=\"\(y)\" stroke=\"#555\" stroke-dasharray=\"6,4\"/>")
            out.append("<text x=\"\(width - right + 26)\" y=\"\(y + 4)\">Pareto front</text>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n")
    }
}

/// Horizontal bars, one row per label, one bar per series in each row (per-layer numbers).
public struct BarChart: Sendable {
    public var title: String
    public var valueLabel: String
    public var labels: [String]
    public var series: [(name: String, values: [Double?])]

    public init(title: String, valueLabel: String, labels: [String], series: [(name: String, values: [Double?])]) {
        (self.title, self.valueLabel, self.labels, self.series) = (title, valueLabel, labels, series)
    }

    public var svg: String {
        let row = 8.0 * Double(max(series.count, 1)) + 6, top = 50.0, left = 230.0, right = 40.0, width = 760.0
        let height = top + row * Double(labels.count) + 50
        let values = series.flatMap { $0.values.compactMap { $0 } }
        let axis = Axis.linear(min(0, values.min() ?? 0), values.max() ?? 1)
        func px(_ v: Double) -> Double { left + axis.fraction(v) * (width - left - right) }
        var out = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"10\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">\(escapeXML(title))</text>",
        ]
        for (index, s) in series.enumerated() {
            out.append("<rect x=\"\(left + Double(index) * 150)\" y=\"30\" width=\"10\" height=\"10\" fill=\"\(Chart.colours[index % Chart.colours.count])\"/>")
            out.append("<text x=\"\(left + Double(index) * 150 + 14)\" y=\"39\" font-size=\"12\">\(escapeXML(s.name))</text>")
        }
        for tick in axis.ticks {
            out.append("<line x1=\"\(px(tick))\" y1=\"\(top)\" x2=\"\(px(tick))\" y2=\"\(height - 50)\" stroke=\"#e5e5e5\"/>")
            out.append("<text x=\"\(px(tick))\" y=\"\(height - 34)\" text-anchor=\"middle\" font-size=\"12\">\(Axis.format(tick))</text>")
        }
        for (i, label) in labels.enumerated() {
            let y = top + Double(i) * row
            out.append("<text x=\"\(left - 6)\" y=\"\(y + row / 2 + 3)\" text-anchor=\"end\">\(escapeXML(String(label.suffix(40))))</text>")
            for (j, s) in series.enumerated() {
                guard let value = s.values[i] else { continue }
                let (a, b) = (px(min(0, value)), px(max(0, value)))
                out.append("<rect x=\"\(a)\" y=\"\(y + 3 + Double(j) * 8)\" width=\"\(max(b - a, 0.5))\" height=\"7\" fill=\"\(Chart.colours[j % Chart.colours.count])\"/>")
            }
        }
        out.append("<text x=\"\((left + width - right) / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\" font-size=\"12\">\(escapeXML(valueLabel))</text>")
        out.append("</svg>")
        return out.joined(separator: "\n")
    }
}

/// An axis range with ticks at 1, 2 or 5 times a power of ten (linear), or at powers of ten and
/// their 2 and 5 multiples (logarithmic).
struct Axis {
    var low: Double, high: Double, logarithmic: Bool, ticks: [Double]

    static func linear(_ minimum: Double, _ maximum: Double, minimumStep: Double = 0) -> Axis {
        var (a, b) = (minimum, maximum)
        if !(b > a) { (a, b) = (a - 1, b + 1) }
        let rough = (b - a) / 5, power = pow(10, floor(log10(rough)))
        let step = max([1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power, minimumStep)
        let low = floor(a / step) * step, high = ceil(b / step) * step
        return Axis(low: low, high: high, logarithmic: false, ticks: stride(from: low, through: high + step / 2, by: step).map { $0 })
    }

    static func logarithmic(_ minimum: Double, _ maximum: Double) -> Axis {
        let low = pow(10, floor(log10(minimum))), high = pow(10, ceil(log10(max(maximum, minimum * 1.0001))))
        var ticks: [Double] = []
        var decade = low
        while decade <= high * 1.0001 {
            ticks += [decade, 2 * decade, 5 * decade].filter { $0 <= high * 1.0001 && (high / low <= 1e3 || $0 == decade) }
            decade *= 10
        }
        return Axis(low: low, high: high, logarithmic: true, ticks: ticks)
    }

    func fraction(_ value: Double) -> Double {
        logarithmic ? (log10(max(value, 1e-300)) - log10(low)) / max(log10(high) - log10(low), 1e-12) : (value - low) / max(high - low, 1e-12)
    }

    /// `0.5`, `12`, `1.2k`, `80M`.
    static func format(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1e6 { return String(format: "%gM", value / 1e6) }
        if magnitude >= 1e4 { return String(format: "%gk", value / 1e3) }
        return String(format: "%g", (value * 1e6).rounded() / 1e6)
    }
}

/// `text` with XML's special characters escaped.
func escapeXML(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
