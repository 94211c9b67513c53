import Foundation
import MinnowHDF5
import XCTest

/// A fresh folder per test, removed afterwards.
class HDF5TestCase: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("minnow-hdf5-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// A path inside the test's folder.
    func file(_ name: String) -> URL { folder.appendingPathComponent(name) }

    /// Asserts that `body` throws exactly `expected`.
    func assertThrows<R>(_ expected: CheckpointErrorMatcher, _ body: () throws -> R,
                         file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected an error, got a value", file: file, line: line)
        } catch let error as HDF5Error {
            XCTAssertTrue(expected.matches(error), "unexpected error: \(error)", file: file, line: line)
        } catch {
            XCTFail("expected a HDF5Error, got \(error)", file: file, line: line)
        }
    }
}

/// Which error a test expects: an exact value, or a case whose detail comes from HDF5.
enum CheckpointErrorMatcher {
    case exactly(HDF5Error)
    case corrupt
    case anyError

    func matches(_ error: HDF5Error) -> Bool {
        switch self {
        case let .exactly(expected): return error == expected
        case .corrupt: if case .corrupt = error { return true } else { return false }
        case .anyError: return true
        }
    }
}
