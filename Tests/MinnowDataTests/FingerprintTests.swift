import MinnowData
import XCTest

final class FingerprintTests: XCTestCase {
    func testFingerprintSeparatesSequencesFromConcatenations() {
        var a = Fingerprint(), b = Fingerprint()
        a.combine("ab")
        a.combine("c")
        b.combine("a")
        b.combine("bc")
        XCTAssertNotEqual(a.hex, b.hex)
        XCTAssertEqual(a.hex.count, 32)
        var c = Fingerprint()
        c.combine("ab")
        c.combine("c")
        XCTAssertEqual(a, c)
    }

    /// One changed pixel, one changed label, a subset or another normalization: another fingerprint.
    func testDatasetFingerprintFollowsTheContent() {
        let pixels = (0..<(20 * 9)).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let data = Dataset(name: "tiny", pixels: pixels, labels: (0..<20).map { $0 % 3 }, imageShape: [3, 3, 1], classCount: 3)
        var pixel = pixels
        pixel[100] &+= 1
        var label = data.labels
        label[7] = 2
        let variants = [
            Dataset(name: "tiny", pixels: pixel, labels: data.labels, imageShape: [3, 3, 1], classCount: 3),
            Dataset(name: "tiny", pixels: pixels, labels: label, imageShape: [3, 3, 1], classCount: 3),
            data.randomSubset(count: 19, seed: 1),
        ]
        let original = Fingerprint.of(dataset: data).hex
        XCTAssertEqual(Fingerprint.of(dataset: Dataset(name: "tiny", pixels: pixels, labels: data.labels, imageShape: [3, 3, 1],
                                                       classCount: 3)).hex, original)
        for variant in variants { XCTAssertNotEqual(Fingerprint.of(dataset: variant).hex, original) }
        XCTAssertNotEqual(Fingerprint.of(dataset: data, normalization: .unitRange(channels: 1)).hex, original)
    }
}
