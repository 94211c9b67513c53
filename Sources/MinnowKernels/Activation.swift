import QuantMath
import RealModule

/// Elementwise activation kernels: one specialized, vectorizable loop per function (a closure
/// called per element costs several times the memory traffic), split over `ThreadPool.shared`.
/// `slope` is leaky ReLU's negative slope (ignored by the others).
extension ActivationFunction {
    /// Elements per parallel chunk.
    static let grain = 1 << 15

    /// `y[i] = f(x[i])` for `i < count`.
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, slope: Float = Self.defaultSlope) {
        switch self {
        case .identity: Self.run(Identity.self, 0, x, y, count)
        case .relu: Self.run(ReLU.self, 0, x, y, count)
        case .relu6: Self.run(ReLU6.self, 0, x, y, count)
        case .leakyRelu: Self.run(LeakyReLU.self, slope, x, y, count)
        case .hardswish: Self.run(Hardswish.self, 0, x, y, count)
        case .sigmoid: Self.run(Sigmoid.self, 0, x, y, count)
        case .tanh: Self.run(Tanh.self, 0, x, y, count)
        case .silu: Self.run(SiLU.self, 0, x, y, count)
        }
    }

    /// `dx[i] = dy[i] * f'(x[i])`, with `y = f(x)` the forward output (some derivatives use it).
    public func backward(
        input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
        inputGradient dx: UnsafeMutablePointer<Float>, count: Int, slope: Float = Self.defaultSlope
    ) {
        switch self {
        case .identity: Self.runBackward(Identity.self, 0, x, y, dy, dx, count)
        case .relu: Self.runBackward(ReLU.self, 0, x, y, dy, dx, count)
        case .relu6: Self.runBackward(ReLU6.self, 0, x, y, dy, dx, count)
        case .leakyRelu: Self.runBackward(LeakyReLU.self, slope, x, y, dy, dx, count)
        case .hardswish: Self.runBackward(Hardswish.self, 0, x, y, dy, dx, count)
        case .sigmoid: Self.runBackward(Sigmoid.self, 0, x, y, dy, dx, count)
        case .tanh: Self.runBackward(Tanh.self, 0, x, y, dy, dx, count)
        case .silu: Self.runBackward(SiLU.self, 0, x, y, dy, dx, count)
        }
    }

    private static func run<F: ElementwiseFunction>(
        _: F.Type, _ parameter: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        ThreadPool.shared.parallelFor(range: count, grain: grain) { range in
            for i in range { y[i] = F.value(x[i], parameter) }
        }
    }

    private static func runBackward<F: ElementwiseFunction>(
        _: F.Type, _ parameter: Float, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
        _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        ThreadPool.shared.parallelFor(range: count, grain: grain) { range in
            for i in range { dx[i] = dy[i] * F.derivative(x[i], y[i], parameter) }
        }
    }
}

/// An activation and its derivative in terms of the input `x`, the output `y` and a parameter.
private protocol ElementwiseFunction {
    static func value(_ x: Float, _ parameter: Float) -> Float
    static func derivative(_ x: Float, _ y: Float, _ parameter: Float) -> Float
}

private enum Identity: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float, _: Float) -> Float { x }
    @inline(__always) static func derivative(_: Float, _: Float, _: Float) -> Float { 1 }
}

private enum ReLU: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float, _: Float) -> Float { Swift.max(x, 0) }
    @inline(__always) static func derivative(_ x: Float, _: Float, _: Float) -> Float { x > 0 ? 1 : 0 }
}

private enum ReLU6: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float, _: Float) -> Float { Swift.min(Swift.max(x, 0), 6) }
    @inline(__always) static func derivative(_ x: Float, _: Float, _: Float) -> Float { x > 0 && x < 6 ? 1 : 0 }
}

private enum LeakyReLU: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float, _ slope: Float) -> Float { x > 0 ? x : slope * x }
    @inline(__always) static func derivative(_ x: Float, _: Float, _ slope: Float) -> Float { x > 0 ? 1 : slope }
}

/// `x * relu6(x + 3) / 6`; derivative as PyTorch: 0 up to -3, `x / 3 + 0.5` strictly inside, 1 from 3.
private enum Hardswish: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float, _: Float) -> Float {
        x * Swift.min(Swift.max(x + 3, 0), 6) / 6
    }
    @inline(__always) static func derivative(_ x: Float, _: Float, _: Float) -> Float {
        x <= -3 ? 0 : (x < 3 ? x / 3 + 0.5 : 1)
    }
}

private enum Sigmoid: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float, _: Float) -> Float { 1 / (1 + Float.exp(-x)) }
    @inline(__always) static func derivative(_: Float, _ y: Float, _: Float) -> Float { y * (1 - y) }
}

private enum Tanh: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float, _: Float) -> Float { Float.tanh(x) }
    @inline(__always) static func derivative(_: Float, _ y: Float, _: Float) -> Float { 1 - y * y }
}

/// `x * sigmoid(x)`; derivative `s (1 + x (1 - s))` with `s = sigmoid(x)` (as PyTorch's silu_backward).
private enum SiLU: ElementwiseFunction {
    @inline(__always) static func value(_ x: Float, _: Float) -> Float { x / (1 + Float.exp(-x)) }
    @inline(__always) static func derivative(_ x: Float, _: Float, _: Float) -> Float {
        let s = 1 / (1 + Float.exp(-x))
        return s * (1 + x * (1 - s))
    }
}
