import DataIO
import Foundation
import TestSupport
import XCTest
@testable import Evaluation

/// `rstrain eval` against a proportions ("multi-hot") reference: one band per class, band c the
/// share of class c in the pixel at any scale. Its majority class is the reference of every
/// figure; `--soft` adds Σ_p t_{p,pred(p)} / Σ_p Σ_c t_{p,c} with each pixel's shares summing to 1.
final class EvalProportionsTests: ScratchTestCase {
    static let N: UInt8 = 255

    /// 3×3, bands water, forest, crop (UInt8, NODATA 255), pixel by pixel (t0, t1, t2):
    ///   (100,0,0) (60,40,0) (20,80,0)
    ///   (0,0,0)   (30,30,40) (3,3,0)
    ///   (50,N,50) (0,0,7)   (10,50,40)
    /// (0,0,0) has no share and (50,N,50) is NODATA in band 2: both left out. (3,3,0) ties:
    /// the first maximum, water, wins; (0,0,7) is crop at another scale.
    static let reference: [UInt8] = [100, 60, 20, 0, 30, 3, 50, 0, 10,   // band 1 (water)
                                     0, 40, 80, 0, 30, 3, N, 0, 50,      // band 2 (forest)
                                     0, 0, 0, 0, 40, 0, 50, 7, 40]       // band 3 (crop)
    static let prediction: [UInt8] = [0, 1, 1,
                                      2, 0, 1,
                                      0, 2, 2]

    /// Counted by hand (reference = majority class; 7 pixels, 2 excluded):
    ///   pixel      ref  pred  share of pred
    ///   (100,0,0)   0    0     1
    ///   (60,40,0)   0    1     0.4
    ///   (20,80,0)   1    1     0.8
    ///   (30,30,40)  2    0     0.3
    ///   (3,3,0)     0    1     0.5
    ///   (0,0,7)     2    2     1
    ///   (10,50,40)  1    2     0.4
    /// confusion (rows reference): water [1,2,0], forest [0,1,1], crop [1,0,1]; OA 3/7;
    /// soft = (1 + 0.4 + 0.8 + 0.3 + 0.5 + 1 + 0.4) / 7 = 4.4/7.
    static let confusion = [[1, 2, 0], [0, 1, 1], [1, 0, 1]]
    static let soft = 4.4 / 7

    /// prediction.tif (one band) and shares.tif (three bands named water, forest, crop).
    func write() throws -> (prediction: String, reference: String) {
        let p = dir + "/prediction.tif", r = dir + "/shares.tif"
        try GeoTIFF.write(p, width: 3, height: 3, bands: 1, data: Self.prediction, geoTransform: EvalFixture.geoTransform,
                          projection: "EPSG:32633", noData: 255, tileSize: 16)
        try GeoTIFF.write(r, width: 3, height: 3, bands: 3, data: Self.reference, geoTransform: EvalFixture.geoTransform,
                          projection: "EPSG:32633", noData: 255, bandDescriptions: ["water", "forest", "crop"], tileSize: 16)
        return (p, r)
    }

    func testMajorityClassAndSoftAgreementForAnyStripHeight() throws {
        let (p, r) = try write()
        let whole = try ClassificationEvaluation(prediction: p, reference: r, soft: true)
        XCTAssertEqual(whole.proportionBands, 3)
        XCTAssertEqual(whole.metrics.classes, 3)
        XCTAssertEqual(whole.metrics.confusionRows, Self.confusion)
        XCTAssertEqual(whole.metrics.pixels, 7)
        XCTAssertEqual(whole.excludedPixels, 2)
        XCTAssertEqual(whole.metrics.overallAccuracy, 3.0 / 7)
        XCTAssertEqual(whole.softSums?.mass, 7)
        XCTAssertEqual(try XCTUnwrap(whole.softAccuracy), Self.soft, accuracy: 1e-12)
        XCTAssertEqual(whole.classLabels, ["water", "forest", "crop"])
        // Strips of 1 and 2 rows (the boundary halo included) give the same figures, the sums exactly.
        for strip in [1, 2] {
            let e = try ClassificationEvaluation(prediction: p, reference: r, stripRows: strip, soft: true)
            XCTAssertEqual(e.metrics.confusionRows, Self.confusion, "strip \(strip)")
            XCTAssertEqual(e.softSums?.agreed, whole.softSums?.agreed, "strip \(strip)")
            XCTAssertEqual(e.softSums?.mass, whole.softSums?.mass, "strip \(strip)")
            XCTAssertEqual(e.boundary.f1, whole.boundary.f1, "strip \(strip)")
        }
        // Without --soft the majority figures stand alone.
        let hard = try ClassificationEvaluation(prediction: p, reference: r)
        XCTAssertEqual(hard.metrics.confusionRows, Self.confusion)
        XCTAssertNil(hard.softSums)
        XCTAssertNil(hard.jsonObject["soft_accuracy"])
    }

    /// The command line: --soft --json on stdout, and the files of --out.
    func testCommandLineReportsSoftAccuracy() throws {
        let (p, r) = try write()
        let out = dir + "/report"
        let res = try runProcess(try rstrainBinary(), ["eval", "--prediction", p, "--reference", r, "--soft", "--json", "--out", out])
        XCTAssertEqual(res.status, 0, res.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(res.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["confusion"] as? [[Int]], Self.confusion)
        XCTAssertEqual(json["pixels"] as? Int, 7)
        XCTAssertEqual(json["excluded_pixels"] as? Int, 2)
        XCTAssertEqual(json["reference_bands"] as? Int, 3)
        XCTAssertEqual(json["class_names"] as? [String], ["water", "forest", "crop"])
        XCTAssertEqual(try XCTUnwrap(json["soft_accuracy"] as? Double), Self.soft, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(json["soft_agreed"] as? Double), 4.4, accuracy: 1e-12)
        XCTAssertEqual(json["soft_mass"] as? Double, 7)
        let summary = try String(contentsOfFile: out + "/summary.csv")
        XCTAssertTrue(summary.hasPrefix("figure,value\n"), summary)
        let line = try XCTUnwrap(summary.split(separator: "\n").first { $0.hasPrefix("soft_accuracy,") })
        XCTAssertEqual(try XCTUnwrap(Double(line.dropFirst("soft_accuracy,".count))), Self.soft, accuracy: 1e-12)
        XCTAssertTrue(try String(contentsOfFile: out + "/report.html").contains("soft accuracy"))
        let text = try runProcess(try rstrainBinary(), ["eval", "--prediction", p, "--reference", r, "--soft"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("soft accuracy") && text.stdout.contains(String(format: "%.4f", Self.soft)), text.stdout)
    }

    func testErrors() throws {
        let (p, r) = try write()
        // --soft with a one-band reference: the prediction itself serves as one.
        let one = try runProcess(try rstrainBinary(), ["eval", "--prediction", p, "--reference", p, "--soft"])
        XCTAssertNotEqual(one.status, 0)
        XCTAssertTrue(one.stderr.contains("--soft needs a proportions reference") && one.stderr.contains(p), one.stderr)
        // --classes other than the band count names both.
        let four = try runProcess(try rstrainBinary(), ["eval", "--prediction", p, "--reference", r, "--classes", "4"])
        XCTAssertNotEqual(four.status, 0)
        XCTAssertTrue(four.stderr.contains("--classes 4") && four.stderr.contains("3 bands") && four.stderr.contains(r), four.stderr)
        XCTAssertNoThrow(try ClassificationEvaluation(prediction: p, reference: r, classes: 3))
        // A class table maps label values, which a proportions reference does not hold.
        let table = ClassTable(values: [1, 2, 3], names: ["a", "b", "c"])
        XCTAssertThrowsError(try ClassificationEvaluation(prediction: p, reference: r, classTable: table)) { e in
            XCTAssertTrue("\(e)".contains("--class-table") && "\(e)".contains(r), "\(e)")
        }
        // --soft does not apply to regression.
        let reg = try runProcess(try rstrainBinary(), ["eval", "--prediction", p, "--reference", r, "--regression", "--soft"])
        XCTAssertNotEqual(reg.status, 0)
    }
}
