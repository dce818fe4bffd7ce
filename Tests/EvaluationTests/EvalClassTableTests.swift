import DataIO
import Foundation
import TestSupport
import XCTest
@testable import Evaluation

/// `rstrain eval --class-table`: a reference holding a repository's label values (1…3, NODATA 0)
/// scored against a prediction holding class indices (0…2, NODATA 255), as `rstrain predict`
/// writes them.
final class EvalClassTableTests: ScratchTestCase {
    static let N: UInt8 = 255

    /// Values: 1 water, 2 forest, 3 crop; 7 is in no class; 9 is shard.json's label_nodata; 0 the
    /// raster's NODATA.
    /// y0: 1 1 2 7 / y1: 1 1 2 2 / y2: 3 3 2 9 / y3: 3 3 3 0
    static let reference: [UInt8] = [1, 1, 2, 7,
                                     1, 1, 2, 2,
                                     3, 3, 2, 9,
                                     3, 3, 3, 0]
    /// y0: 0 0 0 1 / y1: 0 1 1 1 / y2: 2 2 1 2 / y3: N 2 1 1
    static let prediction: [UInt8] = [0, 0, 0, 1,
                                      0, 1, 1, 1,
                                      2, 2, 1, 2,
                                      N, 2, 1, 1]

    static let manifest = """
    {"sensor": "test", "classes": [{"value": 1, "name": "water"}, {"value": 2, "name": "forest"}, {"value": 3, "name": "crop"}],
     "label_nodata": 9}
    """

    /// prediction.tif, label.tif and a repository folder `repo/` holding shard.json.
    func write() throws -> (prediction: String, reference: String, repo: String) {
        let p = dir + "/prediction.tif", r = dir + "/label.tif", repo = dir + "/repo"
        try GeoTIFF.write(p, width: 4, height: 4, bands: 1, data: Self.prediction, geoTransform: EvalFixture.geoTransform,
                          projection: "EPSG:32633", noData: 255, tileSize: 16)
        try GeoTIFF.write(r, width: 4, height: 4, bands: 1, data: Self.reference, geoTransform: EvalFixture.geoTransform,
                          projection: "EPSG:32633", noData: 0, tileSize: 16)
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        try Self.manifest.write(toFile: repo + "/shard.json", atomically: true, encoding: .utf8)
        return (p, r, repo)
    }

    /// Counted by hand (reference index = value − 1): 12 pixels counted; left out are the 7 (not
    /// in the table), the 9 (label_nodata), the 0 (the raster's NODATA) and the predicted NODATA.
    func testReferenceValuesAreMappedToIndices() throws {
        let (p, r, repo) = try write()
        let table = try LabelPair.classTable(at: repo)
        XCTAssertEqual(table.names, ["water", "forest", "crop"])
        for strip in [1, 3, 4] {
            let e = try ClassificationEvaluation(prediction: p, reference: r, stripRows: strip, classTable: table)
            XCTAssertEqual(e.metrics.classes, 3)
            XCTAssertEqual(e.metrics.confusionRows, [[3, 1, 0], [1, 3, 0], [0, 1, 3]], "strip \(strip)")
            XCTAssertEqual(e.metrics.pixels, 12)
            XCTAssertEqual(e.excludedPixels, 4)
            XCTAssertEqual(e.metrics.overallAccuracy, 9.0 / 12)
            XCTAssertEqual(e.classLabels, ["water", "forest", "crop"])
        }
        // The shard.json itself names the table too.
        let e = try ClassificationEvaluation(prediction: p, reference: r, classTable: try LabelPair.classTable(at: repo + "/shard.json"))
        XCTAssertEqual(e.metrics.confusionRows, [[3, 1, 0], [1, 3, 0], [0, 1, 3]])
    }

    /// The command line: names in metrics.json, the CSVs and the text; the 7 is left out.
    func testCommandLineNamesTheClasses() throws {
        let (p, r, repo) = try write()
        let out = dir + "/report"
        let res = try runProcess(try rstrainBinary(), ["eval", "--prediction", p, "--reference", r, "--class-table", repo, "--out", out])
        XCTAssertEqual(res.status, 0, res.stderr)
        XCTAssertTrue(res.stdout.contains("12 counted, 4 excluded"), res.stdout)
        XCTAssertTrue(res.stdout.contains("water"), res.stdout)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as? [String: Any])
        XCTAssertEqual(json["class_names"] as? [String], ["water", "forest", "crop"])
        XCTAssertEqual((json["class_values"] as? [NSNumber])?.map(\.doubleValue), [1, 2, 3])
        XCTAssertEqual(json["confusion"] as? [[Int]], [[3, 1, 0], [1, 3, 0], [0, 1, 3]])
        XCTAssertEqual(json["excluded_pixels"] as? Int, 4)
        let perClass = try XCTUnwrap(json["per_class"] as? [[String: Any]])
        XCTAssertEqual(perClass.map { $0["name"] as? String }, ["water", "forest", "crop"])
        XCTAssertEqual(try String(contentsOfFile: out + "/confusion.csv"),
                       "reference\\predicted,water,forest,crop\nwater,3,1,0\nforest,1,3,0\ncrop,0,1,3\n")
        XCTAssertTrue(try String(contentsOfFile: out + "/metrics.csv").contains("\n2,crop,4,3,"))
        XCTAssertTrue(try String(contentsOfFile: out + "/confusion.svg").contains("forest"))
        XCTAssertTrue(try String(contentsOfFile: out + "/report.html").contains("crop"))

        // Without the table the values are taken as indices: 1…3 against 0…2, another matrix.
        let raw = try ClassificationEvaluation(prediction: p, reference: r)
        XCTAssertNotEqual(raw.metrics.confusionRows, [[3, 1, 0], [1, 3, 0], [0, 1, 3]])
    }

    /// Scored without its class table, the 1…3 reference gives an overall accuracy near zero;
    /// eval says why. Counted by hand: 14 pixels; 9 agree as reference − 1 = predicted (three
    /// each of 1→0, 2→1, 3→2), 1 as equal (1, 1).
    func testAClassTablesValuesWithoutTheTableGetAHint() throws {
        let (p, r, repo) = try write()
        let raw = try ClassificationEvaluation(prediction: p, reference: r)
        XCTAssertEqual(raw.metrics.pixels, 14)
        let hint = try XCTUnwrap(raw.hint)
        XCTAssertTrue(hint.contains("64.3%") && hint.contains("7.1%") && hint.contains("--class-table"), hint)
        XCTAssertTrue(raw.text.contains("hint: "), raw.text)
        XCTAssertEqual(raw.jsonObject["hint"] as? String, hint)
        XCTAssertNil(try ClassificationEvaluation(prediction: p, reference: r, classTable: try LabelPair.classTable(at: repo)).hint)
        XCTAssertNil(try ClassificationEvaluation(prediction: p, reference: p).hint, "a map against itself needs no hint")
    }

    func testBadTablesAreRefusedNamingTheFileAndKey() throws {
        let (p, r, repo) = try write()
        func message(_ table: String) throws -> String {
            try table.write(toFile: repo + "/shard.json", atomically: true, encoding: .utf8)
            let res = try runProcess(try rstrainBinary(), ["eval", "--prediction", p, "--reference", r, "--class-table", repo])
            XCTAssertNotEqual(res.status, 0)
            return res.stderr
        }
        let none = try message(#"{"sensor": "test"}"#)
        XCTAssertTrue(none.contains(repo + "/shard.json") && none.contains("no class table"), none)
        let empty = try message(#"{"classes": []}"#)
        XCTAssertTrue(empty.contains("no class table"), empty)
        let half = try message(#"{"classes": [{"value": 1, "name": "water"}, {"value": 2.5, "name": "forest"}]}"#)
        XCTAssertTrue(half.contains("classes[1].value") && half.contains("2.5"), half)
        let missing = try runProcess(try rstrainBinary(), ["eval", "--prediction", p, "--reference", r, "--class-table", dir + "/nowhere"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains(dir + "/nowhere"), missing.stderr)
        // A prediction index beyond the table's classes is an error, not dropped (the 2 at
        // column 0, row 2, where the reference 3 is class 1 of this table).
        try Self.manifest.write(toFile: repo + "/shard.json", atomically: true, encoding: .utf8)
        let two = ClassTable(values: [1, 3], names: ["water", "crop"])
        XCTAssertThrowsError(try ClassificationEvaluation(prediction: p, reference: r, classTable: two)) { e in
            XCTAssertTrue("\(e)".contains("outside 0..<2"), "\(e)")
        }
        XCTAssertThrowsError(try ClassificationEvaluation(prediction: p, reference: r, classes: 4, classTable: try LabelPair.classTable(at: repo)))
    }
}
