import Foundation
import TestSupport
import XCTest
@testable import Experiment

final class ReportJSONLTests: ScratchTestCase {
    func text(_ path: String) -> String { String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }

    func testLineHasSortedKeysShortestNumbersAndSpecialValuesAsStrings() throws {
        let path = dir + "/metrics.jsonl"
        let w = try JSONLWriter(path: path, append: false)
        let missing: Int? = nil
        try w.write(["step": 12, "loss": Float(0.1), "lr": 0.1, "model": "unet \"2d\"\n",
                     "nan": Float.nan, "up": Double.infinity, "down": -Float.infinity,
                     "ok": true, "none": missing as Any, "big": Int64.max, "tiny": Float(1e-7),
                     "per_class": [Float(0.25), 3] as [Any], "sub": ["b": 1, "a": [String: Any]()], "ctl": "\u{1}é"])
        w.close()
        XCTAssertEqual(text(path),
            #"{"big":9223372036854775807,"ctl":"\u0001é","down":"-inf","loss":0.1,"lr":0.1,"model":"unet \"2d\"\n","#
            + #""nan":"nan","none":null,"ok":true,"per_class":[0.25,3],"step":12,"sub":{"a":{},"b":1},"tiny":1e-07,"up":"inf"}"#
            + "\n")
        // And it is JSON that a standard parser reads back to the same values.
        let back = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text(path).utf8)) as? [String: Any])
        XCTAssertEqual(back["model"] as? String, "unet \"2d\"\n")
        XCTAssertEqual(back["ctl"] as? String, "\u{1}é")
        XCTAssertEqual((back["loss"] as? NSNumber)?.floatValue, 0.1)
        XCTAssertEqual(back["nan"] as? String, "nan")
    }

    /// Float and Double print as the shortest text that reads back to the same bits.
    func testRealsRoundTripBitExactly() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {   // splitmix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var floats: [Float] = [0.1, 1 / 3, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -0.0, 16_777_216, 3.4e-38]
        var doubles: [Double] = [0.1, .pi, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e16]
        while floats.count < 2000 {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: next()))
            if f.isFinite { floats.append(f) }
        }
        while doubles.count < 2000 {
            let d = Double(bitPattern: next())
            if d.isFinite { doubles.append(d) }
        }
        for f in floats {
            let t = try JSONText.encode(f)
            XCTAssertEqual(Float(t)?.bitPattern, f.bitPattern, "\(f) → \(t)")
            XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data("[\(t)]".utf8)), t)
        }
        for d in doubles {
            let t = try JSONText.encode(d)
            XCTAssertEqual(Double(t)?.bitPattern, d.bitPattern, "\(d) → \(t)")
        }
        // Shortest, not Float widened to Double ("0.10000000149011612").
        XCTAssertEqual(try JSONText.encode(Float(0.1)), "0.1")
        // Numbers a parser hands back (NSNumber) keep their kind.
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(#"{"a":1,"b":true,"c":2.5}"#.utf8)) as? [String: Any])
        XCTAssertEqual(try JSONText.encode(parsed), #"{"a":1,"b":true,"c":2.5}"#)
    }

    func testValueWithoutJSONFormThrowsNamingItsKeyAndWritesNothing() throws {
        let path = dir + "/metrics.jsonl"
        let w = try JSONLWriter(path: path, append: false)
        try w.write(["step": 1])
        XCTAssertThrowsError(try w.write(["step": 2, "extra": ["when": Date()]])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(path) && text.contains("extra.when") && text.contains("Date"), text)
        }
        w.close()
        XCTAssertEqual(text(path), "{\"step\":1}\n")
    }

    func testAppendContinuesTheFileAndOtherwiseStartsItEmpty() throws {
        let path = dir + "/schedule.jsonl"
        var w = try JSONLWriter(path: path, append: false)
        try w.write(["round": 1])
        w.close()
        w = try JSONLWriter(path: path, append: true)
        try w.write(["round": 2])
        w.close()
        XCTAssertEqual(text(path), "{\"round\":1}\n{\"round\":2}\n")
        w = try JSONLWriter(path: path, append: false)
        try w.write(["round": 3])
        w.close()
        XCTAssertEqual(text(path), "{\"round\":3}\n")
        XCTAssertThrowsError(try JSONLWriter(path: dir + "/no/such/dir/m.jsonl", append: true)) { error in
            XCTAssertTrue("\(error)".contains("no/such/dir/m.jsonl"), "\(error)")
        }
    }

    /// A killed run: ten steps written, the eleventh torn. The checkpoint is at step 6.
    func writeKilledRun(_ path: String) throws -> [String] {
        let w = try JSONLWriter(path: path, append: false)
        for step in 1...10 { try w.write(["step": step, "loss": 1 / Double(step)]) }
        w.close()
        let lines = text(path).split(separator: "\n").map { String($0) + "\n" }
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        h.seekToEndOfFile()
        h.write(Data(#"{"loss":0.09,"st"#.utf8))
        h.closeFile()
        return lines
    }

    func testTruncateKeepsLeadingLinesWhileThePredicateHoldsThenAppendContinues() throws {
        let path = dir + "/metrics.jsonl"
        let lines = try writeKilledRun(path)
        // Step 9 would pass the predicate again: only the leading run of lines is kept.
        let kept = try JSONLWriter.truncate(path: path) { ($0["step"] as? Int).map { $0 <= 6 || $0 == 9 } ?? false }
        XCTAssertEqual(kept, 6)
        XCTAssertEqual(text(path), lines[0..<6].joined())
        let w = try JSONLWriter(path: path, append: true)
        try w.write(["step": 7, "loss": 0.5])
        w.close()
        XCTAssertEqual(text(path), lines[0..<6].joined() + "{\"loss\":0.5,\"step\":7}\n")
    }

    func testTruncateDropsOnlyATornLastLineWhenEverythingIsKept() throws {
        let path = dir + "/metrics.jsonl"
        let lines = try writeKilledRun(path)
        XCTAssertEqual(try JSONLWriter.truncate(path: path) { _ in true }, 10)
        XCTAssertEqual(text(path), lines.joined())
        // A second pass finds nothing to cut.
        XCTAssertEqual(try JSONLWriter.truncate(path: path) { _ in true }, 10)
        XCTAssertEqual(text(path), lines.joined())
    }

    func testTruncateOfAMissingFileKeepsNothingAndCreatesNothing() throws {
        let path = dir + "/absent.jsonl"
        XCTAssertEqual(try JSONLWriter.truncate(path: path) { _ in true }, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testTruncateRefusesADamagedLineNamingItAndLeavesTheFileAlone() throws {
        let path = dir + "/metrics.jsonl"
        let before = "{\"step\":1}\n{\"step\":2}\n{\"step\":3,\n{\"step\":4}\n"
        try before.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JSONLWriter.truncate(path: path) { _ in true }) { error in
            let e = error as? ReportError
            XCTAssertEqual(e?.path, path)
            XCTAssertEqual(e?.line, 3)
        }
        XCTAssertEqual(text(path), before)
        let array = "{\"step\":1}\n[1,2]\n"
        try array.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JSONLWriter.truncate(path: path) { _ in true }) { error in
            XCTAssertEqual((error as? ReportError)?.line, 2)
            XCTAssertTrue("\(error)".contains("not a JSON object"), "\(error)")
        }
        XCTAssertEqual(text(path), array)
    }
}
