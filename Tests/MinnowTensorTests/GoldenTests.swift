import MinnowTensor
import MinnowTestSupport
import XCTest

/// Minnow's ops against golden values from PyTorch (Tests/Fixtures/generate_golden.py, computed in
/// float64 from the stored float32 inputs; see Tests/Fixtures/README.md for every key).
///
/// Each case runs the op on the fixture's inputs, back-propagates the stored upstream gradient `gy`
/// (scalar losses: `backward()`), and compares the output and every input's gradient elementwise:
/// |actual - expected| <= atol + rtol * |expected|, with rtol = 1e-4 everywhere and
/// atol = 1e-4 for conv2d and batch norm (sums of up to 147 products of order-1 values),
/// atol = 1e-5 for pooling, losses, activations and softmax.
/// PyTorch's own float32 results use at most 2% of these tolerances (the generator checks this).
final class GoldenTests: XCTestCase {
    struct Tolerance {
        let rtol: Float
        let atol: Float
        static let accumulating = Tolerance(rtol: 1e-4, atol: 1e-4)
        static let elementwise = Tolerance(rtol: 1e-4, atol: 1e-5)
    }

    // MARK: conv2d

    func testConv3x3Stride1Pad1() throws { try checkConv2d("conv3x3_s1_p1") }
    func testConv3x3Stride1Pad1NoBias() throws { try checkConv2d("conv3x3_s1_p1_nobias") }
    func testConv3x3Stride2Pad1() throws { try checkConv2d("conv3x3_s2_p1") }
    func testConv3x3Valid() throws { try checkConv2d("conv3x3_valid") }
    func testConv1x1Stride1() throws { try checkConv2d("conv1x1_s1") }
    func testConv1x1Stride2() throws { try checkConv2d("conv1x1_s2") }
    func testDepthwise3x3Stride1() throws { try checkConv2d("depthwise3x3_s1_p1") }
    func testDepthwise3x3Stride2() throws { try checkConv2d("depthwise3x3_s2_p1") }
    func testDepthwise3x3Multiplier2() throws { try checkConv2d("depthwise3x3_multiplier2") }
    func testGroupedConv() throws { try checkConv2d("grouped3x3_g2") }
    func testDilatedConv() throws { try checkConv2d("dilated3x3_d2") }
    func testConv3x1Stride2x1() throws { try checkConv2d("kernel3x1_s2x1") }
    func testConv7x7Stride2() throws { try checkConv2d("conv7x7_s2_p3") }

    static let conv2dCases = [
        "conv3x3_s1_p1", "conv3x3_s1_p1_nobias", "conv3x3_s2_p1", "conv3x3_valid", "conv1x1_s1", "conv1x1_s2",
        "depthwise3x3_s1_p1", "depthwise3x3_s2_p1", "depthwise3x3_multiplier2", "grouped3x3_g2",
        "dilated3x3_d2", "kernel3x1_s2x1", "conv7x7_s2_p3",
    ]

    /// `<name>.config` = [strideH, strideW, padH, padW, dilationH, dilationW, groups]; bias when `<name>.b` exists.
    func checkConv2d(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture("conv2d")
        let c = try integers(fixture["\(name).config"])
        let x = try fixture["\(name).x"].requiringGrad()
        let w = try fixture["\(name).w"].requiringGrad()
        let b = fixture.tensors["\(name).b"]?.requiringGrad()
        let y = conv2d(x, w, bias: b, stride: (c[0], c[1]), padding: (c[2], c[3]),
                       dilation: (c[4], c[5]), groups: c[6])
        try y.backward(seed: fixture["\(name).gy"])
        var results: [String: Tensor?] = ["y": y, "grad_x": gradient(x), "grad_w": gradient(w)]
        if let b { results["grad_b"] = gradient(b) }
        try compare(results, fixture, name, .accumulating, file: file, line: line)
    }

    // MARK: batch norm

    func testBatchNorm2dTraining() throws { try checkBatchNorm("bn2d_train", training: true) }
    func testBatchNorm2dInference() throws { try checkBatchNorm("bn2d_eval", training: false) }
    func testBatchNorm1dTraining() throws { try checkBatchNorm("bn1d_train", training: true) }
    func testBatchNorm1dInference() throws { try checkBatchNorm("bn1d_eval", training: false) }

    static let batchNormCases = ["bn2d_train", "bn2d_eval", "bn1d_train", "bn1d_eval"]

    /// Momentum 0.1 and epsilon 1e-5 (the defaults of both Minnow and PyTorch). Training updates the
    /// running statistics to `<name>.running_mean_after` / `running_var_after`; inference leaves them alone.
    func checkBatchNorm(_ name: String, training: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture("batchnorm")
        let x = try fixture["\(name).x"].requiringGrad()
        let scale = try fixture["\(name).scale"].requiringGrad()
        let offset = try fixture["\(name).offset"].requiringGrad()
        var runningMean = try fixture["\(name).running_mean"]
        var runningVariance = try fixture["\(name).running_var"]
        let y = batchNorm(x, scale: scale, offset: offset, runningMean: &runningMean,
                          runningVariance: &runningVariance, training: training)
        try y.backward(seed: fixture["\(name).gy"])
        try compare(["y": y, "grad_x": gradient(x), "grad_scale": gradient(scale), "grad_offset": gradient(offset)],
                fixture, name, .accumulating, file: file, line: line)
        if training {
            try compare(["running_mean_after": runningMean, "running_var_after": runningVariance],
                    fixture, name, .elementwise, file: file, line: line)
        } else {
            try XCTAssertEqual(runningMean.scalars, fixture["\(name).running_mean"].scalars,
                           "\(name): inference changed the running mean", file: file, line: line)
            try XCTAssertEqual(runningVariance.scalars, fixture["\(name).running_var"].scalars,
                           "\(name): inference changed the running variance", file: file, line: line)
        }
    }

    // MARK: pooling

    func testMaxPool2x2Stride2() throws { try checkPool("maxpool2x2_s2") }
    func testMaxPool3x3Stride2Pad1() throws { try checkPool("maxpool3x3_s2_p1") }
    func testAvgPool2x2Stride2() throws { try checkPool("avgpool2x2_s2") }
    func testAvgPool3x3Stride1Pad1() throws { try checkPool("avgpool3x3_s1_p1") }
    func testGlobalAvgPool() throws { try checkPool("global_avgpool") }

    static let poolingCases = ["maxpool2x2_s2", "maxpool3x3_s2_p1", "avgpool2x2_s2", "avgpool3x3_s1_p1", "global_avgpool"]

    /// `<name>.config` = [kernelH, kernelW, strideH, strideW, padH, padW]; average pooling counts
    /// padding in the divisor (PyTorch's count_include_pad=True). Max-pool inputs have no ties.
    func checkPool(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture("pooling")
        let x = try fixture["\(name).x"].requiringGrad()
        let y: Tensor
        if name == "global_avgpool" {
            y = globalAvgPool2d(x)
        } else {
            let c = try integers(fixture["\(name).config"])
            let pool = name.hasPrefix("max") ? maxPool2d : avgPool2d
            y = pool(x, (c[0], c[1]), (c[2], c[3]), (c[4], c[5]))
        }
        try y.backward(seed: fixture["\(name).gy"])
        try compare(["y": y, "grad_x": gradient(x)], fixture, name, .elementwise, file: file, line: line)
    }

    // MARK: losses

    func testCrossEntropy() throws { try checkCrossEntropy("cross_entropy") }
    func testCrossEntropyLabelSmoothing() throws { try checkCrossEntropy("cross_entropy_smoothed") }
    func testCrossEntropyLargeLogits() throws { try checkCrossEntropy("cross_entropy_large_logits") }
    func testDistillationTemperature1() throws { try checkDistillation("kd_T1") }
    func testDistillationTemperature4() throws { try checkDistillation("kd_T4") }

    static let lossCases = ["cross_entropy", "cross_entropy_smoothed", "cross_entropy_large_logits", "kd_T1", "kd_T4", "mse"]

    func checkCrossEntropy(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture("losses")
        let logits = try fixture["\(name).logits"].requiringGrad()
        let loss = try crossEntropy(logits: logits, labels: integers(fixture["\(name).labels"]),
                                    labelSmoothing: fixture["\(name).label_smoothing"].item)
        loss.backward()
        try compare(["y": loss, "grad_logits": gradient(logits)], fixture, name, .elementwise, file: file, line: line)
    }

    /// T² · KL(softmax(teacher/T) ‖ softmax(student/T)), batch mean; the teacher is a constant.
    func checkDistillation(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture("losses")
        let student = try fixture["\(name).student"].requiringGrad()
        let loss = try klDivergence(studentLogits: student, teacherLogits: fixture["\(name).teacher"],
                                    temperature: fixture["\(name).temperature"].item)
        loss.backward()
        try compare(["y": loss, "grad_student": gradient(student)], fixture, name, .elementwise, file: file, line: line)
    }

    func testMeanSquaredError() throws {
        let fixture = try Fixture("losses")
        let prediction = try fixture["mse.prediction"].requiringGrad()
        let target = try fixture["mse.target"].requiringGrad()
        let loss = mseLoss(prediction, target)
        loss.backward()
        try compare(["y": loss, "grad_prediction": gradient(prediction), "grad_target": gradient(target)],
                fixture, "mse", .elementwise)
    }

    // MARK: activations and softmax

    func testRelu() throws { try checkActivation("relu") { $0.relu() } }
    func testRelu6() throws { try checkActivation("relu6") { $0.relu6() } }
    func testLeakyRelu() throws { try checkActivation("leaky_relu") { $0.leakyRelu() } }  // default slope 0.01 = PyTorch's
    func testHardswish() throws { try checkActivation("hardswish") { $0.hardswish() } }
    func testSigmoid() throws { try checkActivation("sigmoid") { $0.sigmoid() } }
    func testTanh() throws { try checkActivation("tanh") { $0.tanh() } }
    func testSilu() throws { try checkActivation("silu") { $0.silu() } }

    func testSoftmax() throws { try checkSoftmax("softmax", log: false) }
    func testSoftmaxAxis1() throws { try checkSoftmax("softmax_axis1", log: false) }
    func testSoftmaxLargeInputs() throws { try checkSoftmax("softmax_large", log: false) }
    func testLogSoftmax() throws { try checkSoftmax("log_softmax", log: true) }
    func testLogSoftmaxAxis1() throws { try checkSoftmax("log_softmax_axis1", log: true) }
    func testLogSoftmaxLargeInputs() throws { try checkSoftmax("log_softmax_large", log: true) }

    static let activationCases = [
        "relu", "relu6", "leaky_relu", "hardswish", "sigmoid", "tanh", "silu",
        "softmax", "softmax_axis1", "softmax_large", "log_softmax", "log_softmax_axis1", "log_softmax_large",
    ]

    /// Inputs stay at least 0.05 away from every kink (0 and 6 for relu6, ±3 for hardswish).
    func checkActivation(_ name: String, file: StaticString = #filePath, line: UInt = #line,
                         _ op: (Tensor) -> Tensor) throws {
        let fixture = try Fixture("activations")
        let x = try fixture["\(name).x"].requiringGrad()
        let y = op(x)
        try y.backward(seed: fixture["\(name).gy"])
        try compare(["y": y, "grad_x": gradient(x)], fixture, name, .elementwise, file: file, line: line)
    }

    /// `<name>.axis` is the softmax axis (-1 or 1).
    func checkSoftmax(_ name: String, log: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Fixture("activations")
        let axis = try Int(fixture["\(name).axis"].item)
        try checkActivation(name, file: file, line: line) { log ? logSoftmax($0, axis: axis) : softmax($0, axis: axis) }
    }

    // MARK: every fixture case is tested

    func testEveryFixtureCaseHasATest() throws {
        let tested = [
            "conv2d": Self.conv2dCases, "batchnorm": Self.batchNormCases, "pooling": Self.poolingCases,
            "losses": Self.lossCases, "activations": Self.activationCases,
        ]
        for (family, cases) in tested {
            let names = Set(try Fixture(family).tensors.keys.map { key in String(key.prefix { $0 != "." }) })
            XCTAssertEqual(names, Set(cases), "\(family).json cases vs the cases GoldenTests checks")
        }
    }

    /// A key a fixture does not hold fails the test that asked (a thrown `FixtureError` naming the
    /// key and the keys there), not the whole test run.
    func testMissingFixtureKeyIsAnErrorNotATrap() throws {
        let fixture = try Fixture("activations")
        XCTAssertThrowsError(try fixture["no_such_case.y"]) { error in
            XCTAssertTrue("\(error)".hasPrefix("fixture has no tensor 'no_such_case.y'; it has ["), "\(error)")
        }
    }

    // MARK: helpers

    /// Compares each actual tensor with `<name>.<key>` in the fixture.
    func compare(_ actual: [String: Tensor?], _ fixture: Fixture, _ name: String, _ tolerance: Tolerance,
                 file: StaticString = #filePath, line: UInt = #line) throws {
        for key in actual.keys.sorted() {
            guard let value = actual[key] ?? nil else {
                XCTFail("\(name).\(key): no gradient reached this input", file: file, line: line)
                continue
            }
            try assertClose(value, fixture["\(name).\(key)"], rtol: tolerance.rtol, atol: tolerance.atol,
                            "\(name).\(key)", file: file, line: line)
        }
    }

    func gradient(_ leaf: Tensor) -> Tensor? { leaf.grad }

    func integers(_ t: Tensor) -> [Int] { t.scalars.map { Int($0) } }
}
