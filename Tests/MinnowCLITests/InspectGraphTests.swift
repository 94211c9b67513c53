import Foundation
import MinnowCheckpoint
import MinnowModels
import MinnowNN
import XCTest

/// `minnow inspect --graph` on each preset's checkpoint: the traced ops, adds and concats among
/// them, as a table and as JSON that decodes to the same graph.
final class InspectGraphTests: CLITestCase {
    func testGraphOfEachPresetShowsItsAddsAndConcats() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (preset, kind, count) in [("teacher", "add", 6), ("student_mbv2", "add", 6), ("student_squeeze", "concat", 6)] {
            let config = try XCTUnwrap(ModelConfig.preset(preset))
            let url = folder.appendingPathComponent("\(preset).h5")
            try ModelCheckpoint.save(try ModelZoo.build(config), config: config, to: url)
            let table = try minnow(["inspect", url.path, "--graph"])
            XCTAssertTrue(table.succeeded, table.standardError)
            let rows = table.standardOutput.split(separator: "\n").filter { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == Substring(kind) }
            XCTAssertEqual(rows.count, count, "\(preset): \(kind) rows in\n\(table.standardOutput)")
            XCTAssertTrue(table.standardOutput.contains("MACs per image"), table.standardOutput)

            let json = try minnow(["inspect", url.path, "--graph", "--json"])
            XCTAssertTrue(json.succeeded, json.standardError)
            let graph = try JSONDecoder().decode(ModelGraph.self, from: Data(json.standardOutput.utf8))
            XCTAssertEqual(graph.ops.filter { $0.kind.rawValue == kind }.count, count, preset)
            XCTAssertEqual(graph.parameterCount, ModelSummary(model: try ModelZoo.build(config), inputShape: [1, 28, 28, 1]).totalParameters)
        }
    }
}
