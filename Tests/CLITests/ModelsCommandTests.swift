import Foundation
import TestSupport
import XCTest

/// `rstrain models`, `models show` and `bench workload` as a user runs them.
final class ModelsCommandTests: XCTestCase {
    func rstrain(_ args: [String]) throws -> ProcessResult { try runProcess(try rstrainBinary(), args) }

    func temp(_ json: String) throws -> String {
        let path = try scratch() + "/model.json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testListAsJSONHasEveryBuilderWithParameters() throws {
        let r = try rstrain(["models", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let unet = try XCTUnwrap(doc.first { $0["arch"] as? String == "unet" })
        let params = try XCTUnwrap(unet["parameters"] as? [[String: Any]])
        let filters = try XCTUnwrap(params.first { $0["key"] as? String == "filters" })
        XCTAssertEqual(filters["default"] as? Int, 16)
        XCTAssertEqual(filters["type"] as? String, "integer")
        XCTAssertEqual(params.first { $0["key"] as? String == "levels" }?["default"] as? String, "auto")
        XCTAssertEqual(params.first { $0["key"] as? String == "upsampling" }?["choices"] as? [String], ["transpose", "nearest", "bilinear"])
    }

    func testShowPrintsLayersAndTheReferenceTotal() throws {
        let path = try temp(#"{"arch": "unet", "filters": 16, "levels": 3, "bands": 10, "classes": 10}"#)
        let r = try rstrain(["models", "show", path, "--input", "10x64x64"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("Total params: 484,602"), r.stdout)
        // Column widths follow the longest layer type (batchnorm_relu): match across the padding.
        XCTAssertNotNil(r.stdout.range(of: #"enc1\.conv1 \(conv2d\) +16×64×64 +1,456"#, options: .regularExpression), r.stdout)
        XCTAssertTrue(r.stdout.contains("cat1 (concat)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Output: 10×64×64 per sample"), r.stdout)
    }

    func testShowRefusesBadSettingsNamingTheKey() throws {
        let typo = try rstrain(["models", "show", try temp(#"{"arch": "unet", "filtres": 16}"#)])
        XCTAssertNotEqual(typo.status, 0)
        XCTAssertTrue(typo.stderr.contains("'filtres'"), typo.stderr)
        let levels = try rstrain(["models", "show", try temp(#"{"arch": "unet", "levels": 4}"#), "--input", "10x40x40"])
        XCTAssertNotEqual(levels.status, 0)
        XCTAssertTrue(levels.stderr.contains("'levels'"), levels.stderr)
        let notJSON = try rstrain(["models", "show", try temp("{arch: unet")])
        XCTAssertNotEqual(notJSON.status, 0)
        XCTAssertTrue(notJSON.stderr.contains("not valid JSON"), notJSON.stderr)
        let shape = try rstrain(["models", "show", try temp(#"{"arch": "unet"}"#), "--input", "10xbig"])
        XCTAssertNotEqual(shape.status, 0)
        XCTAssertTrue(shape.stderr.contains("--input"), shape.stderr)
    }

    func testBenchWorkloadReportsTheReferenceParameterCount() throws {
        let r = try rstrain(["bench", "workload", "unet3d_t8_64", "--json", "--seconds", "0.1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").last)
        let j = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(j["params"] as? Int, 87_362)
        XCTAssertEqual(j["reference_params"] as? Int, 87_362)
        XCTAssertGreaterThan(j["samples_per_s"] as? Double ?? 0, 0)
        XCTAssertNotNil(j["blas_core"] as? String)
        let bad = try rstrain(["bench", "workload", "resnet9000"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("unknown workload"), bad.stderr)
    }
}
