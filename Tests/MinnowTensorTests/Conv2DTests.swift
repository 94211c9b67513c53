import MinnowKernels
import MinnowTensor
import MinnowTestSupport
import XCTest

final class Conv2DTests: XCTestCase {
    var generator = SeededGenerator(seed: 11)

    func random(_ shape: [Int]) -> Tensor { Tensor.randomNormal(shape, generator: &generator) }

    /// One convolution's arguments; the filter shape follows from them.
    struct Case {
        var input: [Int]
        var kernel: (Int, Int)
        var outChannels: Int
        var stride = (1, 1)
        var padding = (0, 0)
        var dilation = (1, 1)
        var groups = 1
        var bias = true

        var filter: [Int] { [kernel.0, kernel.1, input[3] / groups, outChannels] }
        var geometry: ConvGeometry {
            try! Shapes.conv2d(input: input, filter: filter, stride: stride, padding: padding,
                               dilation: dilation, groups: groups)
        }
    }

    func run(_ c: Case, _ x: Tensor, _ w: Tensor, _ b: Tensor?) -> Tensor {
        conv2d(x, w, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups)
    }

    // MARK: - Gradients by finite differences

    func checkGradients(_ c: Case, file: StaticString = #filePath, line: UInt = #line) {
        var inputs = [random(c.input), random(c.filter)]
        if c.bias { inputs.append(random([c.outChannels])) }
        GradientCheck.check(inputs, file: file, line: line) { xs in
            run(c, xs[0], xs[1], c.bias ? xs[2] : nil)
        }
    }

    func testPointwiseGradients() {
        let plain = Case(input: [2, 3, 3, 4], kernel: (1, 1), outChannels: 5)
        XCTAssertEqual(Conv2DKernel.algorithm(for: plain.geometry), .direct)
        checkGradients(plain)
        checkGradients(Case(input: [2, 3, 4, 6], kernel: (1, 1), outChannels: 4, groups: 2, bias: false))
    }

    func testDenseGradients() {
        let same = Case(input: [2, 5, 5, 3], kernel: (3, 3), outChannels: 4, padding: (1, 1))
        XCTAssertEqual(Conv2DKernel.algorithm(for: same.geometry), .direct)
        checkGradients(same)
        checkGradients(Case(input: [1, 6, 7, 3], kernel: (3, 3), outChannels: 2, stride: (2, 2), padding: (1, 1)))
        checkGradients(Case(input: [1, 7, 6, 2], kernel: (3, 2), outChannels: 3, padding: (2, 1), dilation: (2, 2), bias: false))
        checkGradients(Case(input: [2, 5, 4, 3], kernel: (1, 1), outChannels: 2, stride: (2, 2)))
    }

    func testWinogradGradients() {
        let same = Case(input: [1, 2, 3, 64], kernel: (3, 3), outChannels: 64, padding: (1, 1))
        XCTAssertEqual(Conv2DKernel.algorithm(for: same.geometry), .winograd)
        checkGradients(same)
    }

    func testDepthwiseGradients() {
        let same = Case(input: [2, 5, 5, 6], kernel: (3, 3), outChannels: 6, padding: (1, 1), groups: 6)
        XCTAssertEqual(Conv2DKernel.algorithm(for: same.geometry), .depthwise)
        checkGradients(same)
        checkGradients(Case(input: [2, 7, 6, 5], kernel: (3, 3), outChannels: 5, stride: (2, 2), padding: (1, 1), groups: 5))
        checkGradients(Case(input: [1, 7, 7, 3], kernel: (3, 3), outChannels: 3, stride: (2, 1), padding: (2, 1),
                            dilation: (2, 1), groups: 3, bias: false))
    }

    func testGroupedGradients() {
        checkGradients(Case(input: [2, 5, 5, 6], kernel: (3, 3), outChannels: 6, padding: (1, 1), groups: 3))
        // Channel multiplier 2 (groups == Cin, Cout = 2 Cin) is not depthwise: the direct kernel, per group.
        checkGradients(Case(input: [1, 4, 5, 2], kernel: (2, 2), outChannels: 4, stride: (1, 2), padding: (1, 0), groups: 2))
    }

    // MARK: - Fast paths against a direct convolution

    /// Direct convolution with Double accumulation: the output, and for `gradOutput` the
    /// gradients of `sum(output * gradOutput)` with respect to input, filter and bias.
    func reference(_ c: Case, _ x: Tensor, _ w: Tensor, _ b: Tensor, gradOutput: Tensor)
        -> (output: Tensor, gradInput: Tensor, gradFilter: Tensor, gradBias: Tensor)
    {
        let g = c.geometry
        let (xs, ws, bs, dys) = (x.scalars, w.scalars, b.scalars, gradOutput.scalars)
        let (cin, cout, cg, cog) = (g.inChannels, g.outChannels, g.groupInChannels, g.groupOutChannels)
        var y = [Double](repeating: 0, count: gradOutput.count)
        var dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: w.count)
        var db = [Double](repeating: 0, count: cout)
        for n in 0..<g.batch {
            for oh in 0..<g.outHeight {
                for ow in 0..<g.outWidth {
                    for o in 0..<cout {
                        let out = ((n * g.outHeight + oh) * g.outWidth + ow) * cout + o
                        var sum = Double(bs[o])
                        let dy = Double(dys[out])
                        db[o] += dy
                        for i in 0..<g.kernelHeight {
                            let ih = oh * g.strideY - g.padY + i * g.dilationY
                            guard ih >= 0 && ih < g.height else { continue }
                            for j in 0..<g.kernelWidth {
                                let iw = ow * g.strideX - g.padX + j * g.dilationX
                                guard iw >= 0 && iw < g.width else { continue }
                                for k in 0..<cg {
                                    let xi = ((n * g.height + ih) * g.width + iw) * cin + (o / cog) * cg + k
                                    let wi = ((i * g.kernelWidth + j) * cg + k) * cout + o
                                    sum += Double(xs[xi]) * Double(ws[wi])
                                    dx[xi] += dy * Double(ws[wi])
                                    dw[wi] += dy * Double(xs[xi])
                                }
                            }
                        }
                        y[out] = sum
                    }
                }
            }
        }
        func tensor(_ shape: [Int], _ values: [Double]) -> Tensor { Tensor(shape: shape, scalars: values.map { Float($0) }) }
        return (tensor(gradOutput.shape, y), tensor(x.shape, dx), tensor(w.shape, dw), tensor([cout], db))
    }

    func compareWithReference(_ c: Case, file: StaticString = #filePath, line: UInt = #line) {
        let g = c.geometry
        let x = random(c.input), w = random(c.filter), b = random([c.outChannels])
        let dy = random([g.batch, g.outHeight, g.outWidth, g.outChannels])
        let expected = reference(c, x, w, b, gradOutput: dy)
        let (xLeaf, wLeaf, bLeaf) = (x.requiringGrad(), w.requiringGrad(), b.requiringGrad())
        let y = run(c, xLeaf, wLeaf, bLeaf)
        y.backward(seed: dy)
        let label = "\(Conv2DKernel.algorithm(for: g)) input \(c.input) filter \(c.filter) stride \(c.stride) padding \(c.padding) dilation \(c.dilation) groups \(c.groups)"
        let tolerance = (rtol: Float(1e-4), atol: Float(1e-4) * Float(g.patchSize).squareRoot())
        assertClose(y, expected.output, rtol: tolerance.rtol, atol: tolerance.atol, "output, \(label)", file: file, line: line)
        for (name, actual, reference) in [("input", xLeaf.grad, expected.gradInput), ("filter", wLeaf.grad, expected.gradFilter),
                                          ("bias", bLeaf.grad, expected.gradBias)] {
            guard let actual else { return XCTFail("no \(name) gradient, \(label)", file: file, line: line) }
            let scale = Float(reference.scalars.map(abs).max() ?? 1)
            assertClose(actual, reference, rtol: tolerance.rtol, atol: tolerance.atol * max(1, scale / 4),
                        "\(name) gradient, \(label)", file: file, line: line)
        }
    }

    func testPointwiseMatchesReference() {
        compareWithReference(Case(input: [9, 7, 7, 5], kernel: (1, 1), outChannels: 3))
        compareWithReference(Case(input: [2, 6, 5, 16], kernel: (1, 1), outChannels: 24))
        compareWithReference(Case(input: [21, 3, 5, 8], kernel: (1, 1), outChannels: 6, groups: 2))
    }

    func testDirectMatchesReference() {
        compareWithReference(Case(input: [9, 7, 7, 5], kernel: (3, 3), outChannels: 3, padding: (1, 1)))
        compareWithReference(Case(input: [2, 7, 7, 5], kernel: (3, 1), outChannels: 3, padding: (1, 0)))
        compareWithReference(Case(input: [21, 5, 6, 4], kernel: (3, 3), outChannels: 7, stride: (2, 2), padding: (1, 1)))
        compareWithReference(Case(input: [3, 9, 8, 3], kernel: (3, 3), outChannels: 4, padding: (2, 2), dilation: (2, 2)))
        compareWithReference(Case(input: [5, 9, 9, 6], kernel: (5, 5), outChannels: 8, stride: (2, 2), padding: (2, 2)))
        compareWithReference(Case(input: [1, 8, 8, 3], kernel: (1, 1), outChannels: 5, stride: (2, 2)))
        // Whole tiles (8 pixels x 32 channels) and partial ones, in the output and the input gradient.
        compareWithReference(Case(input: [3, 6, 7, 40], kernel: (3, 3), outChannels: 64, padding: (1, 1)))
        compareWithReference(Case(input: [2, 8, 8, 32], kernel: (3, 3), outChannels: 32, stride: (2, 2), padding: (1, 1)))
        // Blocks of 16 channels (half tiles): 48 outputs, 16 inputs.
        compareWithReference(Case(input: [3, 7, 6, 16], kernel: (3, 3), outChannels: 48, padding: (1, 1)))
        // Strides and dilations whose residue classes miss some kernel taps, or all of them.
        compareWithReference(Case(input: [2, 9, 11, 3], kernel: (2, 3), outChannels: 5, stride: (3, 2), padding: (1, 2), dilation: (2, 1)))
        compareWithReference(Case(input: [2, 7, 7, 4], kernel: (1, 1), outChannels: 6, stride: (3, 3)))
        // Padding wider than the kernel reach.
        compareWithReference(Case(input: [2, 5, 6, 3], kernel: (1, 1), outChannels: 4, padding: (1, 2)))
    }

    /// Winograd F(2x2, 3x3) against the double-precision reference: odd and even output sizes (partial
    /// 2x2 tiles), padding 0, 1 and 2, images of one pixel, blocks of 16 channels (half tiles), more
    /// tiles than a chunk (392 tiles of 14x14 outputs), and channel counts that leave a partial
    /// register tile of input channels in the filter gradient.
    func testWinogradMatchesReference() {
        let cases = [
            Case(input: [2, 6, 7, 64], kernel: (3, 3), outChannels: 80, padding: (1, 1)),
            Case(input: [3, 5, 5, 64], kernel: (3, 3), outChannels: 64),
            Case(input: [1, 4, 9, 80], kernel: (3, 3), outChannels: 64, padding: (2, 2)),
            Case(input: [2, 7, 7, 128], kernel: (3, 3), outChannels: 128, padding: (1, 1)),
            Case(input: [3, 1, 1, 64], kernel: (3, 3), outChannels: 64, padding: (1, 1)),
            Case(input: [3, 6, 5, 64], kernel: (3, 3), outChannels: 112, padding: (2, 1)),
            Case(input: [8, 14, 14, 64], kernel: (3, 3), outChannels: 64, padding: (1, 1)),
        ]
        for c in cases {
            XCTAssertEqual(Conv2DKernel.algorithm(for: c.geometry), .winograd, "input \(c.input) filter \(c.filter)")
            compareWithReference(c)
        }
        // What stays direct: too few channels, a channel count not a multiple of 16, stride, dilation, groups.
        for c in [Case(input: [1, 5, 5, 32], kernel: (3, 3), outChannels: 64, padding: (1, 1)),
                  Case(input: [1, 5, 5, 64], kernel: (3, 3), outChannels: 32, padding: (1, 1)),
                  Case(input: [1, 5, 5, 72], kernel: (3, 3), outChannels: 64, padding: (1, 1)),
                  Case(input: [1, 5, 5, 64], kernel: (3, 3), outChannels: 64, stride: (2, 2), padding: (1, 1)),
                  Case(input: [1, 5, 5, 64], kernel: (3, 3), outChannels: 64, padding: (2, 2), dilation: (2, 2)),
                  Case(input: [1, 5, 5, 128], kernel: (3, 3), outChannels: 128, padding: (1, 1), groups: 2),
                  Case(input: [1, 5, 5, 64], kernel: (3, 3), outChannels: 64, padding: (3, 3))] {
            XCTAssertEqual(Conv2DKernel.algorithm(for: c.geometry), .direct, "input \(c.input) filter \(c.filter)")
        }
    }

    /// The wide and narrow register tiles add every term in the same order, so each gives the same
    /// bits (forward, input, filter and bias gradients) on any CPU; the geometries cover whole and
    /// partial tiles and blocks of both (8, 16, 24, 32, 40 and 48 channels), strides, dilation and groups.
    /// Batches of at least twice the threads (each image on one thread, as in training).
    func testRegisterTilesGiveTheSameBits() {
        let batch = 2 * ThreadPool.shared.threadCount + 1
        let cases = [
            Case(input: [batch, 7, 7, 5], kernel: (3, 3), outChannels: 3, padding: (1, 1)),
            Case(input: [batch, 6, 7, 40], kernel: (3, 3), outChannels: 64, padding: (1, 1)),
            Case(input: [batch, 7, 6, 16], kernel: (3, 3), outChannels: 48, padding: (1, 1)),
            Case(input: [batch, 7, 7, 24], kernel: (1, 1), outChannels: 8),
            Case(input: [batch, 5, 9, 32], kernel: (1, 1), outChannels: 24),
            Case(input: [batch, 8, 8, 8], kernel: (3, 3), outChannels: 40, stride: (2, 2), padding: (1, 1)),
            Case(input: [batch, 9, 11, 3], kernel: (2, 3), outChannels: 5, stride: (3, 2), padding: (1, 2), dilation: (2, 1)),
            Case(input: [batch, 6, 5, 12], kernel: (3, 3), outChannels: 36, padding: (1, 1), groups: 3),
            Case(input: [batch, 5, 5, 64], kernel: (1, 1), outChannels: 64, groups: 2),
            // Winograd: a half block of output channels (80 = 32 + 32 + 16), 64 input channels in rows of 6.
            Case(input: [batch, 6, 7, 64], kernel: (3, 3), outChannels: 80, padding: (1, 1)),
        ]
        for c in cases {
            let g = c.geometry
            let x = random(c.input).scalars, w = random(c.filter).scalars, b = random([c.outChannels]).scalars
            let dy = random([g.batch, g.outHeight, g.outWidth, g.outChannels]).scalars
            let results = RegisterTiles.allCases.map { tiles in
                var (y, dx, dw, db) = ([Float](repeating: .nan, count: dy.count), [Float](repeating: .nan, count: x.count),
                                       [Float](repeating: .nan, count: w.count), [Float](repeating: .nan, count: b.count))
                Conv2DKernel.forward(g, input: x, filter: w, bias: b, output: &y, tiles: tiles)
                Conv2DKernel.backward(g, input: x, filter: w, gradOutput: dy, gradInput: &dx, gradFilter: &dw, gradBias: &db, tiles: tiles)
                return [y, dx, dw, db].map { $0.map(\.bitPattern) }
            }
            for (index, name) in ["output", "input gradient", "filter gradient", "bias gradient"].enumerated() {
                XCTAssertFalse(results[0][index].contains(Float.nan.bitPattern), "\(name) not written, input \(c.input) filter \(c.filter)")
                XCTAssertEqual(results[0][index], results[1][index], "\(name): wide and narrow tiles differ, input \(c.input) filter \(c.filter)")
            }
        }
    }

    func testDepthwiseMatchesReference() {
        for channels in [20, 33, 48] {
            compareWithReference(Case(input: [9, 7, 7, channels], kernel: (3, 3), outChannels: channels,
                                      padding: (1, 1), groups: channels))
            compareWithReference(Case(input: [3, 8, 9, channels], kernel: (3, 3), outChannels: channels,
                                      stride: (2, 2), padding: (1, 1), groups: channels))
        }
        compareWithReference(Case(input: [2, 11, 10, 19], kernel: (5, 5), outChannels: 19, padding: (2, 2), groups: 19))
        compareWithReference(Case(input: [2, 9, 9, 7], kernel: (3, 1), outChannels: 7, stride: (1, 2), groups: 7))
        compareWithReference(Case(input: [2, 9, 10, 17], kernel: (3, 3), outChannels: 17, stride: (2, 3),
                                  padding: (2, 1), dilation: (2, 2), groups: 17))
        compareWithReference(Case(input: [4, 6, 6, 12], kernel: (1, 1), outChannels: 12, stride: (2, 2), groups: 12))
    }

    func testGroupedMatchesReference() {
        compareWithReference(Case(input: [9, 7, 7, 6], kernel: (3, 3), outChannels: 9, padding: (1, 1), groups: 3))
        compareWithReference(Case(input: [2, 6, 6, 4], kernel: (3, 3), outChannels: 8, stride: (2, 2), padding: (1, 1), groups: 4))
        compareWithReference(Case(input: [2, 5, 5, 64], kernel: (1, 1), outChannels: 64, groups: 2))
        compareWithReference(Case(input: [2, 6, 6, 32], kernel: (1, 1), outChannels: 32, groups: 2))
        compareWithReference(Case(input: [3, 6, 5, 12], kernel: (3, 3), outChannels: 36, padding: (1, 1), groups: 3))
    }

    func testNoBiasAndFrozenFilter() {
        let x = random([2, 5, 5, 4]).requiringGrad()
        let w = random([3, 3, 4, 3])
        let y = conv2d(x, w, padding: (1, 1))
        XCTAssertEqual(y.shape, [2, 5, 5, 3])
        y.sum().backward()
        XCTAssertEqual(x.grad?.shape, [2, 5, 5, 4])
    }

    // MARK: - Shape errors

    func assertShapeError(_ message: [String], file: StaticString = #filePath, line: UInt = #line,
                          _ check: () throws -> ConvGeometry) {
        XCTAssertThrowsError(try check(), file: file, line: line) { error in
            for part in message {
                XCTAssertTrue("\(error)".contains(part), "'\(error)' does not mention \(part)", file: file, line: line)
            }
        }
    }

    func testShapeErrorsNameShapes() {
        assertShapeError(["rank 4", "[2, 5, 5]", "[3, 3, 5, 4]"]) {
            try Shapes.conv2d(input: [2, 5, 5], filter: [3, 3, 5, 4])
        }
        assertShapeError(["rank 4", "[3, 3, 4]"]) { try Shapes.conv2d(input: [2, 5, 5, 4], filter: [3, 3, 4]) }
        assertShapeError(["input channels", "[2, 5, 5, 4]", "[3, 3, 5, 8]"]) {
            try Shapes.conv2d(input: [2, 5, 5, 4], filter: [3, 3, 5, 8])
        }
        assertShapeError(["groups = 3", "[2, 5, 5, 4]"]) {
            try Shapes.conv2d(input: [2, 5, 5, 4], filter: [3, 3, 1, 6], groups: 3)
        }
        assertShapeError(["empty output", "[2, 2, 2, 4]", "[3, 3, 4, 8]"]) {
            try Shapes.conv2d(input: [2, 2, 2, 4], filter: [3, 3, 4, 8])
        }
        assertShapeError(["bias", "[7]", "[8]"]) {
            try Shapes.conv2d(input: [2, 5, 5, 4], filter: [3, 3, 4, 8], bias: [7])
        }
        assertShapeError(["stride"]) { try Shapes.conv2d(input: [2, 5, 5, 4], filter: [3, 3, 4, 8], stride: (0, 1)) }
        let geometry = try? Shapes.conv2d(input: [2, 6, 6, 4], filter: [3, 3, 4, 8], stride: (2, 2), padding: (1, 1))
        XCTAssertEqual(geometry?.outHeight, 3)
        XCTAssertEqual(geometry?.outWidth, 3)
    }
}
