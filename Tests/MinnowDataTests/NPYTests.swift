import Foundation
import MinnowData
import MinnowTensor
import XCTest

final class NPYTests: XCTestCase {
    private var directory: TestDirectory!

    override func setUpWithError() throws { directory = try TestDirectory() }

    func testRoundTripKeepsShapeAndBits() throws {
        let url = directory.url.appendingPathComponent("x.npy")
        for shape in [[2, 3, 4, 1], [5], []] {
            var generator = SeededGenerator(seed: 3)
            let tensor = Tensor.randomNormal(shape, generator: &generator)
            try NPY.write(tensor, to: url)
            XCTAssertEqual(try directory.read("x.npy").count % 64, (4 * tensor.count) % 64, "the data starts at a multiple of 64")
            let read = try NPY.read(url)
            XCTAssertEqual(read.shape, shape)
            XCTAssertEqual(read.scalars.map(\.bitPattern), tensor.scalars.map(\.bitPattern))
        }
    }

    /// A float64 array as numpy writes it by default (`np.save("x.npy", np.arange(3.0))`).
    func testFloat64IsConverted() throws {
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count + 1), 0] + Array(header.utf8) + [0x0A]
        for value in [0.5, -2.0, 3.25] { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        let url = try directory.write("f8.npy", bytes)
        XCTAssertEqual(try NPY.read(url).scalars, [0.5, -2, 3.25])
    }

    func testBadFilesNameTheProblem() throws {
        let header = { (text: String) -> [UInt8] in
            [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count + 1), 0] + Array(text.utf8) + [0x0A]
        }
        let cases: [(String, [UInt8], String)] = [
            ("text.npy", Array("hello".utf8), "no .npy signature"),
            ("int.npy", header("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }") + [UInt8](repeating: 0, count: 8), "'<i4'"),
            ("fortran.npy", header("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }") + [UInt8](repeating: 0, count: 8), "Fortran"),
            ("short.npy", header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }") + [UInt8](repeating: 0, count: 8), "does not match"),
            ("huge.npy", header("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"), "does not match"),
        ]
        for (name, bytes, phrase) in cases {
            let url = try directory.write(name, bytes)
            XCTAssertThrowsError(try NPY.read(url)) { error in
                XCTAssertTrue("\(error)".hasPrefix(url.path) && "\(error)".contains(phrase), "\(name): \(error)")
            }
        }
    }
}
