import Foundation
import MinnowTensor
import XCTest

/// Finite-difference gradient checks and golden-fixture loading shared by Minnow's test targets.
public enum GradientCheck {
    /// Checks the autodiff gradients of `f` at `inputs` against central finite differences.
    ///
    /// The scalar checked is `sum(f(inputs) * weights)` with fixed random weights (so a gradient
    /// that is wrong anywhere changes the result), accumulated in Double. For each input element
    /// it compares the analytic derivative with `(L(x + h) - L(x - h)) / 2h`, and fails when
    /// `|analytic - numeric| > atol + rtol * |numeric|`. Elements where `f` has a kink within `h`
    /// (ReLU at 0, max ties) should be avoided by the caller's choice of inputs.
    public static func check(
        _ inputs: [Tensor], step: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 2e-3,
        file: StaticString = #filePath, line: UInt = #line,
        _ f: ([Tensor]) -> Tensor
    ) {
        var generator = SeededGenerator(seed: 1234)
        let probe = withoutGrad { f(inputs) }
        let weights = Tensor.randomUniform(probe.shape, low: 0.5, high: 1.5, generator: &generator)
        let weightValues = weights.scalars.map(Double.init)
        func loss(_ xs: [Tensor]) -> Double {
            let y = withoutGrad { f(xs) }.scalars
            return zip(y, weightValues).reduce(0) { $0 + Double($1.0) * $1.1 }
        }
        let leaves = inputs.map { $0.requiringGrad() }
        (f(leaves) * weights).sum().backward()
        for (index, leaf) in leaves.enumerated() {
            guard let analytic = leaf.grad?.scalars else {
                XCTFail("input \(index): no gradient reached it", file: file, line: line)
                continue
            }
            var worst = 0.0
            for element in 0..<leaf.count {
                var plus = inputs, minus = inputs
                plus[index].withUnsafeMutablePointer { $0[element] += step }
                minus[index].withUnsafeMutablePointer { $0[element] -= step }
                let numeric = (loss(plus) - loss(minus)) / (2 * Double(step))
                let error = abs(Double(analytic[element]) - numeric)
                let allowed = atol + rtol * abs(numeric)
                worst = max(worst, error / allowed)
                if error > allowed {
                    XCTFail("input \(index) element \(element) (shape \(leaf.shape)): analytic \(analytic[element]) vs numeric \(numeric)",
                            file: file, line: line)
                    return
                }
            }
        }
    }
}

/// Golden values produced by a generator script under Tests/Fixtures (run by hand with PyTorch).
public struct Fixture {
    /// Named tensors, in the layouts Minnow uses (NHWC activations, HWIO weights).
    public let tensors: [String: Tensor]

    /// Loads `Tests/Fixtures/<name>.json`: `{"tensor name": {"shape": [...], "data": [...]}, ...}`.
    public init(_ name: String, file: StaticString = #filePath) throws {
        var url = URL(fileURLWithPath: "\(file)")
        while url.lastPathComponent != "Tests" && url.pathComponents.count > 1 { url.deleteLastPathComponent() }
        if url.lastPathComponent != "Tests" {
            // Called from Sources/MinnowTestSupport: the package root is two levels up.
            url = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Tests")
        }
        let path = url.appendingPathComponent("Fixtures").appendingPathComponent("\(name).json")
        let data = try Data(contentsOf: path)
        let decoded = try JSONDecoder().decode([String: Entry].self, from: data)
        tensors = decoded.mapValues { Tensor(shape: $0.shape, scalars: $0.data) }
    }

    private struct Entry: Decodable {
        let shape: [Int]
        let data: [Float]
    }

    /// The tensor called `name`. A missing one throws, which fails the test that asked for it
    /// (and only that test).
    public subscript(name: String) -> Tensor {
        get throws(FixtureError) {
            guard let tensor = tensors[name] else { throw FixtureError(name: name, available: tensors.keys.sorted()) }
            return tensor
        }
    }
}

/// A golden fixture has no tensor of the name a test asked for: the fixture and the test disagree
/// (regenerate the fixture with its script, or fix the name).
public struct FixtureError: Error, CustomStringConvertible {
    public let name: String
    public let available: [String]
    public var description: String { "fixture has no tensor '\(name)'; it has \(available)" }
}

/// Asserts two tensors have the same shape and agree within `atol + rtol * |expected|` everywhere.
public func assertClose(
    _ actual: Tensor, _ expected: Tensor, rtol: Float = 1e-4, atol: Float = 1e-5,
    _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.shape == expected.shape else {
        XCTFail("\(message): shape \(actual.shape) != expected \(expected.shape)", file: file, line: line)
        return
    }
    let a = actual.scalars, e = expected.scalars
    for i in 0..<a.count where !(abs(a[i] - e[i]) <= atol + rtol * abs(e[i])) {
        XCTFail("\(message): element \(i) is \(a[i]), expected \(e[i]) (shape \(actual.shape))", file: file, line: line)
        return
    }
}
