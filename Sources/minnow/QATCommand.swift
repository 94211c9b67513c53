import ArgumentParser
import Foundation
import MinnowOptions
import MinnowQuantization
import MinnowTraining
import MinnowWorkflows

struct QAT: MinnowCommand {
    static let configuration = CommandConfiguration(
        commandName: "qat",
        abstract: "Quantization-aware training of a float checkpoint to int8 (or int4 weights).",
        usage: "minnow qat <checkpoint> --out <dir> [<options>]\n       minnow qat --resume <run>",
        discussion: """
            Fine-tunes the checkpoint's model as its integer form computes it: the traced graph \
            replayed with batch norms folded into their convolutions (batch statistics until \
            --freeze-bn-epoch, with PyTorch's ConvBn correction), ReLU/ReLU6 fused, weights \
            fake-quantized per output channel and every activation the integer model keeps \
            fake-quantized per tensor. Ranges start from --calibrate training images and then move \
            as moving averages until --freeze-observers-epoch; with --method lsq every scale is \
            learned instead (LSQ, Esser et al. 2020). --teacher adds Hinton KD from a float \
            teacher (--temperature, --alpha).

            Unless given: 3 epochs, SGD with Nesterov momentum, a cosine schedule from --lr \
            0.01, weight decay 5e-4, batches of 128; both freezes after max(1, epochs - 1) \
            epochs.

            The run folder is that of minnow train (last.h5 and best.h5 are quantized \
            checkpoints: minnow eval evaluates them in integer arithmetic), plus \
            quantization-report.txt and quantization.json with the final fp32, fake-quant and \
            integer top-1 and the per-layer report. --resume RUN continues a QAT run exactly. \
            See docs/quantization.md.

            Example:
              minnow qat runs/kd/best.h5 --teacher runs/teacher/best.h5 \\
                --epochs 3 --out runs/kd-qat
            """)

    @Argument(help: "A Minnow checkpoint (.h5) of a float model.") var checkpoint: String?
    @OptionGroup var qat: QATOptions
    @OptionGroup var tuning: FineTuningOptions

    func validate() throws {
        try tuning.validate(checkpoint: checkpoint)
    }

    func execute() throws {
        let run = try tuning.run.resume.map(resumedRun) ?? newRun()
        let (quantized, start) = try QuantizationWorkflow.finished(run, dataDirectory: tuning.training.dataDirectory)
        let report = try QuantizationReport(quantized, start: start, testImages: nil)
        print(report.text)
        try report.write(to: run.directory, extra: ["method": "qat-\(quantized.scheme.method.rawValue)", "weight_bits": "\(quantized.scheme.weightBits)"])
        print("run folder: \(run.directory.path)")
    }

    /// Starts a QAT run from the float checkpoint, trains it, and returns its training run.
    private func newRun() throws -> TrainingRun {
        let start = try CheckpointStart(checkpoint: URL(fileURLWithPath: checkpoint!), dataDirectory: tuning.training.dataDirectory)
        let setup = try tuning.setup(model: start.config)
        let scheme = try qat.scheme(setup: setup, trainImages: start.train.count), calibrate = qat.quantization.calibrate
        print("\(checkpoint!): quantization-aware training (\(scheme.method.rawValue), \(scheme.weightBits)-bit weights), \(calibrate) calibration images; freezes at steps \(scheme.freezeObserversAfter!) (observers), \(scheme.freezeBatchNormAfter!) (batch norms)")
        let fineTuning = try QuantizationWorkflow.startQAT(start, scheme: scheme, calibrationImages: calibrate, setup: setup)
        try fineTuning.train(observer: ProgressPrinter(style: tuning.training.progress))
        return fineTuning.run
    }

    /// Continues a QAT run (plain or distilled) where its checkpoint left off.
    private func resumedRun(_ location: String) throws -> TrainingRun {
        let fineTuning = try FineTuning.resume(from: URL(fileURLWithPath: location), dataDirectory: tuning.training.dataDirectory)
        try printResumed(tuning.run.prepareResumed(fineTuning.run))
        try fineTuning.train(observer: ProgressPrinter(style: tuning.training.progress))
        return fineTuning.run
    }
}
