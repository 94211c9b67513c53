import RealModule
import MinnowKernels

/// Elements per chunk above which elementwise loops are split over the thread pool.
let elementwiseGrain = 1 << 15

// MARK: - Loops

extension Tensor {
    /// `f` applied to every element (no autodiff).
    @inline(__always)
    func mapValues(_ f: (Float) -> Float) -> Tensor {
        let n = count
        return withUnsafePointer { x in
            Tensor(shape: shape) { y in
                ThreadPool.shared.parallelFor(range: n, grain: elementwiseGrain) { range in
                    for i in range { y[i] = f(x[i]) }
                }
            }
        }
    }

    /// `f(self[i], other[i])` for two tensors of the same shape (no autodiff).
    @inline(__always)
    func zipValues(_ other: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        require(shape == other.shape, "zipValues: shapes \(shape) and \(other.shape) differ")
        let n = count
        return withUnsafePointer { a in
            other.withUnsafePointer { b in
                Tensor(shape: shape) { y in
                    ThreadPool.shared.parallelFor(range: n, grain: elementwiseGrain) { range in
                        for i in range { y[i] = f(a[i], b[i]) }
                    }
                }
            }
        }
    }

    /// `f(a, b)` with NumPy broadcasting (no autodiff).
    @inline(__always)
    static func broadcastValues(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape { return a.zipValues(b, f) }
        let shape = checked { () throws(ShapeError) in try Shapes.broadcast(a.shape, b.shape, op: op) }
        if b.count == 1, shape == a.shape {
            let scalar = b.storage.pointer[0]
            return a.mapValues { f($0, scalar) }
        }
        if a.count == 1, shape == b.shape {
            let scalar = a.storage.pointer[0]
            return b.mapValues { f(scalar, $0) }
        }
        let stridesA = broadcastStrides(a.shape, to: shape)
        let stridesB = broadcastStrides(b.shape, to: shape)
        let rank = shape.count
        let inner = shape[rank - 1]
        let innerA = stridesA[rank - 1], innerB = stridesB[rank - 1]
        let outer = Tensor.elementCount(shape) / Swift.max(inner, 1)
        return a.withUnsafePointer { pa in
            b.withUnsafePointer { pb in
                Tensor(shape: shape) { y in
                    ThreadPool.shared.parallelFor(range: outer, grain: Swift.max(1, elementwiseGrain / Swift.max(inner, 1))) { rows in
                        for row in rows {
                            var offsetA = 0, offsetB = 0, rest = row
                            for axis in stride(from: rank - 2, through: 0, by: -1) {
                                let i = rest % shape[axis]
                                rest /= shape[axis]
                                offsetA += i * stridesA[axis]
                                offsetB += i * stridesB[axis]
                            }
                            let out = y + row * inner
                            for j in 0..<inner { out[j] = f(pa[offsetA + j * innerA], pb[offsetB + j * innerB]) }
                        }
                    }
                }
            }
        }
    }

    /// `a op b` with broadcasting through the specialized kernels of `BinaryOperation`: same shapes,
    /// a scalar on either side, and a trailing row (`[..., C] op [C]`) take vectorized loops; other
    /// broadcasts take the general strided loop.
    static func arithmetic(_ a: Tensor, _ b: Tensor, _ operation: BinaryOperation, name: String) -> Tensor {
        let shape = a.shape == b.shape ? a.shape
            : checked { () throws(ShapeError) in try Shapes.broadcast(a.shape, b.shape, op: name) }
        let commutative = operation != .subtract && operation != .divide
        return a.withUnsafePointer { pa in
            b.withUnsafePointer { pb in
                if a.shape == b.shape {
                    return Tensor(shape: shape) { operation.apply(pa, pb, $0, count: a.count) }
                }
                if b.count == 1, shape == a.shape {
                    return Tensor(shape: shape) { operation.apply(pa, scalar: pb[0], scalarFirst: false, $0, count: a.count) }
                }
                if a.count == 1, shape == b.shape {
                    return Tensor(shape: shape) { operation.apply(pb, scalar: pa[0], scalarFirst: true, $0, count: b.count) }
                }
                if shape == a.shape, isTrailingRow(b.shape, of: shape) {
                    return Tensor(shape: shape) { operation.applyRows(pa, pb, $0, rows: a.count / b.count, n: b.count) }
                }
                if commutative, shape == b.shape, isTrailingRow(a.shape, of: shape) {
                    return Tensor(shape: shape) { operation.applyRows(pb, pa, $0, rows: b.count / a.count, n: a.count) }
                }
                return broadcastValues(a, b, op: name) { x, y in
                    switch operation {
                    case .add: x + y
                    case .subtract: x - y
                    case .multiply: x * y
                    case .divide: x / y
                    case .maximum: Swift.max(x, y)
                    case .minimum: Swift.min(x, y)
                    }
                }
            }
        }
    }

    /// True when `row` (ignoring leading 1s) equals the trailing axes of `shape`.
    static func isTrailingRow(_ row: [Int], of shape: [Int]) -> Bool {
        let trimmed = Array(row.drop { $0 == 1 })
        return !trimmed.isEmpty && trimmed.count <= shape.count && Array(shape.suffix(trimmed.count)) == trimmed
    }

    /// Strides of `shape` inside `target` (right-aligned), 0 on broadcast axes.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        return (0..<target.count).map { axis in
            axis < offset || shape[axis - offset] == 1 ? 0 : own[axis - offset]
        }
    }

    /// Sums a broadcast gradient back down to `target` (the shape before broadcasting).
    public func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let offset = rank - target.count
        require(offset >= 0, "sumToShape: cannot reduce shape \(shape) to the larger rank of \(target)")
        var axes: [Int] = Array(0..<offset)
        for axis in offset..<rank where target[axis - offset] == 1 && shape[axis] != 1 { axes.append(axis) }
        return sum(axes: axes).reshaped(target)
    }
}

// MARK: - Binary ops with gradients

extension Tensor {
    /// Elementwise sum with broadcasting.
    public func adding(_ other: Tensor) -> Tensor {
        OpTracer.trace(.add, operands: [("inputs.0", self), ("inputs.1", other)],
                       shapes: { () throws(ShapeError) in _ = try Shapes.broadcast(shape, other.shape, op: "add") }) {
            let value = Tensor.arithmetic(self, other, .add, name: "add")
            let (shapeA, shapeB) = (shape, other.shape)
            return Tensor.record("add", value, inputs: [self, other]) { g in
                [g.sumToShape(shapeA), g.sumToShape(shapeB)]
            }
        }
    }

    /// Elementwise difference with broadcasting.
    public func subtracting(_ other: Tensor) -> Tensor {
        let value = Tensor.arithmetic(self, other, .subtract, name: "subtract")
        let (shapeA, shapeB) = (shape, other.shape)
        return Tensor.record("subtract", value, inputs: [self, other]) { g in
            [g.sumToShape(shapeA), g.negated().sumToShape(shapeB)]
        }
    }

    /// Elementwise product with broadcasting.
    public func multiplying(_ other: Tensor) -> Tensor {
        let value = Tensor.arithmetic(self, other, .multiply, name: "multiply")
        let (a, b) = (self.detached(), other.detached())
        let (needA, needB) = (requiresGrad, other.requiresGrad)
        return Tensor.record("multiply", value, inputs: [self, other]) { g in
            [needA ? Tensor.arithmetic(g, b, .multiply, name: "multiply").sumToShape(a.shape) : nil,
             needB ? Tensor.arithmetic(g, a, .multiply, name: "multiply").sumToShape(b.shape) : nil]
        }
    }

    /// Elementwise quotient with broadcasting.
    public func dividing(_ other: Tensor) -> Tensor {
        let value = Tensor.arithmetic(self, other, .divide, name: "divide")
        let (a, b) = (self.detached(), other.detached())
        let (needA, needB) = (requiresGrad, other.requiresGrad)
        return Tensor.record("divide", value, inputs: [self, other]) { g in
            let gA = Tensor.arithmetic(g, b, .divide, name: "divide")
            let gB: Tensor? = needB
                ? Tensor.arithmetic(gA, value.detached(), .multiply, name: "divide").negated().sumToShape(b.shape) : nil
            return [needA ? gA.sumToShape(a.shape) : nil, gB]
        }
    }

    /// Elementwise maximum with broadcasting; the gradient goes to the larger input (to `self` on ties).
    public func maximum(_ other: Tensor) -> Tensor {
        let value = Tensor.arithmetic(self, other, .maximum, name: "maximum")
        let (a, b) = (self.detached(), other.detached())
        return Tensor.record("maximum", value, inputs: [self, other]) { g in
            let pickA = Tensor.broadcastValues(a, b, op: "maximum") { $0 >= $1 ? 1 : 0 }
            let gA = Tensor.arithmetic(g, pickA, .multiply, name: "maximum")
            return [gA.sumToShape(a.shape), g.subtracting(gA).sumToShape(b.shape)]
        }
    }

    /// Elementwise negation.
    public func negated() -> Tensor {
        let value = affine(scale: -1, shift: 0)
        return Tensor.record("negate", value, inputs: [self]) { g in [g.negated()] }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { a.adding(b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.subtracting(b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.multiplying(b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.dividing(b) }
    public static prefix func - (a: Tensor) -> Tensor { a.negated() }

    public static func + (a: Tensor, b: Float) -> Tensor { a.adding(Tensor(b)) }
    public static func - (a: Tensor, b: Float) -> Tensor { a.subtracting(Tensor(b)) }
    public static func * (a: Tensor, b: Float) -> Tensor { a.scaled(by: b) }
    public static func / (a: Tensor, b: Float) -> Tensor { a.scaled(by: 1 / b) }
    public static func + (a: Float, b: Tensor) -> Tensor { Tensor(a).adding(b) }
    public static func - (a: Float, b: Tensor) -> Tensor { Tensor(a).subtracting(b) }
    public static func * (a: Float, b: Tensor) -> Tensor { b.scaled(by: a) }
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor(a).dividing(b) }

    /// `self * scale + shift` elementwise (no autodiff).
    func affine(scale: Float, shift: Float) -> Tensor {
        withUnsafePointer { x in Tensor(shape: shape) { affineMap(x, scale: scale, shift: shift, $0, count: count) } }
    }

    /// Every element times `factor`.
    public func scaled(by factor: Float) -> Tensor {
        let value = affine(scale: factor, shift: 0)
        return Tensor.record("scale", value, inputs: [self]) { g in [g.scaled(by: factor)] }
    }
}

// MARK: - Comparisons (not differentiable; 1 where true, 0 where false)

extension Tensor {
    /// 1 where `self == other` (broadcast), else 0.
    public func isEqual(to other: Tensor) -> Tensor { Tensor.broadcastValues(self, other, op: "isEqual") { $0 == $1 ? 1 : 0 } }
    /// 1 where `self < other` (broadcast), else 0.
    public func isLess(than other: Tensor) -> Tensor { Tensor.broadcastValues(self, other, op: "isLess") { $0 < $1 ? 1 : 0 } }
    /// 1 where `self > other` (broadcast), else 0.
    public func isGreater(than other: Tensor) -> Tensor { Tensor.broadcastValues(self, other, op: "isGreater") { $0 > $1 ? 1 : 0 } }
    /// True when the shapes match and every pair of elements differs by at most `atol + rtol * |other|`.
    public func isClose(to other: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6) -> Bool {
        guard shape == other.shape else { return false }
        let a = scalars, b = other.scalars
        return zip(a, b).allSatisfy { Swift.abs($0 - $1) <= atol + rtol * Swift.abs($1) }
    }
}

// MARK: - Unary math

extension Tensor {
    /// A unary op with derivative `derivative(x, y)` in terms of the input `x` and output `y`.
    @inline(__always)
    func unary(_ op: String, _ f: (Float) -> Float, derivative: @escaping (Float, Float) -> Float) -> Tensor {
        let value = mapValues(f)
        let input = detached()
        return Tensor.record(op, value, inputs: [self]) { g in
            let local = input.zipValues(value, derivative)
            return [g.zipValues(local, *)]
        }
    }

    /// e^x.
    public func exp() -> Tensor { unary("exp", { Float.exp($0) }, derivative: { _, y in y }) }
    /// Natural logarithm.
    public func log() -> Tensor { unary("log", { Float.log($0) }, derivative: { x, _ in 1 / x }) }
    /// Square root.
    public func sqrt() -> Tensor { unary("sqrt", { $0.squareRoot() }, derivative: { _, y in 0.5 / y }) }
    /// Absolute value (gradient 0 at 0).
    public func abs() -> Tensor { unary("abs", { Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
    /// x².
    public func squared() -> Tensor { unary("square", { $0 * $0 }, derivative: { x, _ in 2 * x }) }
    /// x^p for a constant exponent.
    public func pow(_ p: Float) -> Tensor {
        unary("pow", { Float.pow($0, p) }, derivative: { x, _ in p * Float.pow(x, p - 1) })
    }
    /// Clamps to `[low, high]`; the gradient is 1 inside and 0 outside.
    public func clamped(_ low: Float, _ high: Float) -> Tensor {
        unary("clamp", { Swift.min(Swift.max($0, low), high) }, derivative: { x, _ in x >= low && x <= high ? 1 : 0 })
    }
}
