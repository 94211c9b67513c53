import CBuildInfo

/// The register tiles of the direct convolution kernels (`DirectConv`): how many output pixels
/// (rows) and output channels (columns) one call of a tile kernel keeps in vector registers.
///
/// Both tiles add every output's terms in the same order (bias, then taps, then input channels;
/// for the filter gradient, pixels in order), each with a fused multiply-add, so their results are
/// bit-identical: the choice changes speed only, and a checkpoint trained on one CPU resumes
/// bit-exactly on another. The build's target picks one (`forThisBuild`).
public enum RegisterTiles: String, Sendable, CaseIterable {
    /// 8 rows x 32 columns: 16 accumulators of 16 floats, for 32 vector registers of 512 bits (AVX-512).
    case wide
    /// 6 rows x 16 columns: 12 accumulators of 8 floats, for 16 vector registers of 256 bits (AVX2;
    /// also what fits NEON's 32 registers of 128 bits).
    case narrow

    /// `wide` when the build's target has AVX-512 (`MINNOW_TARGET_CPU`, default `native`), else `narrow`.
    public static let forThisBuild: RegisterTiles = String(cString: mnw_build_vector_isa()) == "avx512" ? .wide : .narrow

    /// Output pixels (forward, input gradient) or input channels (filter gradient) per tile.
    public var rows: Int { self == .wide ? 8 : 6 }
    /// Output channels per tile; the filter is packed in blocks of this many.
    public var columns: Int { self == .wide ? 32 : 16 }
    /// A block of at most this many channels runs a half tile.
    var halfColumns: Int { columns / 2 }

    /// `outputs[r][0..<columns] = bias + Σ_taps Σ_c rows[r][tap + c] * weights[(tap, c)][0..<columns]`
    /// for every row (`half`: the first `halfColumns` columns only).
    @inline(__always)
    func multiply(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: UnsafePointer<Int>, tapCount: Int, channels: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputs: UnsafePointer<UnsafeMutablePointer<Float>>, half: Bool
    ) {
        switch (self, half) {
        case (.wide, false): WideTiles.multiply(rows: rows, taps: taps, tapCount: tapCount, channels: channels, weights: weights, bias: bias, outputs: outputs)
        case (.wide, true): WideTiles.multiplyHalf(rows: rows, taps: taps, tapCount: tapCount, channels: channels, weights: weights, bias: bias, outputs: outputs)
        case (.narrow, false): NarrowTiles.multiply(rows: rows, taps: taps, tapCount: tapCount, channels: channels, weights: weights, bias: bias, outputs: outputs)
        case (.narrow, true): NarrowTiles.multiplyHalf(rows: rows, taps: taps, tapCount: tapCount, channels: channels, weights: weights, bias: bias, outputs: outputs)
        }
    }

    /// `result[r][0..<columns] += Σ_{oh, ow} rows[r][oh * rowStep + ow * columnStep] * gradient[(oh * outWidth + ow) * gradientStride][0..<columns]`
    /// for every row (`half`: the first `halfColumns` columns only). The sum starts from zero and is then added to
    /// `result`, so a whole tile and a zeroed tile added afterwards give the same bits.
    @inline(__always)
    func sum(
        _ rows: UnsafePointer<UnsafePointer<Float>>, rowStep: Int, columnStep: Int, outHeight: Int, outWidth: Int,
        gradient: UnsafePointer<Float>, gradientStride: Int, result: UnsafeMutablePointer<Float>, half: Bool
    ) {
        switch (self, half) {
        case (.wide, false):
            WideTiles.sum(rows, rowStep: rowStep, columnStep: columnStep, outHeight: outHeight, outWidth: outWidth, gradient: gradient, gradientStride: gradientStride, result: result)
        case (.wide, true):
            WideTiles.sumHalf(rows, rowStep: rowStep, columnStep: columnStep, outHeight: outHeight, outWidth: outWidth, gradient: gradient, gradientStride: gradientStride, result: result)
        case (.narrow, false):
            NarrowTiles.sum(rows, rowStep: rowStep, columnStep: columnStep, outHeight: outHeight, outWidth: outWidth, gradient: gradient, gradientStride: gradientStride, result: result)
        case (.narrow, true):
            NarrowTiles.sumHalf(rows, rowStep: rowStep, columnStep: columnStep, outHeight: outHeight, outWidth: outWidth, gradient: gradient, gradientStride: gradientStride, result: result)
        }
    }
}
