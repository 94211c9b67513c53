import MinnowTensor

/// One convolution shape, as the peers' `bench_ops.py` writes it: `N,H,W,Cin,Cout,k,stride,groups`.
public struct ConvShape: Sendable, Codable, CustomStringConvertible {
    public let batch, height, width, inputChannels, outputChannels, kernel, stride, groups: Int

    /// Parses `N,H,W,Cin,Cout,k,stride,groups`: eight integers in 1...65536, `groups` dividing `Cin`
    /// and `Cout`, input, output and filter of at most 2^28 elements; nil otherwise.
    public init?(_ text: String) {
        let values = text.split(separator: ",").compactMap { Int($0) }
        guard values.count == 8, values.allSatisfy({ (1...65_536).contains($0) }), values[3] % values[7] == 0, values[4] % values[7] == 0,
              [values[0], values[1], values[2], max(values[3], values[4])].map(Double.init).reduce(1, *) <= 0x1p28,
              [values[5], values[5], values[3], values[4]].map(Double.init).reduce(1, *) <= 0x1p28 else {
            return nil
        }
        (batch, height, width, inputChannels, outputChannels, kernel, stride, groups) =
            (values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7])
    }

    public var description: String {
        "\(batch),\(height),\(width),\(inputChannels),\(outputChannels),\(kernel),\(stride),\(groups)"
    }

    /// Floating-point operations of the forward pass (2 per multiply-add), padding `kernel / 2`.
    public var forwardFLOP: Double {
        let pad = kernel / 2
        let outH = (height + 2 * pad - kernel) / stride + 1, outW = (width + 2 * pad - kernel) / stride + 1
        return 2 * Double(batch * outH * outW * outputChannels * (inputChannels / groups) * kernel * kernel)
    }

    /// The default set: MobileNet-like depthwise and 1x1 shapes and the teacher's dense 3x3 (same as the peer's).
    public static let mobileNetSet = [
        "128,14,14,96,96,3,1,96", "128,28,28,48,48,3,2,48", "128,7,7,192,192,3,1,192",
        "128,14,14,16,96,1,1,1", "128,14,14,96,16,1,1,1", "128,7,7,32,192,1,1,1",
        "128,28,28,32,32,3,1,1", "128,14,14,64,64,3,1,1", "128,7,7,128,128,3,1,1",
    ].compactMap(ConvShape.init)
}

/// Minnow's time for one convolution shape: forward and forward+backward, ms per call.
public struct ConvTiming: Codable, Sendable {
    public let shape: String
    public let forward: TimingStats
    public let forwardBackward: TimingStats
}

/// Times conv2d forward (no graph) and forward+backward (input and filter gradients) on random data.
public func benchmarkConv(_ shape: ConvShape, iterations: Int, repeats: Int) -> ConvTiming {
    var generator = SeededGenerator(seed: 0)
    let x = Tensor.randomNormal([shape.batch, shape.height, shape.width, shape.inputChannels], generator: &generator)
    let w = Tensor.randomNormal([shape.kernel, shape.kernel, shape.inputChannels / shape.groups, shape.outputChannels],
                                generator: &generator)
    let pad = shape.kernel / 2
    func run(_ x: Tensor, _ w: Tensor) -> Tensor {
        conv2d(x, w, stride: (shape.stride, shape.stride), padding: (pad, pad), groups: shape.groups)
    }
    let forward = measure(iterations: iterations, repeats: repeats) { _ = withoutGrad { run(x, w) } }
    let gy = withoutGrad { Tensor.randomNormal(run(x, w).shape, generator: &generator) }
    let forwardBackward = measure(iterations: iterations, repeats: repeats) {
        let xl = x.requiringGrad(), wl = w.requiringGrad()
        run(xl, wl).backward(seed: gy)
    }
    return ConvTiming(shape: shape.description, forward: forward, forwardBackward: forwardBackward)
}
