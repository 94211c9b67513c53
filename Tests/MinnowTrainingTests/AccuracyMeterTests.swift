import MinnowTensor
import MinnowTraining
import XCTest

/// Top-1 and top-5 count a class as predicted the way argmax picks it: on equal scores (common for
/// int8 logits) the lowest index wins, as in numpy, PyTorch and Minnow's runtime.
final class AccuracyMeterTests: XCTestCase {
    func testTiesGoToTheLowestIndex() {
        var meter = AccuracyMeter()
        let logits = Tensor(shape: [4, 6], scalars: [
            1, 3, 3, 0, 0, 0,  // tie between 1 and 2: argmax 1
            1, 3, 3, 0, 0, 0,
            5, 5, 5, 5, 5, 5,  // all equal: argmax 0
            0, 1, 2, 2, 2, 2,  // label 5: three equal scores at lower indices rank ahead of it: 4th
        ])
        meter.add(logits: logits, labels: [1, 2, 3, 5], meanLoss: 0)
        let result = meter.result(classes: 6)
        XCTAssertEqual(result.top1, 0.25, "only the first row's label is the argmax")
        XCTAssertEqual(result.top5, 1.0, "every label ranks within the first five")
    }
}
