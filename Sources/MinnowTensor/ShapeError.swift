/// A shape mismatch or invalid argument, with a message that names the op and the shapes.
///
/// Ops check their arguments through throwing functions that return this error; the op itself
/// stops with the error's message (a precondition), so a wrong shape never computes a silent
/// wrong answer, and tests can check each message through the throwing check.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    /// What went wrong, naming the op and the shapes involved.
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Stops with the error's message when `check` throws: how ops turn a failed argument check into a
/// stop that names the shapes (the throwing check itself is what tests call).
@inline(__always)
public func checked<R>(_ check: () throws(ShapeError) -> R) -> R {
    do {
        return try check()
    } catch {
        fatalError(error.description)
    }
}

/// Stops the program with `message` when `condition` is false, in every build configuration.
///
/// Swift's `precondition` drops its message in optimized builds; Minnow's argument checks
/// must name the shapes involved, so they use this instead.
@inline(__always)
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}

/// Shape arithmetic shared by the ops.
public enum Shapes {
    /// The NumPy broadcast of two shapes: axes aligned from the right, extents equal or 1.
    public static func broadcast(_ a: [Int], _ b: [Int], op: String = "broadcast") throws(ShapeError) -> [Int] {
        let rank = Swift.max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            let x = axis < rank - a.count ? 1 : a[axis - (rank - a.count)]
            let y = axis < rank - b.count ? 1 : b[axis - (rank - b.count)]
            guard x == y || x == 1 || y == 1 else {
                throw ShapeError("\(op): shapes \(a) and \(b) cannot be broadcast (axis \(axis) from the left of the aligned shapes: \(x) vs \(y))")
            }
            result[axis] = x == 1 ? y : x
        }
        return result
    }

    /// Normalizes a possibly negative axis for a tensor of `rank`.
    public static func axis(_ axis: Int, rank: Int, op: String, shape: [Int]) throws(ShapeError) -> Int {
        let normalized = axis < 0 ? axis + rank : axis
        guard normalized >= 0 && normalized < rank else {
            throw ShapeError("\(op): axis \(axis) is out of range for shape \(shape) (rank \(rank))")
        }
        return normalized
    }
}
