import MinnowTensor

/// One row of a model summary: a layer, its output shape, parameters and multiply-accumulates.
public struct LayerSummary: Sendable, Equatable {
    public let path: String
    public let kind: String
    public let outputShape: [Int]
    public let parameters: Int
    /// Multiply-accumulates per input image (convolutions and linear layers only, as the peers count them).
    public let macs: Int
}

/// Collects `LayerSummary` rows while a summary's forward pass runs.
final class SummaryRecorder: @unchecked Sendable {
    @TaskLocal static var current: SummaryRecorder?
    var rows: [LayerSummary] = []
    var paths: [ObjectIdentifier: String] = [:]
    /// Paths of modules that have submodules (their rows are their leaves').
    var parents: Set<String> = []
}

extension SummaryRecorder {
    /// Records `layer`'s row if it is a leaf (a layer without submodules): every layer call offers
    /// itself (`Layer.callAsFunction`), so no layer can be left out of a summary.
    func record(_ layer: Module, output: Tensor) {
        guard let path = paths[ObjectIdentifier(layer)], !parents.contains(path) else { return }
        let batch = max(output.shape.first ?? 1, 1)
        rows.append(LayerSummary(path: path, kind: layer.summaryKind, outputShape: Array(output.shape.dropFirst()),
                                 parameters: layer.parameterCount, macs: layer.multiplyAccumulates(outputCount: output.count) / batch))
    }
}

/// The layers of a model with output shapes, parameters and MACs, from one forward pass.
public struct ModelSummary: Sendable, CustomStringConvertible {
    public let rows: [LayerSummary]
    public let totalParameters: Int

    /// Multiply-accumulates per image, summed over layers.
    public var totalMACs: Int { rows.reduce(0) { $0 + $1.macs } }

    /// Runs `model` once on zeros of `inputShape` (NHWC with batch, e.g. `[1, 28, 28, 1]`), in
    /// evaluation mode and without gradients, and records every leaf layer.
    public init(model: some Layer, inputShape: [Int]) {
        let recorder = SummaryRecorder()
        model.visitModules { path, module in
            recorder.paths[ObjectIdentifier(module)] = path
            if let dot = path.lastIndex(of: ".") { recorder.parents.insert(String(path[..<dot])) } else if !path.isEmpty { recorder.parents.insert("") }
        }
        let wasTraining = model.isTraining
        model.eval()
        SummaryRecorder.$current.withValue(recorder) {
            _ = withoutGrad { model(Tensor.zeros(inputShape)) }
        }
        model.train(wasTraining)
        rows = recorder.rows
        totalParameters = model.parameterCount
    }

    public var description: String {
        let pathWidth = max(20, rows.map(\.path.count).max() ?? 0)
        func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
        var lines = [pad("layer", pathWidth) + "  " + pad("kind", 16) + pad("output", 16) + pad("params", 10) + "MACs"]
        for row in rows {
            let shape = row.outputShape.map(String.init).joined(separator: "x")
            lines.append(pad(row.path, pathWidth) + "  " + pad(row.kind, 16) + pad(shape, 16) + pad("\(row.parameters)", 10) + "\(row.macs)")
        }
        lines.append("total: \(totalParameters) parameters, \(totalMACs) MACs per image")
        return lines.joined(separator: "\n")
    }
}
