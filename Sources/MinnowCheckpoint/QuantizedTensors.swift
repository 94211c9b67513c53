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
}
