import Foundation
import MinnowHDF5
import MinnowModels
import MinnowNN
import MinnowQuantization

extension LayerRegistry {
    /// Every layer kind a checkpoint can hold: the zoo's and quantized models.
    public static let checkpoints = LayerRegistry.zoo.adding([QuantizedModel.self])
}

extension ModelCheckpoint {
    /// Writes the integer form of a quantized model under `/quantization` (docs/checkpoint-format.md):
    /// the scheme (attribute `scheme`, JSON), and per convolution or linear layer (batch norm
    /// folded) its int8 weight codes, float32 weight scales and int32 zero points per output
    /// channel, int32 biases, and the float32 scale and int32 zero point of its input and output,
    /// as numpy-readable datasets. Nothing is written for a model none of whose values has been
    /// observed yet (calibrate it or train it first).
    static func saveQuantization(of model: any IntegerFormModel, in file: HDF5File) throws {
        guard let integer = try? model.integerModel() else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try file.createGroup("/quantization")
        try file.setAttribute("scheme", String(decoding: try encoder.encode(model.scheme), as: UTF8.self), at: "/quantization")
        for layer in integer.layers {
            let group = "/quantization/" + layer.module.replacingOccurrences(of: ".", with: "/")
            try file.write(layer.weight, shape: layer.weightShape, to: group + "/weight")
            try file.setAttribute("layout", layer.kind == .linear ? "IO" : "HWIO", at: group + "/weight")
            try file.setAttribute("bits", Int64(layer.weightParameters.first?.type.rawValue ?? 8), at: group + "/weight")
            try file.write(layer.weightParameters.map(\.scale), to: group + "/weight_scale")
            try file.write(layer.weightParameters.map(\.zeroPoint), to: group + "/weight_zero_point")
            try file.write(layer.bias, to: group + "/bias")
            for (name, p) in [("input", layer.input), ("output", layer.output)] {
                try file.write([p.scale], shape: [], to: "\(group)/\(name)_scale")
                try file.write([p.zeroPoint], shape: [], to: "\(group)/\(name)_zero_point")
            }
        }
    }

    /// Checks the `/quantization` group against the integer model derived from `/model` and
    /// `/buffers` (the numbers are derived, for readers outside Minnow; docs/checkpoint-format.md):
    /// the scheme attribute, and per layer every dataset, value for value (scales bit for bit).
    /// A missing, extra or differing dataset is an error naming it. A model none of whose values
    /// was observed has no group, and none may be there.
    static func checkQuantization(of model: any IntegerFormModel, in file: HDF5File) throws(CheckpointError) {
        let path = file.url.path
        func mismatch(_ dataset: String, _ detail: String) -> CheckpointError {
            .invalidContent(file: path, path: dataset, detail: "\(detail): it does not match the integer model derived from /model and /buffers (damaged or edited)")
        }
        guard let integer = try? model.integerModel() else {
            guard !file.exists("/quantization") else { throw mismatch("/quantization", "present for a model with unobserved values") }
            return
        }
        guard file.exists("/quantization") else { throw mismatch("/quantization", "missing") }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let scheme = String(decoding: try encoder.encode(model.scheme), as: UTF8.self)
            guard try file.stringAttribute("scheme", at: "/quantization") == scheme else { throw mismatch("/quantization", "attribute scheme") }
            var expectedGroups: Set<String> = []
            for layer in integer.layers {
                let group = "/quantization/" + layer.module.replacingOccurrences(of: ".", with: "/")
                expectedGroups.insert(group)
                func check<T: HDF5Scalar & Equatable>(_ name: String, _ values: [T], shape: [Int], same: ([T], [T]) -> Bool = { $0 == $1 }) throws {
                    let dataset = group + "/" + name
                    guard file.exists(dataset) else { throw mismatch(dataset, "missing") }
                    let stored = try file.read(dataset, as: T.self)
                    guard stored.shape == shape, same(stored.values, values) else { throw mismatch(dataset, "shape \(stored.shape) or values") }
                }
                let bitwise: ([Float], [Float]) -> Bool = { $0.map(\.bitPattern) == $1.map(\.bitPattern) }
                try check("weight", layer.weight, shape: layer.weightShape)
                try check("weight_scale", layer.weightParameters.map(\.scale), shape: [layer.weightParameters.count], same: bitwise)
                try check("weight_zero_point", layer.weightParameters.map(\.zeroPoint), shape: [layer.weightParameters.count])
                try check("bias", layer.bias, shape: [layer.bias.count])
                for (name, p) in [("input", layer.input), ("output", layer.output)] {
                    try check(name + "_scale", [p.scale], shape: [], same: bitwise)
                    try check(name + "_zero_point", [p.zeroPoint], shape: [])
                }
            }
            let stored = try datasetGroups(under: "/quantization", in: file)
            if let extra = stored.subtracting(expectedGroups).sorted().first { throw mismatch(extra, "a layer the model does not have") }
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw .invalidContent(file: path, path: "/quantization", detail: "\(error)")
        }
    }

    /// The groups under `root` that hold datasets (a layer's group), as absolute paths.
    private static func datasetGroups(under root: String, in file: HDF5File) throws -> Set<String> {
        var found: Set<String> = []
        for member in try file.members(of: root) {
            let child = root + "/" + member
            switch file.kind(of: child) {
            case .dataset?: found.insert(root)
            case .group?: found.formUnion(try datasetGroups(under: child, in: file))
            default: break
            }
        }
        return found
    }
}
