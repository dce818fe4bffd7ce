import DataIO
import Foundation
import TestSupport
import XCTest
@testable import Evaluation

/// A 2×2, two-band float pair with NODATA -9999 in the prediction's band 2, by hand:
/// band 1: reference 1 2 3 4, prediction 1 3 2 6 → errors 0 1 −1 2: SSE 6, RMSE √(6/4),
///   MAE 4/4 = 1; reference mean 2.5, SS_tot 2.25+0.25+0.25+2.25 = 5, R² = 1 − 6/5 = −0.2.
/// band 2: reference 2 4 6 8, prediction 2 5 6 NODATA → 3 pixels, errors 0 1 0: RMSE √(1/3),
///   MAE 1/3; mean 4, SS_tot 4+0+4 = 8, R² = 1 − 1/8 = 0.875.
final class EvalRegressionTests: ScratchTestCase {
    func write() throws -> (String, String) {
        let p = dir + "/pred.tif", r = dir + "/truth.tif"
        let gt = [0.0, 1, 0, 2, 0, -1]
        try GeoTIFF.write(p, width: 2, height: 2, bands: 2, data: [Float(1), 3, 2, 6, 2, 5, 6, -9999], geoTransform: gt,
                          noData: -9999, tileSize: 16)
        try GeoTIFF.write(r, width: 2, height: 2, bands: 2, data: [Float(1), 2, 3, 4, 2, 4, 6, 8], geoTransform: gt, tileSize: 16)
        return (p, r)
    }

    func testRMSEMAEAndR2PerBandMatchTheHandCount() throws {
        let (p, r) = try write()
        let m = try RegressionMetrics(prediction: p, reference: r)
        XCTAssertEqual(m.bands.map(\.pixels), [4, 3])
        XCTAssertEqual(try XCTUnwrap(m.bands[0].rmse), (6.0 / 4).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.bands[0].mae), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.bands[0].r2), -0.2, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.bands[1].rmse), (1.0 / 3).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.bands[1].mae), 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.bands[1].r2), 0.875, accuracy: 1e-12)
    }

    func testCommandLineRegressionJSONAndFiles() throws {
        let (p, r) = try write()
        let out = dir + "/report"
        let res = try runProcess(try rstrainBinary(), ["eval", "--prediction", p, "--reference", r, "--regression", "--json", "--out", out])
        XCTAssertEqual(res.status, 0, res.stderr)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(res.stdout.utf8)) as? [String: Any])
        let bands = try XCTUnwrap(o["bands"] as? [[String: Any]])
        XCTAssertEqual(try XCTUnwrap((bands[1]["r2"] as? NSNumber)?.doubleValue), 0.875, accuracy: 1e-12)
        let csv = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 3)
        XCTAssertTrue(csv.contains("2,3,\((1.0 / 3).squareRoot()),\(1.0 / 3),0.875"), csv)
        XCTAssertTrue(try String(contentsOfFile: out + "/report.html", encoding: .utf8).contains("0.8750"))
    }

    func testBandCountMismatchIsRefused() throws {
        let (p, _) = try write()
        let one = dir + "/one.tif"
        try GeoTIFF.write(one, width: 2, height: 2, bands: 1, data: [Float](repeating: 0, count: 4),
                          geoTransform: [0.0, 1, 0, 2, 0, -1], tileSize: 16)
        XCTAssertThrowsError(try RegressionMetrics(prediction: p, reference: one)) { e in
            let text = String(describing: e)
            XCTAssertTrue(text.contains(p) && text.contains(one) && text.contains("2 bands"), text)
        }
    }
}
