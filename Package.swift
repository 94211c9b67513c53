// swift-tools-version:6.1
import Foundation
import PackageDescription

// Hot kernels need a CPU target: Swift's default code generation is SSE2-only and loses
// 10-40x on them (see docs/performance.md). `MINNOW_TARGET_CPU` picks the CPU
// (default `native`); set it to `generic` for a portable build (baseline x86-64).
let targetCPU = ProcessInfo.processInfo.environment["MINNOW_TARGET_CPU"] ?? "native"
// swiftc's C importer knows CPU names, not the x86-64 levels (x86-64-v3 …): a level builds Swift for
// the first CPU that has its vector set (C code takes the level itself).
let swiftTargetCPU = ["x86-64-v2": "nehalem", "x86-64-v3": "haswell", "x86-64-v4": "skylake-avx512"][targetCPU] ?? targetCPU
let cpuFlags: [String] = targetCPU == "generic" ? [] : ["-target-cpu", swiftTargetCPU]

/// Flags for the kernel target only: raw-pointer loops, no bounds checks, a real CPU target.
/// Shape checks live in `MinnowTensor`, which keeps the default `-O` and its preconditions.
let kernelSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"] + cpuFlags, .when(configuration: .release)),
]
let numericSettings: [SwiftSetting] = [
    .unsafeFlags(cpuFlags, .when(configuration: .release)),
]

let package = Package(
    name: "Minnow",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "QuantMath", targets: ["QuantMath"]),
        .library(name: "MinnowRuntime", targets: ["MinnowRuntime"]),
        // The runtime's C interface (include/minnow_runtime.h) as a shared library for C programs.
        .library(name: "MinnowRuntimeC", type: .dynamic, targets: ["MinnowRuntimeC"]),
        .library(name: "MinnowTensor", targets: ["MinnowTensor"]),
        .library(name: "MinnowNN", targets: ["MinnowNN"]),
        .library(name: "MinnowModels", targets: ["MinnowModels"]),
        .library(name: "MinnowTraining", targets: ["MinnowTraining"]),
        .executable(name: "minnow", targets: ["minnow"]),
        .library(name: "MinnowData", targets: ["MinnowData"]),
        .library(name: "MinnowDistillation", targets: ["MinnowDistillation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // Int8/int4 quantization arithmetic shared by training and the runtime: a leaf, no Foundation.
        .target(name: "QuantMath"),
        // The int8 runtime: the .mnw format, planner, interpreter, one unit per operator (Operators/) with
        // its reference kernel; QuantMath and the C kernels only.
        .target(name: "MinnowRuntime", dependencies: ["QuantMath", "CRuntimeKernels"], swiftSettings: numericSettings),
        // The C interface: @_cdecl functions over the runtime, with the types of include/minnow_runtime.h.
        .systemLibrary(name: "CMinnowRuntimeAPI"),
        .target(name: "MinnowRuntimeC", dependencies: ["MinnowRuntime", "QuantMath", "CMinnowRuntimeAPI"], swiftSettings: numericSettings),
        // The runtime's SIMD kernels in C by operator family and instruction-set level (each function with its
        // own target attribute), reached through one table per level that a CPU check picks at run time.
        .target(name: "CRuntimeKernels"),

        // Counts the process's heap allocations (replaces malloc & co. in the executables that link it): what
        // shows that the runtime's inference allocates nothing.
        .target(name: "CAllocationCounter"),
        // What the build targeted (MINNOW_TARGET_CPU and the vector instruction set it allows), for benchmark reports.
        .target(name: "CBuildInfo", cSettings: [
            .define("MINNOW_TARGET_CPU", to: "\"\(targetCPU)\""),
            .unsafeFlags(targetCPU == "generic" ? [] : ["-march=\(targetCPU)"], .when(configuration: .release)),
        ]),

        // C libraries.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),

        // Raw-pointer fp32 kernels (no tensors, no shape checks): conv, depthwise, pooling, BN.
        .target(
            name: "MinnowKernels",
            dependencies: ["CBLAS", "CBuildInfo", "QuantMath", .product(name: "Numerics", package: "swift-numerics")],
            swiftSettings: kernelSettings),
        // Tensors, shapes, reverse-mode autodiff, differentiable ops.
        .target(
            name: "MinnowTensor",
            dependencies: ["MinnowKernels", "QuantMath", "CBLAS", .product(name: "Numerics", package: "swift-numerics")],
            swiftSettings: numericSettings),
        // Module abstraction, layers, optimizers, schedules.
        .target(name: "MinnowNN", dependencies: ["MinnowTensor", .product(name: "Numerics", package: "swift-numerics")],
                swiftSettings: numericSettings),
        // Model zoo: ResNet, MobileNetV1/V2, SqueezeNet, plain CNN; named presets.
        .target(name: "MinnowModels", dependencies: ["MinnowNN"]),
        // Training loop, evaluation, metrics logs, progress, run folders.
        .target(name: "MinnowTraining", dependencies: ["MinnowNN", "MinnowModels", "MinnowData", "MinnowCheckpoint", "MinnowHDF5", "MinnowQuantization",
                                                    "MinnowTensor"]),
        // A safe Swift API over HDF5 files (groups, numeric datasets, strings, attributes, atomic writes); no tensors.
        .target(name: "MinnowHDF5", dependencies: ["CHDF5"]),
        // Checkpoints in the layout of docs/checkpoint-format.md: model, optimizer, training state.
        .target(name: "MinnowCheckpoint", dependencies: ["MinnowHDF5", "MinnowNN", "MinnowModels", "MinnowQuantization", "MinnowTensor"]),
        // Knowledge distillation: KD/DKD/FitNets/attention-transfer losses, teachers, teacher-logit cache, runs.
        .target(name: "MinnowDistillation",
                dependencies: ["MinnowTraining", "MinnowCheckpoint", "MinnowHDF5", "MinnowData", "MinnowModels", "MinnowNN", "MinnowTensor"]),
        // Quantization: observers, PTQ calibration, QAT (QuantizedModel), integer evaluation (IntegerModel) on QuantMath.
        .target(name: "MinnowQuantization", dependencies: ["MinnowKernels", "MinnowNN", "MinnowRuntime", "MinnowTensor", "QuantMath"], swiftSettings: numericSettings),
        // Structured pruning: channel groups from the traced graph, criteria, targets, schedules, physical removal in training.
        .target(name: "MinnowPruning", dependencies: ["MinnowData", "MinnowNN", "MinnowQuantization", "MinnowTensor", "MinnowTraining"]),
        // Workflows that combine the techniques (fine-tuning with an optional teacher and its resume, the
        // objectives a run folder can hold), callable from Swift; the CLI and experiment runners call them.
        .target(name: "MinnowWorkflows", dependencies: ["MinnowCheckpoint", "MinnowData", "MinnowDistillation", "MinnowModels", "MinnowNN", "MinnowPruning",
                                                        "MinnowQuantization", "MinnowRuntime", "MinnowTensor", "MinnowTraining", "QuantMath"]),
        // The options of the commands that train, compress, export and evaluate, as argument groups with their
        // ranges and their mapping to the library's settings: one vocabulary that the CLI and experiment files parse.
        .target(name: "MinnowOptions", dependencies: ["MinnowData", "MinnowDistillation", "MinnowModels", "MinnowNN", "MinnowPruning",
                                                      "MinnowQuantization", "MinnowRuntime", "MinnowTensor", "MinnowTraining", "MinnowWorkflows",
                                                      .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Experiments as files: YAML experiment files (Yams) resolved into stage runs (sweeps, seeds, inputs), a
        // runner that caches each run by its options and inputs and resumes killed ones, results tables and reports.
        .target(name: "MinnowExperiments", dependencies: ["MinnowBench", "MinnowCheckpoint", "MinnowData", "MinnowNN", "MinnowPruning", "MinnowTraining", "MinnowWorkflows",
                                                          .product(name: "Yams", package: "Yams")]),
        // Op and training benchmarks behind `minnow bench`.
        .target(name: "MinnowBench", dependencies: ["MinnowTensor", "MinnowNN", "MinnowModels", "MinnowKernels", "MinnowDistillation", "MinnowQuantization",
                                                    "MinnowTraining", "MinnowData", "MinnowRuntime", "CAllocationCounter", "CBuildInfo"]),
        // The command-line tool: parses arguments, calls the modules.
        .executableTarget(
            name: "minnow",
            dependencies: [
                "MinnowTensor", "MinnowNN", "MinnowModels", "MinnowData", "MinnowTraining", "MinnowBench", "MinnowCheckpoint", "MinnowHDF5",
                "MinnowDistillation", "MinnowQuantization", "MinnowPruning", "QuantMath", "MinnowRuntime", "MinnowWorkflows", "MinnowOptions",
                "MinnowExperiments", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Data sets: IDX, CIFAR-10, arrays (.npy, HDF5) and image folders (PNG, JPEG); batches,
        // augmentation, prefetching.
        .target(name: "MinnowData", dependencies: ["MinnowTensor", "MinnowHDF5", "CZlib", "CPNG", "CTurboJPEG"],
                swiftSettings: numericSettings),
        // Gradient checks, golden fixtures and tolerances shared by the test targets.
        .target(name: "MinnowTestSupport", dependencies: ["MinnowTensor"], path: "Sources/MinnowTestSupport"),

        // The tests of the two leaf modules borrow MinnowTensor's seeded generator (the modules themselves stay leaves).
        .testTarget(name: "QuantMathTests", dependencies: ["QuantMath", "MinnowTensor"]),
        .testTarget(name: "MinnowRuntimeTests",
                    dependencies: ["MinnowRuntime", "QuantMath", "MinnowTensor", "MinnowTestSupport", "CAllocationCounter", "CRuntimeKernels"]),
        .testTarget(name: "MinnowQuantizationTests", dependencies: ["MinnowQuantization", "MinnowModels", "MinnowNN", "MinnowRuntime", "MinnowTensor", "QuantMath"]),
        .testTarget(name: "MinnowPruningTests",
                    dependencies: ["MinnowPruning", "MinnowData", "MinnowDistillation", "MinnowModels", "MinnowNN", "MinnowQuantization", "MinnowTensor",
                                   "MinnowTestSupport", "MinnowTraining"]),
        .testTarget(name: "MinnowTensorTests", dependencies: ["MinnowTensor", "MinnowTestSupport"]),
        .testTarget(name: "MinnowNNTests", dependencies: ["MinnowNN", "MinnowModels", "MinnowTestSupport"]),
        .testTarget(name: "MinnowTrainingTests",
                    dependencies: ["MinnowTraining", "MinnowData", "MinnowModels", "MinnowCheckpoint", "MinnowNN", "MinnowQuantization", "MinnowRuntime",
                                   "MinnowTensor", "MinnowTestSupport"]),
        .testTarget(name: "MinnowDataTests", dependencies: ["MinnowData", "MinnowHDF5", "MinnowTestSupport", "CPNG", "CTurboJPEG"]),
        .testTarget(name: "MinnowHDF5Tests", dependencies: ["MinnowHDF5", "MinnowCheckpoint", "MinnowTensor", "MinnowTestSupport"]),
        .testTarget(name: "MinnowDistillationTests",
                    dependencies: ["MinnowDistillation", "MinnowTraining", "MinnowCheckpoint", "MinnowHDF5", "MinnowData",
                                   "MinnowModels", "MinnowNN", "MinnowTensor", "MinnowTestSupport"]),
        .testTarget(name: "MinnowCheckpointTests",
                    dependencies: ["MinnowCheckpoint", "MinnowData", "MinnowHDF5", "MinnowKernels", "MinnowModels", "MinnowNN", "MinnowTensor",
                                   "MinnowTestSupport"]),
        .testTarget(name: "MinnowWorkflowsTests",
                    dependencies: ["MinnowWorkflows", "MinnowData", "MinnowDistillation", "MinnowModels", "MinnowNN", "MinnowPruning", "MinnowTensor",
                                   "MinnowTestSupport", "MinnowTraining"]),
        .testTarget(name: "MinnowExperimentsTests", dependencies: ["MinnowExperiments"]),
        .testTarget(name: "MinnowOptionsTests",
                    dependencies: ["MinnowOptions", "MinnowDistillation", "MinnowModels", "MinnowPruning", "MinnowQuantization", "MinnowTraining", "MinnowWorkflows",
                                   .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Runs the built `minnow` command (a dependency, so `swift test` builds it first): kills, resumes, bad files.
        .testTarget(name: "MinnowCLITests",
                    dependencies: ["minnow", "MinnowCheckpoint", "MinnowData", "MinnowHDF5", "MinnowModels", "MinnowNN", "MinnowQuantization", "MinnowTensor",
                                   "MinnowTestSupport", "MinnowTraining"]),
    ]
)
