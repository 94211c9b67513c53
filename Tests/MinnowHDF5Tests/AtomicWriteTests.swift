import Foundation
import MinnowCheckpoint
import MinnowHDF5
import MinnowTensor
import XCTest

final class AtomicWriteTests: HDF5TestCase {
    private struct Interrupted: Error {}

    private func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".tmp-") }
    }

    func testWriteCreatesThenReplacesTheFile() throws {
        let url = file("last.h5")
        for version in Int64(1)...2 {
            try HDF5File.writeAtomically(to: url) { file in
                try file.setAttribute("format_version", version)
                try file.write(Tensor.full([2, 2], Float(version)), to: "/model/fc/weight")
            }
            let reader = try HDF5File.open(url)
            XCTAssertEqual(try reader.attribute("format_version", as: Int64.self), version)
            XCTAssertEqual(try reader.readTensor("/model/fc/weight").scalars, [Float](repeating: Float(version), count: 4))
        }
        XCTAssertEqual(try leftovers(), [])
    }

    func testFailureLeavesTheOldFileAndNoTemporary() throws {
        let url = file("last.h5")
        try HDF5File.writeAtomically(to: url) { file in try file.setAttribute("format_version", Int64(1)) }
        let before = try Data(contentsOf: url)

        XCTAssertThrowsError(try HDF5File.writeAtomically(to: url) { file in
            try file.setAttribute("format_version", Int64(2))
            try file.write(Tensor.zeros([1000]), to: "/model/fc/weight")
            throw Interrupted()
        }) { error in XCTAssertTrue(error is Interrupted, "the body's error comes back unchanged: \(error)") }
        XCTAssertThrowsError(try HDF5File.writeAtomically(to: url) { file in
            _ = try file.readTensor("/not/written")
        }) { error in
            XCTAssertEqual(error as? HDF5Error, .missingObject(file: file(".last.h5.tmp-\(getpid())").path,
                                                                     path: "/not/written", expected: "dataset"))
        }
        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(try leftovers(), [])
    }

    func testMissingFolderIsAnError() {
        let url = file("no/such/folder/last.h5")
        XCTAssertThrowsError(try HDF5File.writeAtomically(to: url) { _ in }) { error in
            guard case .cannotCreate? = error as? HDF5Error else {
                return XCTFail("expected .cannotCreate, got \(error)")
            }
        }
    }
}
