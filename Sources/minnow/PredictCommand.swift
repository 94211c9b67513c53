import ArgumentParser
import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowOptions
import MinnowTensor
import MinnowTraining

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a checkpoint's model on images from a .npy file and write its logits to a .npy file.",
        usage: "minnow predict <checkpoint> --input <npy> --output <npy> [<options>]",
        discussion: """
            The input holds float32 or float64 images [N, H, W, C] (NHWC; [N, H, W] for one \
            channel), already normalized as in training: (pixel / 255 - mean) / std. The output is \
            float32 logits [N, classes], computed in evaluation mode (batch-norm running statistics, \
            no dropout). experiments/checkpoint_to_pytorch.py uses it to check a PyTorch port of a \
            checkpoint.

            Example:
              minnow predict runs/mbv2/best.h5 --input images.npy --output logits.npy
            """)

    @Argument(help: "A Minnow checkpoint (.h5).") var checkpoint: String
    @Option(help: "Images, a .npy file.") var input: String
    @Option(help: "Where to write the logits (.npy).") var output: String
    @Option(help: "Images per forward pass.") var batchSize = 256

    func validate() throws {
        try OptionCheck.within("--batch-size", batchSize, 1...OptionCheck.maximumBatch)
    }

    func run() throws {
        do {
            let images = try NPY.read(URL(fileURLWithPath: input))
            let logits: Tensor
            do {
                logits = try CheckpointPrediction.logits(checkpoint: URL(fileURLWithPath: checkpoint), images: images, batchSize: batchSize)
            } catch TrainingError.mismatch(let message) {
                throw CLIError(message: "\(input): \(message)")
            }
            try NPY.write(logits, to: URL(fileURLWithPath: output))
            print("\(output): logits \(logits.shape) of \(checkpoint)")
        } catch let error as CustomStringConvertible & Error {
            throw CLIError(message: error.description)
        }
    }
}
