import ArgumentParser

@main
struct Minnow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "minnow",
        abstract: "Train, compress and benchmark small CNNs on the CPU.",
        discussion: """
            Minnow trains teacher and student CNNs (ResNet, MobileNet, SqueezeNet) on Fashion-MNIST
            and CIFAR-10-format data, and measures what compression costs in accuracy and buys in speed.
            Run `minnow <command> --help` for each command's options.
            """,
        subcommands: [Train.self, Distill.self, Eval.self, Inspect.self, Predict.self, Bench.self])
}
