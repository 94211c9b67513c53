import Foundation

/// A line chart as SVG (no plotting library needed): one line per series over shared x values.
public struct LineChart {
    public var title: String
    public var xLabel: String, yLabel: String
    public var x: [Double]
    public var series: [(name: String, y: [Double])]

    public init(title: String, xLabel: String, yLabel: String, x: [Double], series: [(name: String, y: [Double])]) {
        (self.title, self.xLabel, self.yLabel, self.x, self.series) = (title, xLabel, yLabel, x, series)
    }

    /// The chart as a standalone SVG document.
    public var svg: String {
        let (width, height, left, right, top, bottom) = (760.0, 460.0, 60.0, 230.0, 30.0, 50.0)
        let ys = series.flatMap(\.y)
        let (xMin, xMax) = (x.min() ?? 0, x.max() ?? 1)
        let (yMin, yMax) = ((ys.min() ?? 0).rounded(.down), (ys.max() ?? 1).rounded(.up))
        func px(_ v: Double) -> Double { left + (v - xMin) / max(xMax - xMin, 1e-9) * (width - left - right) }
        func py(_ v: Double) -> Double { height - bottom - (v - yMin) / max(yMax - yMin, 1e-9) * (height - top - bottom) }
        let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
        var out = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">",
                   "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
                   "<text x=\"\(left)\" y=\"18\" font-size=\"13\">\(escape(title))</text>",
                   "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" stroke=\"black\"/>",
                   "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"black\"/>"]
        for value in x {
            out.append("<text x=\"\(px(value))\" y=\"\(height - bottom + 15)\" text-anchor=\"middle\">\(String(format: "%g", value))</text>")
        }
        for step in 0...4 {
            let value = yMin + Double(step) / 4 * (yMax - yMin)
            out.append("<text x=\"\(left - 6)\" y=\"\(py(value) + 4)\" text-anchor=\"end\">\(String(format: "%.1f", value))</text>")
        }
        out.append("<text x=\"\((left + width - right) / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">\(escape(xLabel))</text>")
        out.append("<text x=\"14\" y=\"\((top + height - bottom) / 2)\" transform=\"rotate(-90 14 \((top + height - bottom) / 2))\" text-anchor=\"middle\">\(escape(yLabel))</text>")
        for (index, line) in series.enumerated() {
            let colour = colours[index % colours.count]
            let points = zip(x, line.y).map { "\(px($0)),\(py($1))" }.joined(separator: " ")
            let dash = index / colours.count % 2 == 1 ? " stroke-dasharray=\"5,3\"" : ""
            out.append("<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\"\(dash) points=\"\(points)\"/>")
            if index < 28 {
                let y = top + Double(index) * 14
                out.append("<line x1=\"\(width - right + 10)\" y1=\"\(y)\" x2=\"\(width - right + 25)\" y2=\"\(y)\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>")
                out.append("<text x=\"\(width - right + 30)\" y=\"\(y + 4)\">\(escape(line.name))</text>")
            }
        }
        out.append("</svg>")
        return out.joined(separator: "\n")
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
