/// The wide register tiles (`RegisterTiles.wide`): 8 rows x 32 columns in `SIMD16<Float>`, 16
/// accumulators, for 32 vector registers of 512 bits (AVX-512). Per input channel (or pixel): 8
/// broadcasts, 2 loads and 16 fused multiply-adds.
enum WideTiles {
    /// `outputs[r][0..<32] = bias + Σ_taps Σ_c rows[r][tap + c] * weights[(tap, c)][0..<32]` for 8 rows.
    @inline(never)
    static func multiply(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: UnsafePointer<Int>, tapCount: Int, channels: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputs: UnsafePointer<UnsafeMutablePointer<Float>>
    ) {
        typealias V = SIMD16<Float>
        let b0 = bias.map { V(loading: $0) } ?? .zero, b1 = bias.map { V(loading: $0 + 16) } ?? .zero
        var a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1
        var a40 = b0, a41 = b1, a50 = b0, a51 = b1, a60 = b0, a61 = b1, a70 = b0, a71 = b1
        var w = weights
        for t in 0..<tapCount {
            let offset = taps[t]
            let p0 = rows[0] + offset, p1 = rows[1] + offset, p2 = rows[2] + offset, p3 = rows[3] + offset
            let p4 = rows[4] + offset, p5 = rows[5] + offset, p6 = rows[6] + offset, p7 = rows[7] + offset
            for c in 0..<channels {
                let w0 = V(loading: w), w1 = V(loading: w + 16)
                w += 32
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
                x = V(repeating: p6[c])
                a60 = a60.addingProduct(x, w0); a61 = a61.addingProduct(x, w1)
                x = V(repeating: p7[c])
                a70 = a70.addingProduct(x, w0); a71 = a71.addingProduct(x, w1)
            }
        }
        a00.store(to: outputs[0]); a01.store(to: outputs[0] + 16)
        a10.store(to: outputs[1]); a11.store(to: outputs[1] + 16)
        a20.store(to: outputs[2]); a21.store(to: outputs[2] + 16)
        a30.store(to: outputs[3]); a31.store(to: outputs[3] + 16)
        a40.store(to: outputs[4]); a41.store(to: outputs[4] + 16)
        a50.store(to: outputs[5]); a51.store(to: outputs[5] + 16)
        a60.store(to: outputs[6]); a61.store(to: outputs[6] + 16)
        a70.store(to: outputs[7]); a71.store(to: outputs[7] + 16)
    }

    /// `multiply` for 8 rows x 16 columns (the first 16 of each packed row of 32).
    @inline(never)
    static func multiplyHalf(
        rows: UnsafePointer<UnsafePointer<Float>>, taps: UnsafePointer<Int>, tapCount: Int, channels: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputs: UnsafePointer<UnsafeMutablePointer<Float>>
    ) {
        typealias V = SIMD16<Float>
        let b = bias.map { V(loading: $0) } ?? .zero
        var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
        var w = weights
        for t in 0..<tapCount {
            let offset = taps[t]
            let p0 = rows[0] + offset, p1 = rows[1] + offset, p2 = rows[2] + offset, p3 = rows[3] + offset
            let p4 = rows[4] + offset, p5 = rows[5] + offset, p6 = rows[6] + offset, p7 = rows[7] + offset
            for c in 0..<channels {
                let w0 = V(loading: w)
                w += 32
                a0 = a0.addingProduct(V(repeating: p0[c]), w0)
                a1 = a1.addingProduct(V(repeating: p1[c]), w0)
                a2 = a2.addingProduct(V(repeating: p2[c]), w0)
                a3 = a3.addingProduct(V(repeating: p3[c]), w0)
                a4 = a4.addingProduct(V(repeating: p4[c]), w0)
                a5 = a5.addingProduct(V(repeating: p5[c]), w0)
                a6 = a6.addingProduct(V(repeating: p6[c]), w0)
                a7 = a7.addingProduct(V(repeating: p7[c]), w0)
            }
        }
        a0.store(to: outputs[0]); a1.store(to: outputs[1]); a2.store(to: outputs[2]); a3.store(to: outputs[3])
        a4.store(to: outputs[4]); a5.store(to: outputs[5]); a6.store(to: outputs[6]); a7.store(to: outputs[7])
    }

    /// `result[r][0..<32] += Σ_{oh, ow} rows[r][oh * rowStep + ow * columnStep] * gradient[(oh * outWidth + ow) * gradientStride][0..<32]`
    /// for 8 rows (input channels).
    @inline(never)
    static func sum(
        _ rows: UnsafePointer<UnsafePointer<Float>>, rowStep: Int, columnStep: Int, outHeight: Int, outWidth: Int,
        gradient: UnsafePointer<Float>, gradientStride: Int, result: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD16<Float>
        var a00 = V.zero, a01 = V.zero, a10 = V.zero, a11 = V.zero, a20 = V.zero, a21 = V.zero
        var a30 = V.zero, a31 = V.zero, a40 = V.zero, a41 = V.zero, a50 = V.zero, a51 = V.zero
        var a60 = V.zero, a61 = V.zero, a70 = V.zero, a71 = V.zero
        let (p0, p1, p2, p3) = (rows[0], rows[1], rows[2], rows[3])
        let (p4, p5, p6, p7) = (rows[4], rows[5], rows[6], rows[7])
        var dy = gradient
        for oh in 0..<outHeight {
            var x = oh * rowStep
            for _ in 0..<outWidth {
                let g0 = V(loading: dy), g1 = V(loading: dy + 16)
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
                v = V(repeating: p6[x])
                a60 = a60.addingProduct(v, g0); a61 = a61.addingProduct(v, g1)
                v = V(repeating: p7[x])
                a70 = a70.addingProduct(v, g0); a71 = a71.addingProduct(v, g1)
                x += columnStep
                dy += gradientStride
            }
        }
        (V(loading: result) + a00).store(to: result); (V(loading: result + 16) + a01).store(to: result + 16); (V(loading: result + 32) + a10).store(to: result + 32); (V(loading: result + 48) + a11).store(to: result + 48)
        (V(loading: result + 64) + a20).store(to: result + 64); (V(loading: result + 80) + a21).store(to: result + 80); (V(loading: result + 96) + a30).store(to: result + 96); (V(loading: result + 112) + a31).store(to: result + 112)
        (V(loading: result + 128) + a40).store(to: result + 128); (V(loading: result + 144) + a41).store(to: result + 144); (V(loading: result + 160) + a50).store(to: result + 160); (V(loading: result + 176) + a51).store(to: result + 176)
        (V(loading: result + 192) + a60).store(to: result + 192); (V(loading: result + 208) + a61).store(to: result + 208); (V(loading: result + 224) + a70).store(to: result + 224); (V(loading: result + 240) + a71).store(to: result + 240)
    }

    /// `sum` for 16 columns: `result[r][0..<16]`.
    @inline(never)
    static func sumHalf(
        _ rows: UnsafePointer<UnsafePointer<Float>>, rowStep: Int, columnStep: Int, outHeight: Int, outWidth: Int,
        gradient: UnsafePointer<Float>, gradientStride: Int, result: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD16<Float>
        var a0 = V.zero, a1 = V.zero, a2 = V.zero, a3 = V.zero, a4 = V.zero, a5 = V.zero, a6 = V.zero, a7 = V.zero
        let (p0, p1, p2, p3) = (rows[0], rows[1], rows[2], rows[3])
        let (p4, p5, p6, p7) = (rows[4], rows[5], rows[6], rows[7])
        var dy = gradient
        for oh in 0..<outHeight {
            var x = oh * rowStep
            for _ in 0..<outWidth {
                let g = V(loading: dy)
                a0 = a0.addingProduct(V(repeating: p0[x]), g)
                a1 = a1.addingProduct(V(repeating: p1[x]), g)
                a2 = a2.addingProduct(V(repeating: p2[x]), g)
                a3 = a3.addingProduct(V(repeating: p3[x]), g)
                a4 = a4.addingProduct(V(repeating: p4[x]), g)
                a5 = a5.addingProduct(V(repeating: p5[x]), g)
                a6 = a6.addingProduct(V(repeating: p6[x]), g)
                a7 = a7.addingProduct(V(repeating: p7[x]), g)
                x += columnStep
                dy += gradientStride
            }
        }
        (V(loading: result) + a0).store(to: result); (V(loading: result + 32) + a1).store(to: result + 32); (V(loading: result + 64) + a2).store(to: result + 64); (V(loading: result + 96) + a3).store(to: result + 96)
        (V(loading: result + 128) + a4).store(to: result + 128); (V(loading: result + 160) + a5).store(to: result + 160); (V(loading: result + 192) + a6).store(to: result + 192); (V(loading: result + 224) + a7).store(to: result + 224)
    }
}
