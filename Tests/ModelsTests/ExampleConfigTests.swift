import Foundation
import Models
import XCTest

/// Every example model in configs/models builds with its default input (the files users copy).
final class ExampleConfigTests: XCTestCase {
    func testEveryExampleModelBuilds() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("configs/models")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, ModelZoo.builders.count, "an example per builder")
        var archs: Set<String> = []
        for f in files {
            let data = try Data(contentsOf: dir.appendingPathComponent(f))
            let spec = try ModelSpec(data: data, source: f)
            let (builder, params) = (spec.builder, spec.params)
            let m = try ModelZoo.build(builder, params)
            XCTAssertGreaterThan(m.parameterCount, 0, f)
            archs.insert(builder.arch)
        }
        XCTAssertEqual(archs, Set(ModelZoo.archs), "every builder has an example")
    }
}
