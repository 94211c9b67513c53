/// The narrow register tiles (`RegisterTiles.narrow`): 6 rows x 16 columns in `SIMD8<Float>`, 12
/// accumulators, for 16 vector registers of 256 bits (AVX2): with the 2 filter (or gradient) loads
/// and one broadcast, 15 registers live, none spilled. Per input channel (or pixel): 6 broadcasts,
/// 2 loads and 12 fused multiply-adds. Each output's terms are added in the same order as in
/// `WideTiles`, so the results are bit-identical.
enum NarrowTiles {
    /// `outputs[r][0..<16] = bias + Σ_taps Σ_c rows[r][tap + c] * weights[(tap, c)][0..<16]` for 6 rows.
    @inline(never)
    static func multiply(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: UnsafePointer<Int>, tapCount: Int, channels: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputs: UnsafePointer<UnsafeMutablePointer<Float>>
    ) {
        typealias V = SIMD8<Float>
        let b0 = bias.map { V(loading: $0) } ?? .zero, b1 = bias.map { V(loading: $0 + 8) } ?? .zero
        var a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1
        var a30 = b0, a31 = b1, a40 = b0, a41 = b1, a50 = b0, a51 = b1
        var w = weights
        for t in 0..<tapCount {
            let offset = taps[t]
            let p0 = rows[0] + offset, p1 = rows[1] + offset, p2 = rows[2] + offset
            let p3 = rows[3] + offset, p4 = rows[4] + offset, p5 = rows[5] + offset
            for c in 0..<channels {
                let w0 = V(loading: w), w1 = V(loading: w + 8)
                w += 16
                var x = V(repeating: p0[c])
                a00 = a00.addingProduct(x, w0); a01 = a01.addingProduct(x, w1)
                x = V(repeating: p1[c])
                a10 = a10.addingProduct(x, w0); a11 = a11.addingProduct(x, w1)
                x = V(repeating: p2[c])
                a20 = a20.addingProduct(x, w0); a21 = a21.addingProduct(x, w1)
                x = V(repeating: p3[c])
                a30 = a30.addingProduct(x, w0); a31 = a31.addingProduct(x, w1)
                x = V(repeating: p4[c])
                a40 = a40.addingProduct(x, w0); a41 = a41.addingProduct(x, w1)
                x = V(repeating: p5[c])
                a50 = a50.addingProduct(x, w0); a51 = a51.addingProduct(x, w1)
            }
        }
        a00.store(to: outputs[0]); a01.store(to: outputs[0] + 8)
        a10.store(to: outputs[1]); a11.store(to: outputs[1] + 8)
        a20.store(to: outputs[2]); a21.store(to: outputs[2] + 8)
        a30.store(to: outputs[3]); a31.store(to: outputs[3] + 8)
        a40.store(to: outputs[4]); a41.store(to: outputs[4] + 8)
        a50.store(to: outputs[5]); a51.store(to: outputs[5] + 8)
    }

    /// `multiply` for 6 rows x 8 columns (the first 8 of each packed row of 16).
    @inline(never)
    static func multiplyHalf(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: UnsafePointer<Int>, tapCount: Int, channels: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputs: UnsafePointer<UnsafeMutablePointer<Float>>
    ) {
        typealias V = SIMD8<Float>
        let b = bias.map { V(loading: $0) } ?? .zero
        var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b
        var w = weights
        for t in 0..<tapCount {
            let offset = taps[t]
            let p0 = rows[0] + offset, p1 = rows[1] + offset, p2 = rows[2] + offset
            let p3 = rows[3] + offset, p4 = rows[4] + offset, p5 = rows[5] + offset
            for c in 0..<channels {
                let w0 = V(loading: w)
                w += 16
                a0 = a0.addingProduct(V(repeating: p0[c]), w0)
                a1 = a1.addingProduct(V(repeating: p1[c]), w0)
                a2 = a2.addingProduct(V(repeating: p2[c]), w0)
                a3 = a3.addingProduct(V(repeating: p3[c]), w0)
                a4 = a4.addingProduct(V(repeating: p4[c]), w0)
                a5 = a5.addingProduct(V(repeating: p5[c]), w0)
            }
        }
        a0.store(to: outputs[0]); a1.store(to: outputs[1]); a2.store(to: outputs[2])
        a3.store(to: outputs[3]); a4.store(to: outputs[4]); a5.store(to: outputs[5])
    }

    /// `result[r][0..<16] += Σ_{oh, ow} rows[r][oh * rowStep + ow * columnStep] * gradient[(oh * outWidth + ow) * gradientStride][0..<16]`
    /// for 6 rows (input channels).
    @inline(never)
    static func sum(
        _ rows: UnsafePointer<UnsafePointer<Float>>, rowStep: Int, columnStep: Int, outHeight: Int, outWidth: Int,
        gradient: UnsafePointer<Float>, gradientStride: Int, result: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD8<Float>
        var a00 = V.zero, a01 = V.zero, a10 = V.zero, a11 = V.zero, a20 = V.zero, a21 = V.zero
        var a30 = V.zero, a31 = V.zero, a40 = V.zero, a41 = V.zero, a50 = V.zero, a51 = V.zero
        let (p0, p1, p2, p3, p4, p5) = (rows[0], rows[1], rows[2], rows[3], rows[4], rows[5])
        // One loop over the pixels, the row's end a conditional step: nested row and column loops
        // made LLVM spill accumulators around the inner loop (a store-to-load chain per pixel).
        var dy = gradient
        var (x, column) = (0, 0)
        let rowWrap = rowStep - outWidth * columnStep
        for _ in 0 ..< outHeight * outWidth {
            let g0 = V(loading: dy), g1 = V(loading: dy + 8)
            var v = V(repeating: p0[x])
            a00 = a00.addingProduct(v, g0); a01 = a01.addingProduct(v, g1)
            v = V(repeating: p1[x])
            a10 = a10.addingProduct(v, g0); a11 = a11.addingProduct(v, g1)
            v = V(repeating: p2[x])
            a20 = a20.addingProduct(v, g0); a21 = a21.addingProduct(v, g1)
            v = V(repeating: p3[x])
            a30 = a30.addingProduct(v, g0); a31 = a31.addingProduct(v, g1)
            v = V(repeating: p4[x])
            a40 = a40.addingProduct(v, g0); a41 = a41.addingProduct(v, g1)
            v = V(repeating: p5[x])
            a50 = a50.addingProduct(v, g0); a51 = a51.addingProduct(v, g1)
            x += columnStep
            dy += gradientStride
            column += 1
            if column == outWidth { (x, column) = (x + rowWrap, 0) }
        }
        (V(loading: result) + a00).store(to: result); (V(loading: result + 8) + a01).store(to: result + 8); (V(loading: result + 16) + a10).store(to: result + 16); (V(loading: result + 24) + a11).store(to: result + 24)
        (V(loading: result + 32) + a20).store(to: result + 32); (V(loading: result + 40) + a21).store(to: result + 40); (V(loading: result + 48) + a30).store(to: result + 48); (V(loading: result + 56) + a31).store(to: result + 56)
        (V(loading: result + 64) + a40).store(to: result + 64); (V(loading: result + 72) + a41).store(to: result + 72); (V(loading: result + 80) + a50).store(to: result + 80); (V(loading: result + 88) + a51).store(to: result + 88)
    }

    /// `sum` for 8 columns: `result[r][0..<8]`.
    @inline(never)
    static func sumHalf(
        _ rows: UnsafePointer<UnsafePointer<Float>>, rowStep: Int, columnStep: Int, outHeight: Int, outWidth: Int,
        gradient: UnsafePointer<Float>, gradientStride: Int, result: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD8<Float>
        var a0 = V.zero, a1 = V.zero, a2 = V.zero, a3 = V.zero, a4 = V.zero, a5 = V.zero
        let (p0, p1, p2, p3, p4, p5) = (rows[0], rows[1], rows[2], rows[3], rows[4], rows[5])
        var dy = gradient
        var (x, column) = (0, 0)
        let rowWrap = rowStep - outWidth * columnStep
        for _ in 0 ..< outHeight * outWidth {
            let g = V(loading: dy)
            a0 = a0.addingProduct(V(repeating: p0[x]), g)
            a1 = a1.addingProduct(V(repeating: p1[x]), g)
            a2 = a2.addingProduct(V(repeating: p2[x]), g)
            a3 = a3.addingProduct(V(repeating: p3[x]), g)
            a4 = a4.addingProduct(V(repeating: p4[x]), g)
            a5 = a5.addingProduct(V(repeating: p5[x]), g)
            x += columnStep
            dy += gradientStride
            column += 1
            if column == outWidth { (x, column) = (x + rowWrap, 0) }
        }
        (V(loading: result) + a0).store(to: result); (V(loading: result + 16) + a1).store(to: result + 16); (V(loading: result + 32) + a2).store(to: result + 32)
        (V(loading: result + 48) + a3).store(to: result + 48); (V(loading: result + 64) + a4).store(to: result + 64); (V(loading: result + 80) + a5).store(to: result + 80)
    }
}
