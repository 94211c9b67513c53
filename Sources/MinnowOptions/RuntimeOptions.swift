import ArgumentParser

/// How `export` checks the file it writes.
public struct ExportOptions: ParsableArguments {
    public init() {}

    @Option(help: "Test images to check the exported model on (0: no check).") public var checkImages = 1000
    @Option(help: "Kernels the check runs: fastest, avx-vnni, avx2 or reference.") public var kernels: RuntimeKernels = .fastest

    public func validate() throws {
        try OptionCheck.within("--check-images", checkImages, 0...OptionCheck.maximumImages)
    }
}

/// How `bench model` times a model file in the runtime.
public struct RuntimeTimingOptions: ParsableArguments {
    public init() {}

    @Option(help: "Timed inferences (1000 to 10^7).") public var runs = 2000
    @Option(help: "Untimed inferences first (at most 10^7).") public var warmup = 200
    @Option(help: "Images classified in a row for the throughput (at most 10^6).") public var batch = 32
    @Option(help: "Kernels: fastest (what this CPU allows), avx-vnni, avx2 (x86-64), neon-i8mm, neon-dot, neon (AArch64) or reference.") public var kernels: RuntimeKernels = .fastest

    public func validate() throws {
        try OptionCheck.within("--runs", runs, 1000...10_000_000)
        try OptionCheck.within("--warmup", warmup, 0...10_000_000)
        try OptionCheck.within("--batch", batch, 1...1_000_000)
    }
}
