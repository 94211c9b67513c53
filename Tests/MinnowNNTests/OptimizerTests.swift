import MinnowNN
import MinnowTensor
import MinnowTestSupport
import XCTest

/// Optimizers and schedules against PyTorch's update rules (Tests/Fixtures/generate_optimizers.py).
final class OptimizerTests: XCTestCase {
    /// Five steps with the fixture's gradients; after each, the parameter and the optimizer's whole
    /// state (SGD's momentum buffer, Adam's moments and step count) equal PyTorch's, and a slot that
    /// PyTorch does not keep (plain SGD has no buffer) is absent here too.
    func runOptimizer(_ optimizer: Optimizer, _ name: String, fixture: Fixture) throws {
        let parameter = Parameter(try fixture["param"])
        for step in 1...5 {
            parameter.value.setGrad(try fixture["grad\(step)"])
            optimizer.step([("w", parameter)])
            let label = "\(name) step \(step)"
            try assertClose(parameter.value, fixture["\(name).step\(step)"], rtol: 1e-5, atol: 1e-6, label)
            let slots = optimizer.slots["w"] ?? [:]
            let expected = ["momentum", "exp_avg", "exp_avg_sq"].filter { fixture.tensors["\(name).\($0)\(step)"] != nil }
            XCTAssertEqual(slots.keys.sorted(), expected.sorted(), "\(label): optimizer slots")
            for slot in expected {
                guard let actual = slots[slot] else { continue }
                try assertClose(actual, fixture["\(name).\(slot)\(step)"], rtol: 1e-5, atol: 1e-7, "\(label): \(slot)")
            }
            if let count = fixture.tensors["\(name).count\(step)"] {
                XCTAssertEqual(optimizer.stepCount, Int(count.scalars[0]), "\(label): step count")
            }
        }
    }

    func testOptimizersMatchPyTorch() throws {
        let fixture = try Fixture("optimizers")
        try runOptimizer(SGD(learningRate: 0.1), "sgd", fixture: fixture)
        try runOptimizer(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4), "sgd_momentum", fixture: fixture)
        try runOptimizer(SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4), "sgd_nesterov", fixture: fixture)
        try runOptimizer(Adam(learningRate: 0.01, weightDecay: 1e-2), "adam", fixture: fixture)
        try runOptimizer(Adam.adamW(learningRate: 0.01, weightDecay: 1e-2), "adamw", fixture: fixture)
    }

    func testGradientClippingMatchesPyTorch() throws {
        let fixture = try Fixture("optimizers")
        let a = Parameter(Tensor.zeros([3, 4])), b = Parameter(Tensor.zeros([5]))
        a.value.setGrad(try fixture["clip.a_before"])
        b.value.setGrad(try fixture["clip.b_before"])
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        XCTAssertEqual(norm, try fixture["clip.norm"].scalars[0], accuracy: 1e-4)
        try assertClose(a.grad!, fixture["clip.a_after"], rtol: 1e-5, atol: 1e-6, "clipped a")
        try assertClose(b.grad!, fixture["clip.b_after"], rtol: 1e-5, atol: 1e-6, "clipped b")
    }

    func testSchedulesMatchPyTorch() throws {
        let fixture = try Fixture("optimizers")
        let total = 25
        let oneCycle = OneCycleSchedule(maxRate: 0.1, totalSteps: total)
        let cosine = CosineSchedule(base: 0.1, totalSteps: total, minimum: 0.001)
        let stepped = StepSchedule(base: 0.1, stepSize: 7, gamma: 0.5)
        for step in 0..<total {
            XCTAssertEqual(oneCycle.learningRate(at: step), try fixture["onecycle.lr"].scalars[step], accuracy: 1e-6, "one-cycle lr \(step)")
            XCTAssertEqual(oneCycle.momentum(at: step)!, try fixture["onecycle.momentum"].scalars[step], accuracy: 1e-6, "one-cycle momentum \(step)")
            XCTAssertEqual(cosine.learningRate(at: step), try fixture["cosine.lr"].scalars[step], accuracy: 1e-6, "cosine lr \(step)")
            XCTAssertEqual(stepped.learningRate(at: step), try fixture["step.lr"].scalars[step], accuracy: 1e-7, "step lr \(step)")
        }
    }

    func testCosineWarmupRampsLinearly() {
        let schedule = CosineSchedule(base: 1, totalSteps: 110, warmupSteps: 10, warmupStartFactor: 0)
        XCTAssertEqual(schedule.learningRate(at: 0), 0)
        XCTAssertEqual(schedule.learningRate(at: 5), 0.5, accuracy: 1e-6)
        XCTAssertEqual(schedule.learningRate(at: 10), 1, accuracy: 1e-6)
        XCTAssertEqual(schedule.learningRate(at: 60), 0.5, accuracy: 1e-6)
        XCTAssertEqual(schedule.learningRate(at: 110), 0, accuracy: 1e-6)
    }

    func testScheduleSetsOptimizerRateAndMomentum() {
        let sgd = SGD(learningRate: 1, momentum: 0.9)
        OneCycleSchedule(maxRate: 0.1, totalSteps: 10).apply(to: sgd, step: 0)
        XCTAssertEqual(sgd.learningRate, 0.004, accuracy: 1e-7)
        XCTAssertEqual(sgd.momentum, 0.95, accuracy: 1e-7)
    }
}
