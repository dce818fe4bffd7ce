import Foundation
import TestSupport
import XCTest
@testable import Training

final class ReportTimelineTests: ScratchTestCase {
    /// A fake µs clock the test moves by hand; counts its reads.
    final class FakeClock {
        var t = 1_000_000.0
        var reads = 0
        func read() -> Double { reads += 1; return t }
    }

    func text(_ path: String) -> String { String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }

    func events(_ json: String) throws -> [[String: Any]] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
    }

    func testClosedFileIsAJSONArrayOfCompleteEventsWithRankMetadata() throws {
        let path = dir + "/rank3.json", clock = FakeClock()
        let tl = try Timeline(path: path, rank: 3, host: "node07", clock: clock.read)
        let step = tl.begin("forward+backward", category: "compute")
        clock.t += 2500.25
        let reduce = tl.begin("allreduce", category: "comm", track: 1)
        clock.t += 700
        tl.end(reduce, args: ["bytes": 4096, "loss": Float.nan])
        tl.end(step, args: ["step": 12])
        let result = tl.measure("checkpoint", category: "io") { () -> Int in clock.t += 10; return 7 }
        XCTAssertEqual(result, 7)
        try tl.close()
        try tl.close()   // a second close does nothing

        let all = try events(text(path))
        let meta = all.filter { $0["ph"] as? String == "M" }
        let name = try XCTUnwrap(meta.first { $0["name"] as? String == "process_name" })
        XCTAssertEqual(name["pid"] as? Int, 3)
        XCTAssertEqual((name["args"] as? [String: Any])?["name"] as? String, "rank 3 (node07)")
        XCTAssertEqual((meta.first { $0["name"] as? String == "process_sort_index" }?["args"] as? [String: Any])?["sort_index"] as? Int, 3)

        let spans = all.filter { $0["ph"] as? String == "X" }
        XCTAssertEqual(spans.map { $0["name"] as? String }, ["allreduce", "forward+backward", "checkpoint"])
        XCTAssertEqual(spans.map { $0["cat"] as? String }, ["comm", "compute", "io"])
        XCTAssertEqual(spans.map { $0["ts"] as? Double }, [1_002_500.25, 1_000_000, 1_003_200.25])
        XCTAssertEqual(spans.map { $0["dur"] as? Double }, [700, 3200.25, 10])
        XCTAssertEqual(spans.map { $0["pid"] as? Int }, [3, 3, 3])
        XCTAssertEqual(spans.map { $0["tid"] as? Int }, [1, 0, 0])
        let args = try XCTUnwrap(spans[0]["args"] as? [String: Any])
        XCTAssertEqual(args["bytes"] as? Int, 4096)
        XCTAssertEqual(args["loss"] as? String, "nan")
        XCTAssertNil(spans[2]["args"])
    }

    func testSpanIsRecordedWhenTheMeasuredBodyThrows() throws {
        struct Boom: Error {}
        let path = dir + "/t.json", clock = FakeClock()
        let tl = try Timeline(path: path, rank: 0, host: "h", clock: clock.read)
        XCTAssertThrowsError(try tl.measure("validation", category: "eval") { clock.t += 5; throw Boom() })
        try tl.close()
        let spans = try events(text(path)).filter { $0["ph"] as? String == "X" }
        XCTAssertEqual(spans.count, 1)
        XCTAssertEqual(spans.first?["dur"] as? Double, 5)
    }

    /// What a killed run leaves: nothing is buffered in user space past a flush, so the file
    /// as it is before `close` is what the disk holds. With "]" added it must parse, with
    /// every flushed event.
    func testKilledRunPrefixLoadsOnceClosedWithABracket() throws {
        let path = dir + "/killed.json", clock = FakeClock()
        let tl = try Timeline(path: path, rank: 1, host: "node02", flushEvery: 2, clock: clock.read)
        XCTAssertEqual(try events(text(path) + "]").count, 2)   // metadata only, already on disk
        for k in 0..<5 {
            let s = tl.begin("step \(k)", category: "compute")
            clock.t += 100
            tl.end(s)
        }
        let prefix = text(path)
        XCTAssertFalse(prefix.contains("]"))
        // Strict parsers (Python's json) reject a trailing comma; some lenient ones accept it.
        XCTAssertFalse(prefix.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix(","))
        let spans = try events(prefix + "]").filter { $0["ph"] as? String == "X" }
        XCTAssertEqual(spans.map { $0["name"] as? String }, ["step 0", "step 1", "step 2", "step 3"])

        if onPath("python3") {
            let script = "import json,sys; e=json.loads(open(sys.argv[1]).read()+']'); print(sum(x['ph']=='X' for x in e))"
            let r = try runProcess("python3", ["-c", script, path])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "4")
        }
        try tl.close()
        XCTAssertEqual(try events(text(path)).filter { $0["ph"] as? String == "X" }.count, 5)
    }

    /// A hang after a slow step must not leave the step's event in memory: a second since the
    /// last write flushes, whatever the event count.
    func testEventsReachTheFileWithinASecondWhenFewerThanTheFlushCount() throws {
        let path = dir + "/slow.json", clock = FakeClock()
        let tl = try Timeline(path: path, rank: 0, host: "h", flushEvery: 1000, clock: clock.read)
        let a = tl.begin("a", category: "compute")
        clock.t += 400_000
        tl.end(a)
        XCTAssertFalse(text(path).contains("\"a\""))   // buffered: 0.4 s since the last write
        let b = tl.begin("b", category: "compute")
        clock.t += 700_000
        tl.end(b)
        XCTAssertEqual(try events(text(path) + "]").filter { $0["ph"] as? String == "X" }.count, 2)
        try tl.close()
    }

    func testDisabledTimelineReadsNoClockAndWritesNothing() throws {
        let clock = FakeClock()
        let tl = try Timeline(path: nil, rank: 0, host: "h", clock: clock.read)
        XCTAssertFalse(tl.isEnabled)
        for _ in 0..<10 { tl.end(tl.begin("x", category: "compute"), args: ["k": 1]) }
        XCTAssertEqual(tl.measure("y", category: "io") { 3 }, 3)
        try tl.close()
        XCTAssertEqual(clock.reads, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    func testUnwritablePathIsAClearError() throws {
        XCTAssertThrowsError(try Timeline(path: dir + "/missing/t.json", rank: 0, host: "h")) { error in
            XCTAssertTrue("\(error)".contains("missing/t.json"), "\(error)")
        }
    }

    func testMergeJoinsClosedAndKilledRankFilesIntoOneTrace() throws {
        let clock = FakeClock()
        let a = try Timeline(path: dir + "/r0.json", rank: 0, host: "n1", flushEvery: 1, clock: clock.read)
        let b = try Timeline(path: dir + "/r1.json", rank: 1, host: "n2", flushEvery: 1, clock: clock.read)
        for k in 0..<3 {
            let sa = a.begin("a\(k)", category: "compute"), sb = b.begin("b\(k)", category: "compute")
            clock.t += 10
            a.end(sa)
            b.end(sb)
        }
        try a.close()   // b stays open, as if its rank were killed
        try Timeline.merge([dir + "/r0.json", dir + "/r1.json"], into: dir + "/all.json")
        let all = try events(text(dir + "/all.json"))
        let names = all.filter { $0["name"] as? String == "process_name" }
            .compactMap { ($0["args"] as? [String: Any])?["name"] as? String }
        XCTAssertEqual(names, ["rank 0 (n1)", "rank 1 (n2)"])
        let spans = all.filter { $0["ph"] as? String == "X" }
        XCTAssertEqual(spans.compactMap { $0["name"] as? String }, ["a0", "a1", "a2", "b0", "b1", "b2"])
        XCTAssertEqual(spans.compactMap { $0["pid"] as? Int }, [0, 0, 0, 1, 1, 1])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/all.json.tmp"))
        try b.close()

        try "not a trace".write(toFile: dir + "/bad.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Timeline.merge([dir + "/r0.json", dir + "/bad.json"], into: dir + "/x.json")) { error in
            XCTAssertTrue("\(error)".contains("bad.json"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.json"))
    }
}
