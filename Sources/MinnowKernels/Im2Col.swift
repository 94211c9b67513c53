/// The patch matrix of a convolution (im2col) and its adjoint (col2im), NHWC.
///
/// Row `r` of the patch matrix is output pixel `r` (counted over `n, oh, ow`) and holds its
/// receptive field in one group's input channels, ordered `(i, j, c)` like the rows of an HWIO
/// filter, with zeros where the field reaches into the padding. So the convolution of a group is
/// `patches[pixels, kh * kw * Cin/groups] x filter[kh * kw * Cin/groups, Cout/groups]`.
enum Im2Col {
    /// Writes the patch rows of output pixels `pixels` for `group` to `patches`
    /// (`pixels.count x patchSize`, contiguous).
    static func pack(
        _ g: ConvGeometry, input: UnsafePointer<Float>, group: Int, pixels: Range<Int>,
        patches: UnsafeMutablePointer<Float>
    ) {
        let (groupChannels, channels) = (g.groupInChannels, g.inChannels)
        let (outHeight, outWidth) = (g.outHeight, g.outWidth)
        let rowSpan = g.kernelWidth * groupChannels
        var out = patches
        for pixel in pixels {
            let (n, position) = pixel.quotientAndRemainder(dividingBy: outHeight * outWidth)
            let (oh, ow) = position.quotientAndRemainder(dividingBy: outWidth)
            let firstColumn = ow * g.strideX - g.padX
            let columns = validRange(offset: firstColumn, step: g.dilationX, extent: g.width, count: g.kernelWidth)
            let contiguous = g.dilationX == 1 && groupChannels == channels
            for i in 0..<g.kernelHeight {
                let ih = oh * g.strideY - g.padY + i * g.dilationY
                guard ih >= 0 && ih < g.height else {
                    out.update(repeating: 0, count: rowSpan)
                    out += rowSpan
                    continue
                }
                let inputRow = input + (n * g.height + ih) * g.width * channels + group * groupChannels
                out.update(repeating: 0, count: columns.lowerBound * groupChannels)
                if contiguous {
                    // Neighbouring taps are neighbouring pixels: one copy for the whole row of the field.
                    copyFloats(out + columns.lowerBound * groupChannels,
                               inputRow + (firstColumn + columns.lowerBound) * channels,
                               columns.count * groupChannels)
                } else {
                    for j in columns {
                        copyFloats(out + j * groupChannels, inputRow + (firstColumn + j * g.dilationX) * channels,
                                   groupChannels)
                    }
                }
                (out + columns.upperBound * groupChannels).update(
                    repeating: 0, count: (g.kernelWidth - columns.upperBound) * groupChannels)
                out += rowSpan
            }
        }
    }

    /// Adds the patch rows of output pixels `pixels` (`pixels.count x patchSize`, contiguous) back
    /// into `gradInput` at the input positions `pack` copied them from.
    static func unpackAdding(
        _ g: ConvGeometry, patches: UnsafePointer<Float>, group: Int, pixels: Range<Int>,
        gradInput: UnsafeMutablePointer<Float>
    ) {
        let (groupChannels, channels) = (g.groupInChannels, g.inChannels)
        let (outHeight, outWidth) = (g.outHeight, g.outWidth)
        var source = patches
        for pixel in pixels {
            let (n, position) = pixel.quotientAndRemainder(dividingBy: outHeight * outWidth)
            let (oh, ow) = position.quotientAndRemainder(dividingBy: outWidth)
            let firstColumn = ow * g.strideX - g.padX
            let columns = validRange(offset: firstColumn, step: g.dilationX, extent: g.width, count: g.kernelWidth)
            for i in 0..<g.kernelHeight {
                let ih = oh * g.strideY - g.padY + i * g.dilationY
                if ih >= 0 && ih < g.height {
                    let inputRow = gradInput + (n * g.height + ih) * g.width * channels + group * groupChannels
                    for j in columns {
                        let target = inputRow + (firstColumn + j * g.dilationX) * channels
                        let patch = source + j * groupChannels
                        for c in 0..<groupChannels { target[c] += patch[c] }
                    }
                }
                source += g.kernelWidth * groupChannels
            }
        }
    }
}

/// Copies `count` floats, inline: the rows im2col copies are a few hundred bytes, too short for a
/// `memcpy` call to pay off.
@inline(__always)
private func copyFloats(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, _ count: Int) {
    var k = 0
    while k + 16 <= count {
        SIMD16<Float>(loading: source + k).store(to: target + k)
        k += 16
    }
    while k < count {
        target[k] = source[k]
        k += 1
    }
}
