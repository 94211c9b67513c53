/// A run of consecutive channels that the NHWC kernels load, multiply-add and store as one value:
/// `SIMD16<Float>` for the bulk of the channels (one AVX-512 register, one cache line),
/// narrower vectors and single floats for the tail of a channel count that is not a multiple of 16.
protocol ChannelVector {
    /// Channels per value.
    static var width: Int { get }
    static var zero: Self { get }
    /// Loads `width` floats (no alignment needed).
    init(loading pointer: UnsafePointer<Float>)
    /// Stores `width` floats (no alignment needed).
    func store(to pointer: UnsafeMutablePointer<Float>)
    /// `self + a * b`, fused.
    func addingProduct(_ a: Self, _ b: Self) -> Self
    static func + (lhs: Self, rhs: Self) -> Self
}

extension SIMD16: ChannelVector where Scalar == Float {
    static var width: Int { 16 }
    @inline(__always) init(loading pointer: UnsafePointer<Float>) {
        self = UnsafeRawPointer(pointer).loadUnaligned(as: Self.self)
    }
    @inline(__always) func store(to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self)
    }
}

extension SIMD8: ChannelVector where Scalar == Float {
    static var width: Int { 8 }
    @inline(__always) init(loading pointer: UnsafePointer<Float>) {
        self = UnsafeRawPointer(pointer).loadUnaligned(as: Self.self)
    }
    @inline(__always) func store(to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self)
    }
}

extension SIMD4: ChannelVector where Scalar == Float {
    static var width: Int { 4 }
    @inline(__always) init(loading pointer: UnsafePointer<Float>) {
        self = UnsafeRawPointer(pointer).loadUnaligned(as: Self.self)
    }
    @inline(__always) func store(to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self)
    }
}

extension Float: ChannelVector {
    static var width: Int { 1 }
    @inline(__always) init(loading pointer: UnsafePointer<Float>) { self = pointer.pointee }
    @inline(__always) func store(to pointer: UnsafeMutablePointer<Float>) { pointer.pointee = self }
}

/// Work on one run of channels starting at `channel`, written once for every `ChannelVector` width.
protocol ChannelBlockBody {
    func run<V: ChannelVector>(_ vector: V.Type, channel: Int)
}

/// Calls `body` on channel runs covering `0..<channels`: runs of 16, then at most one of 8 and of 4,
/// then single channels.
@inline(__always)
func forEachChannelBlock<Body: ChannelBlockBody>(_ channels: Int, _ body: Body) {
    var c = 0
    while c + 16 <= channels {
        body.run(SIMD16<Float>.self, channel: c)
        c += 16
    }
    if c + 8 <= channels {
        body.run(SIMD8<Float>.self, channel: c)
        c += 8
    }
    if c + 4 <= channels {
        body.run(SIMD4<Float>.self, channel: c)
        c += 4
    }
    while c < channels {
        body.run(Float.self, channel: c)
        c += 1
    }
}
