import Foundation

/// A piece of a report; rendered as notebook cells and as HTML.
public enum ReportBlock: Sendable {
    case heading(String)
    case subheading(String)
    /// Text with `code` spans.
    case paragraph(String)
    case code(String)
    case table(header: [String], rows: [[String]])
    /// An SVG figure, saved as `NAME.svg` beside the notebook.
    case figure(name: String, caption: String, svg: String)

    /// The block as Markdown (figures are notebook outputs instead).
    var markdown: String {
        switch self {
        case .heading(let text): "# \(text)"
        case .subheading(let text): "## \(text)"
        case .paragraph(let text): text
        case .code(let text): "```yaml\n\(text.hasSuffix("\n") ? String(text.dropLast()) : text)\n```"
        case .table(let header, let rows):
            ([header, header.map { _ in "---" }] + rows).map { "| " + $0.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |" }
                .joined(separator: "\n")
        case .figure(_, let caption, _): caption
        }
    }

    /// The block as HTML.
    var html: String {
        switch self {
        case .heading(let text): "<h1>\(escapeXML(text))</h1>"
        case .subheading(let text): "<h2>\(escapeXML(text))</h2>"
        case .paragraph(let text): "<p>\(Self.inline(text))</p>"
        case .code(let text): "<pre>\(escapeXML(text))</pre>"
        case .table(let header, let rows):
            "<table>\n<tr>" + header.map { "<th>\(escapeXML($0))</th>" }.joined() + "</tr>\n"
                + rows.map { "<tr>" + $0.map { "<td>\(escapeXML($0))</td>" }.joined() + "</tr>" }.joined(separator: "\n") + "\n</table>"
        case .figure(_, let caption, let svg): "<figure>\n\(svg)\n<figcaption>\(Self.inline(caption))</figcaption>\n</figure>"
        }
    }

    /// `text` escaped, with `code` spans as <code>.
    static func inline(_ text: String) -> String {
        escapeXML(text).split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .map { $0.offset % 2 == 1 ? "<code>\($0.element)</code>" : String($0.element) }.joined()
    }
}

/// A Jupyter notebook (nbformat 4.5): Markdown cells for the text and tables, and a code cell per
/// figure that displays the saved SVG (its output the SVG itself), so the notebook shows
/// everything unexecuted and its cells reproduce their outputs when run beside `assets/`.
struct Notebook {
    let blocks: [ReportBlock]
    let assets: String

    func data() throws -> Data {
        var cells: [[String: Any]] = []
        var markdown: [String] = []
        var count = 0
        func flush() {
            guard !markdown.isEmpty else { return }
            cells.append(["cell_type": "markdown", "id": "cell-\(cells.count)", "metadata": [String: Any](), "source": lines(markdown.joined(separator: "\n\n"))])
            markdown = []
        }
        func code(_ source: String, _ data: [String: Any]) {
            flush()
            count += 1
            cells.append(["cell_type": "code", "id": "cell-\(cells.count)", "metadata": [String: Any](), "execution_count": count,
                          "source": lines(source),
                          "outputs": [["output_type": "execute_result", "execution_count": count, "metadata": [String: Any](), "data": data]]])
        }
        for block in blocks {
            switch block {
            case .figure(let name, let caption, let svg):
                markdown.append(caption)
                code("from IPython.display import SVG\nSVG(filename=\"\(assets)/\(name).svg\")",
                     ["image/svg+xml": lines(svg), "text/plain": ["<IPython.core.display.SVG object>"]])
            default:
                markdown.append(block.markdown)
            }
        }
        flush()
        let notebook: [String: Any] = [
            "nbformat": 4, "nbformat_minor": 5, "cells": cells,
            "metadata": ["kernelspec": ["name": "python3", "display_name": "Python 3", "language": "python"],
                         "language_info": ["name": "python"]],
        ]
        return try JSONSerialization.data(withJSONObject: notebook, options: [.prettyPrinted, .sortedKeys])
    }

    /// Notebook sources are lists of lines, each but the last ending in a newline.
    private func lines(_ text: String) -> [String] {
        let parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return parts.enumerated().map { $0.offset < parts.count - 1 ? $0.element + "\n" : $0.element }
    }
}

/// One self-contained HTML page: styles inline, figures as inline SVG, no network.
struct HTMLPage {
    let title: String
    let blocks: [ReportBlock]

    var text: String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(escapeXML(title))</title>
        <style>
        body { font-family: sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
        pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 13px; }
        code { background: #f2f2f2; padding: 0 0.2em; }
        table { border-collapse: collapse; font-size: 13px; margin: 1em 0; }
        th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
        th { background: #eee; }
        figure { margin: 1.5em 0; }
        figure svg { max-width: 100%; height: auto; }
        figcaption { font-size: 13px; color: #444; }
        </style>
        </head>
        <body>
        \(blocks.map(\.html).joined(separator: "\n"))
        </body>
        </html>

        """
    }
}
