/// Elementwise arithmetic kernels: one specialized, vectorizable loop per operation, split over
/// `ThreadPool.shared` (a closure called per element would run 10-20x slower).
public enum BinaryOperation: Sendable, Equatable {
    case add, subtract, multiply, divide, maximum, minimum

    /// Elements per parallel chunk.
    static let grain = 1 << 15

    /// `y[i] = a[i] op b[i]`.
    public func apply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .add: Self.zip(Add.self, a, b, y, count)
        case .subtract: Self.zip(Subtract.self, a, b, y, count)
        case .multiply: Self.zip(Multiply.self, a, b, y, count)
        case .divide: Self.zip(Divide.self, a, b, y, count)
        case .maximum: Self.zip(Maximum.self, a, b, y, count)
        case .minimum: Self.zip(Minimum.self, a, b, y, count)
        }
    }

    /// `y[r * n + j] = a[r * n + j] op b[j]` for `rows` rows of `n`: a row vector broadcast down a matrix
    /// (bias adds, per-channel scales over NHWC).
    public func applyRows(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
        switch self {
        case .add: Self.rows(Add.self, a, b, y, rows, n)
        case .subtract: Self.rows(Subtract.self, a, b, y, rows, n)
        case .multiply: Self.rows(Multiply.self, a, b, y, rows, n)
        case .divide: Self.rows(Divide.self, a, b, y, rows, n)
        case .maximum: Self.rows(Maximum.self, a, b, y, rows, n)
        case .minimum: Self.rows(Minimum.self, a, b, y, rows, n)
        }
    }

    /// `y[i] = a[i] op s` (or `s op a[i]` when `scalarFirst`).
    public func apply(_ a: UnsafePointer<Float>, scalar s: Float, scalarFirst: Bool, _ y: UnsafeMutablePointer<Float>, count: Int) {
        switch (self, scalarFirst) {
        case (.add, _): Self.scalar(Add.self, a, s, false, y, count)
        case (.subtract, let first): Self.scalar(Subtract.self, a, s, first, y, count)
        case (.multiply, _): Self.scalar(Multiply.self, a, s, false, y, count)
        case (.divide, let first): Self.scalar(Divide.self, a, s, first, y, count)
        case (.maximum, _): Self.scalar(Maximum.self, a, s, false, y, count)
        case (.minimum, _): Self.scalar(Minimum.self, a, s, false, y, count)
        }
    }

    private static func zip<O: ArithmeticFunction>(
        _: O.Type, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        ThreadPool.shared.parallelFor(range: count, grain: grain) { range in
            for i in range { y[i] = O.apply(a[i], b[i]) }
        }
    }

    private static func rows<O: ArithmeticFunction>(
        _: O.Type, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ rows: Int, _ n: Int
    ) {
        ThreadPool.shared.parallelFor(range: rows, grain: max(1, grain / max(n, 1))) { range in
            for r in range {
                let (ar, yr) = (a + r * n, y + r * n)
                for j in 0..<n { yr[j] = O.apply(ar[j], b[j]) }
            }
        }
    }

    private static func scalar<O: ArithmeticFunction>(
        _: O.Type, _ a: UnsafePointer<Float>, _ s: Float, _ scalarFirst: Bool, _ y: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        ThreadPool.shared.parallelFor(range: count, grain: grain) { range in
            if scalarFirst {
                for i in range { y[i] = O.apply(s, a[i]) }
            } else {
                for i in range { y[i] = O.apply(a[i], s) }
            }
        }
    }
}

/// `y[i] = x[i] * scale + shift` (scaling, negation, adding a constant).
public func affineMap(_ x: UnsafePointer<Float>, scale: Float, shift: Float, _ y: UnsafeMutablePointer<Float>, count: Int) {
    ThreadPool.shared.parallelFor(range: count, grain: BinaryOperation.grain) { range in
        for i in range { y[i] = x[i] * scale + shift }
    }
}

private protocol ArithmeticFunction {
    static func apply(_ a: Float, _ b: Float) -> Float
}

private enum Add: ArithmeticFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
private enum Subtract: ArithmeticFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
private enum Multiply: ArithmeticFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
private enum Divide: ArithmeticFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }
private enum Maximum: ArithmeticFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { Swift.max(a, b) } }
private enum Minimum: ArithmeticFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { Swift.min(a, b) } }
