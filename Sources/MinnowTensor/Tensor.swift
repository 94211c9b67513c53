import MinnowKernels

/// A dense, row-major (C-contiguous) fp32 tensor with value semantics.
///
/// Image tensors are NHWC. Copies share storage until one of them is written
/// (copy-on-write). A tensor that requires a gradient carries a node of the autodiff
/// graph (`GradNode`); every op on such tensors records how to pull its gradient back.
public struct Tensor: @unchecked Sendable {
    /// The extent of each axis.
    public let shape: [Int]
    @usableFromInline var storage: TensorStorage
    /// The autodiff node: a leaf for parameters and `requiringGrad()` tensors, an op otherwise.
    var node: GradNode?

    /// Wraps existing storage. `storage.count` must equal the product of `shape`.
    public init(shape: [Int], storage: TensorStorage) {
        require(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        require(Self.elementCount(shape) == storage.count,
                     "Tensor: shape \(shape) needs \(Self.elementCount(shape)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
        self.node = nil
    }

    /// A tensor of `shape` holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        require(Self.elementCount(shape) == scalars.count,
                     "Tensor(shape:scalars:): shape \(shape) needs \(Self.elementCount(shape)) scalars, got \(scalars.count)")
        let storage = TensorStorage(uninitializedCount: scalars.count)
        scalars.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { storage.pointer.initialize(from: base, count: buffer.count) }
        }
        self.init(shape: shape, storage: storage)
    }

    /// A tensor of `shape` with every element equal to `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, storage: TensorStorage(count: Self.elementCount(shape), repeating: value))
    }

    /// A rank-0 tensor holding `value`.
    public init(_ value: Float) {
        self.init(shape: [], repeating: value)
    }

    /// A tensor of `shape` whose storage is allocated but not initialised; `fill` must write every element.
    public init(shape: [Int], unsafeUninitialized fill: (UnsafeMutablePointer<Float>) -> Void) {
        let storage = TensorStorage(uninitializedCount: Self.elementCount(shape))
        fill(storage.pointer)
        self.init(shape: shape, storage: storage)
    }

    /// Zeros of `shape`.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    /// Ones of `shape`.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }
    /// `value` everywhere in `shape`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor { Tensor(shape: shape, repeating: value) }
    /// Zeros with the shape of `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }

    /// `[start, start + step, ...]` up to but excluding `end`, as a rank-1 tensor.
    public static func arange(_ start: Float, _ end: Float, step: Float = 1) -> Tensor {
        require(step != 0, "arange: step must not be 0")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor(shape: [count]) { p in
            for i in 0..<count { p[i] = start + Float(i) * step }
        }
    }

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { storage.count }
    /// All elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// The single element of a one-element tensor.
    public var item: Float {
        require(count == 1, "item: tensor of shape \(shape) has \(count) elements, not 1")
        return storage.pointer[0]
    }

    /// Row-major strides of `shape`, in elements.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// The product of the extents: the element count of `shape`.
    public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Reads the storage.
    @inlinable
    public func withUnsafePointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(storage.pointer) }
    }

    /// Writes the storage in place, copying it first when another tensor shares it.
    /// The autodiff node (and so a parameter's gradient) is kept.
    @inlinable
    public mutating func withUnsafeMutablePointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) {
            storage = TensorStorage(copying: storage)
        }
        return try withExtendedLifetime(storage) { try body(storage.pointer) }
    }

    /// The element at a full multi-index.
    public subscript(index: [Int]) -> Float {
        get { storage.pointer[flatIndex(index)] }
        set {
            let offset = flatIndex(index)
            withUnsafeMutablePointer { $0[offset] = newValue }
        }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        require(index.count == rank, "Tensor subscript: index \(index) has \(index.count) components, shape \(shape) has rank \(rank)")
        var offset = 0
        for (axis, i) in index.enumerated() {
            require(i >= 0 && i < shape[axis], "Tensor subscript: index \(index) out of bounds for shape \(shape)")
            offset = offset * shape[axis] + i
        }
        return offset
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}
