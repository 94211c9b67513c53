// swift-tools-version:6.1
// A program outside Minnow that uses only its int8 runtime product: what an app embedding the
// runtime looks like. Built and run by .ci/run.
import PackageDescription

let package = Package(
    name: "RuntimeDemo",
    dependencies: [.package(name: "Minnow", path: "../..")],
    targets: [
        .executableTarget(name: "RuntimeDemo", dependencies: [.product(name: "MinnowRuntime", package: "Minnow"), .product(name: "QuantMath", package: "Minnow")]),
    ]
)
