import Foundation
import TestSupport
import XCTest

/// `rstrain bench data` as a user runs it, at small sizes and one epoch per case: the rates are
/// reported, not judged (they depend on the machine and its load).
final class BenchDataCommandTests: XCTestCase {
    func rstrain(_ args: [String]) throws -> ProcessResult { try runProcess(try rstrainBinary(), args, timeout: 300) }

    func testJSONLinesHaveEveryCaseWithFinitePositiveFigures() throws {
        let r = try rstrain(["bench", "data", "--tiles", "1", "--size", "128", "--window", "64", "--workers", "2",
                             "--seconds", "0", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try r.stdout.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0))
        }
        let cases = lines.map { l in
            ["case", "workers", "readers"].compactMap { k in l[k].map { "\($0)" } }.joined(separator: " ")
        }
        XCTAssertEqual(cases, ["synth", "reader", "loader 1 new", "loader 1 reused", "loader 2 new", "loader 2 reused"],
                       r.stdout)
        for l in lines {
            XCTAssertEqual(l["bench"] as? String, "data")
            XCTAssertEqual(l["sample"] as? String, "10x64x64", "10 bands of a synthesised Sentinel-2 tile")
        }
        // A 128 px tile holds 4 windows of 64 px; every case reads each of them at least once.
        XCTAssertEqual(lines.first?["windows"] as? Int, 4)
        for l in lines.dropFirst() {
            let windows = try XCTUnwrap(l["windows"] as? Int, "\(l)")
            XCTAssertTrue(windows >= 4 && windows % 4 == 0, "\(l)")
            let rate = try XCTUnwrap(l["windows_per_s"] as? Double, "\(l)")
            XCTAssertTrue(rate.isFinite && rate > 0, "\(l)")
        }
        let synth = try XCTUnwrap(lines.first?["seconds"] as? Double)
        XCTAssertTrue(synth.isFinite && synth > 0, "\(synth)")
    }

    func testBadSizesAreRefusedNamingTheOption() throws {
        for (args, word) in [(["--size", "101"], "--size"), (["--size", "128", "--window", "256"], "--window"),
                             (["--workers", "0"], "--workers"), (["--tiles", "0"], "--tiles")] {
            let r = try rstrain(["bench", "data"] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains(word), "\(args): \(r.stderr)")
        }
    }
}
