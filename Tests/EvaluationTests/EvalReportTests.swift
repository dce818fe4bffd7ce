import DataIO
import Foundation
import TestSupport
import XCTest
#if canImport(FoundationXML)
import FoundationXML
@testable import Evaluation
#endif

/// The report files of `rstrain eval` (the figures are those worked out in EvalMetricsTests)
/// and the curves of `rstrain eval --run`.
final class EvalReportTests: ScratchTestCase {
    func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    func testCommandLineWritesEveryFileWithTheFigures() throws {
        let (p, r) = try EvalFixture.write(to: dir)
        let out = dir + "/report"
        let res = try runProcess(try rstrainBinary(), ["eval", "--prediction", p, "--reference", r, "--classes", "3",
                                                       "--boundary-tolerance", "0", "--out", out])
        XCTAssertEqual(res.status, 0, res.stderr)
        // Text table: OA 10/13, kappa 72/111, mIoU 269/420, boundary F1 18/19.
        for figure in ["0.7692", "0.6486", "0.6405", "0.9474"] { XCTAssertTrue(res.stdout.contains(figure), "\(figure) in\n\(res.stdout)") }

        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try read(out + "/metrics.json").utf8)) as? [String: Any])
        XCTAssertEqual(try XCTUnwrap((json["kappa"] as? NSNumber)?.doubleValue), 72.0 / 111, accuracy: 1e-12)
        XCTAssertEqual(json["confusion"] as? [[Int]], [[3, 1, 0], [1, 4, 0], [0, 1, 3]])
        let boundary = try XCTUnwrap(json["boundary"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap((boundary["f1"] as? NSNumber)?.doubleValue), 18.0 / 19, accuracy: 1e-12)

        XCTAssertEqual(try read(out + "/confusion.csv"), "reference\\predicted,0,1,2\n0,3,1,0\n1,1,4,0\n2,0,1,3\n")
        let csv = try read(out + "/metrics.csv").split(separator: "\n")
        XCTAssertEqual(csv.count, 4)
        XCTAssertEqual(csv[3], "2,2,4,3,1.0,0.75,\(6.0 / 7),0.75")

        // The heat map is XML with one cell per matrix entry; row 1's shares are 0.20 0.80 0.00.
        let svg = try XMLElements(Data(try read(out + "/confusion.svg").utf8))
        XCTAssertEqual(svg.elements.first?.name, "svg")
        XCTAssertEqual(svg.elements.filter { $0.name == "rect" && $0.attributes["stroke"] == "#ddd" }.count, 9)
        XCTAssertTrue(svg.text.contains("0.20\n0.80\n0.00"), svg.text)
        let html = try read(out + "/report.html")
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>") && html.contains("<svg") && html.contains("0.7692") && html.contains("0.7273"), html)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/report.html.tmp"))
    }

    func testCategoryNamesOfTheReferenceLabelTheHeatMap() throws {
        let (p, r) = try EvalFixture.write(to: dir)
        try EvalFixture.nameClasses(r, ["water", "forest & trees", "urban"], colors: [(0, 0, 255), (0, 128, 0), (200, 0, 0)])
        let e = try ClassificationEvaluation(prediction: p, reference: r, classes: 3)
        XCTAssertEqual(e.classLabels, ["water", "forest & trees", "urban"])
        XCTAssertEqual(e.classColors, ["#0000ff", "#008000", "#c80000"])
        let svg = try XMLElements(Data(e.confusionSVG.utf8))
        XCTAssertTrue(svg.text.contains("forest & trees"), svg.text)
        // A swatch on each axis per coloured class.
        XCTAssertEqual(svg.elements.filter { $0.name == "rect" && $0.attributes["fill"] == "#008000" }.count, 2)
        XCTAssertTrue(e.metricsCSV.contains("\n1,forest & trees,5,6,"), e.metricsCSV)
    }

    func testMismatchedGridIsACommandLineErrorNamingBothFiles() throws {
        let (p, _) = try EvalFixture.write(to: dir)
        let wide = dir + "/wide.tif"
        try GeoTIFF.write(wide, width: 5, height: 4, bands: 1, data: [UInt8](repeating: 0, count: 20),
                          geoTransform: EvalFixture.geoTransform, tileSize: 16)
        let res = try runProcess(try rstrainBinary(), ["eval", "--prediction", p, "--reference", wide, "--out", dir + "/no"])
        XCTAssertNotEqual(res.status, 0)
        XCTAssertTrue(res.stderr.contains(p) && res.stderr.contains(wide) && res.stderr.contains("5×4"), res.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/no"))
    }

    /// Two models, three steps each, validations in rounds 0 and 1 (round 1 final).
    func writeRun() throws -> String {
        let run = dir + "/run"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        var lines: [String] = []
        for (m, base) in [("unet", 2.0), ("fcn", 3.0)] {
            for s in 0..<3 {
                lines.append(#"{"type":"step","model":"\#(m)","round":\#(s / 2),"step":\#(s),"global_step":\#(s),"loss":\#(base - Double(s) * 0.5),"overall_accuracy":0.5}"#)
            }
            lines.append(#"{"type":"validation","model":"\#(m)","round":0,"loss":\#(base),"overall_accuracy":0.6,"shards":["a"],"final":false}"#)
            lines.append(#"{"type":"validation","model":"\#(m)","round":1,"loss":\#(base - 1),"overall_accuracy":\#(m == "unet" ? 0.8125 : 0.6875),"shards":["a"],"final":true}"#)
        }
        lines.append(#"{"type":"checkpoint","round":1}"#)
        try (lines.joined(separator: "\n") + "\n").write(toFile: run + "/metrics.jsonl", atomically: true, encoding: .utf8)
        return run
    }

    func testRunCurvesHaveOnePolylinePerModelAndTheFinalValidation() throws {
        let run = try writeRun()
        let c = try RunCurves(runDir: run)
        XCTAssertEqual(c.models, ["unet", "fcn"])
        XCTAssertEqual(c.loss["fcn"]?.map(\.y), [3, 2.5, 2])
        XCTAssertEqual(c.lastValidation("unet")?.accuracy, 0.8125)

        let out = dir + "/curves"
        let res = try runProcess(try rstrainBinary(), ["eval", "--run", run, "--out", out])
        XCTAssertEqual(res.status, 0, res.stderr)
        let svg = try XMLElements(Data(try read(out + "/curves.svg").utf8))
        let lines = svg.elements.filter { $0.name == "polyline" }
        XCTAssertEqual(lines.filter { $0.attributes["class"] == "loss" }.compactMap { $0.attributes["data-model"] }, ["unet", "fcn"])
        XCTAssertEqual(lines.filter { $0.attributes["class"] == "accuracy" }.compactMap { $0.attributes["data-model"] }, ["unet", "fcn"])
        // Each loss polyline has one point per step record.
        for l in lines where l.attributes["class"] == "loss" {
            XCTAssertEqual(l.attributes["points"]?.split(separator: " ").count, 3)
        }
        let html = try read(out + "/report.html")
        XCTAssertTrue(html.contains("0.8125") && html.contains("0.6875") && html.contains("<polyline"), html)
    }

    func testRunWithoutMetricsIsAnErrorNamingTheFile() throws {
        XCTAssertThrowsError(try RunCurves(runDir: dir)) { e in
            XCTAssertTrue(String(describing: e).contains(dir + "/metrics.jsonl"), String(describing: e))
        }
    }
}
