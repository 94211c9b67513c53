import MinnowTensor
import MinnowTestSupport
import XCTest

final class ActivationTests: XCTestCase {
    /// Points away from every kink (0, 6, ±3) by more than a finite-difference step.
    let points = Tensor(shape: [2, 6], scalars: [-5, -3.4, -2.5, -1, -0.3, 0.4, 1.7, 2.6, 3.5, 5.2, 6.8, 9])

    func testValues() {
        let x = Tensor(shape: [7], scalars: [-4, -3, -1, 0, 1, 4, 7])
        XCTAssertEqual(x.relu().scalars, [0, 0, 0, 0, 1, 4, 7])
        XCTAssertEqual(x.relu6().scalars, [0, 0, 0, 0, 1, 4, 6])
        assertClose(x.leakyRelu(slope: 0.1), Tensor(shape: [7], scalars: [-0.4, -0.3, -0.1, 0, 1, 4, 7]))
        assertClose(x.leakyRelu(), Tensor(shape: [7], scalars: [-0.04, -0.03, -0.01, 0, 1, 4, 7]))
        assertClose(x.hardswish(), Tensor(shape: [7], scalars: [0, 0, -1.0 / 3, 0, 2.0 / 3, 4, 7]))
        assertClose(Tensor(shape: [3], scalars: [0, 2, -100]).sigmoid(),
                    Tensor(shape: [3], scalars: [0.5, 0.880797, 0]))
        assertClose(Tensor(shape: [3], scalars: [0, 0.5, -20]).tanh(),
                    Tensor(shape: [3], scalars: [0, 0.462117, -1]))
    }

    func testDerivativesAtKinksFollowPyTorch() {
        let x = Tensor(shape: [6], scalars: [-3, 0, 3, 6, -4, 4]).requiringGrad()
        x.relu().sum().backward()
        XCTAssertEqual(x.grad?.scalars, [0, 0, 1, 1, 0, 1])
        x.zeroGrad()
        x.relu6().sum().backward()
        XCTAssertEqual(x.grad?.scalars, [0, 0, 1, 0, 0, 1])
        x.zeroGrad()
        x.hardswish().sum().backward()
        XCTAssertEqual(x.grad!.scalars, [0, 0.5, 1, 1, 0, 1])  // torch.nn.functional.hardswish
    }

    func testGradients() {
        GradientCheck.check([points]) { $0[0].relu() }
        GradientCheck.check([points]) { $0[0].relu6() }
        GradientCheck.check([points]) { $0[0].leakyRelu(slope: 0.2) }
        GradientCheck.check([points]) { $0[0].hardswish() }
        GradientCheck.check([points]) { $0[0].sigmoid() }
        GradientCheck.check([points.scaled(by: 0.3)]) { $0[0].tanh() }
        GradientCheck.check([points]) { $0[0].silu() }
    }
}
