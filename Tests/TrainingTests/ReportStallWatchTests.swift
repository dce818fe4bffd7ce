import XCTest
@testable import Training

final class ReportStallWatchTests: XCTestCase {
    let hosts = ["node01", "node02", "node03", "node07"]

    func testWarnsOnceThenAbortsNamingRankHostSilenceAndLastActivity() {
        let w = StallWatch(hosts: hosts, warnAfter: 60, abortAfter: 600, start: 0)
        for r in 0..<4 { w.report(rank: r, at: 10, activity: "step 120 of model unet") }
        for r in 0..<3 { w.report(rank: r, at: 60) }
        XCTAssertEqual(w.check(at: 69.9), [])
        let warn = w.check(at: 72.4)
        XCTAssertEqual(warn.map(\.kind), [.warning])
        XCTAssertEqual(warn.first?.rank, 3)
        XCTAssertEqual(warn.first?.host, "node07")
        XCTAssertEqual(warn.first?.silentFor ?? 0, 62.4, accuracy: 1e-9)
        XCTAssertEqual(warn.first?.message,
                       "rank 3 (node07) has not reported for 62 s: last seen at step 120 of model unet; the run aborts if it stays silent for 600 s")
        for r in 0..<3 { w.report(rank: r, at: 299) }
        XCTAssertEqual(w.check(at: 300), [])            // once per silence
        for r in 0..<3 { w.report(rank: r, at: 600, activity: "step 140 of model unet") }
        let abort = w.check(at: 611)
        XCTAssertEqual(abort.map(\.kind), [.abort])
        XCTAssertEqual(abort.first?.message,
                       "rank 3 (node07) has not reported for 601 s: last seen at step 120 of model unet; aborting the run")
        for r in 0..<3 { w.report(rank: r, at: 699) }
        XCTAssertEqual(w.check(at: 700), [])
    }

    func testARankThatReportsAgainIsNamedAsRecoveredAndCanBeWarnedAgain() {
        let w = StallWatch(hosts: hosts, warnAfter: 60, abortAfter: 600, start: 0)
        let first = w.check(at: 61)
        XCTAssertEqual(first.map(\.rank), [0, 1, 2, 3])
        XCTAssertEqual(first.map(\.kind), Array(repeating: .warning, count: 4))
        XCTAssertEqual(first[1].message,
                       "rank 1 (node02) has not reported for 61 s: nothing heard from it since the start; the run aborts if it stays silent for 600 s")
        for r in [0, 2, 3] { w.report(rank: r, at: 70) }
        w.report(rank: 1, at: 75, activity: "step 3 of model resnet")
        let back = w.check(at: 76)
        XCTAssertEqual(back.map(\.kind), Array(repeating: .recovered, count: 4))
        XCTAssertEqual(back.map(\.rank), [0, 2, 3, 1])
        XCTAssertEqual(back[3].message, "rank 1 (node02) reported again after 75 s of silence")
        w.report(rank: 0, at: 130); w.report(rank: 2, at: 130); w.report(rank: 3, at: 130)
        XCTAssertEqual(w.check(at: 134), [])
        let again = w.check(at: 136)
        XCTAssertEqual(again.map(\.rank), [1])
        XCTAssertEqual(again.first?.message,
                       "rank 1 (node02) has not reported for 61 s: last seen at step 3 of model resnet; the run aborts if it stays silent for 600 s")
    }

    func testAnAbortSupersedesAWarningNotYetGivenAndNoAbortLimitOnlyWarns() {
        let w = StallWatch(hosts: ["a"], warnAfter: 60, abortAfter: 600, start: 100)
        XCTAssertEqual(w.check(at: 800).map(\.kind), [.abort])
        XCTAssertEqual(w.check(at: 900), [])

        let soft = StallWatch(hosts: ["a"], warnAfter: 60, abortAfter: nil, start: 0)
        soft.lastActivity[0] = "validation of model fcn"
        let e = soft.check(at: 100_000)
        XCTAssertEqual(e.map(\.kind), [.warning])
        XCTAssertEqual(e.first?.message, "rank 0 (a) has not reported for 100000 s: last seen at validation of model fcn")
    }

    func testRunLogPrefixesEveryLineOfNonZeroRanks() {
        XCTAssertEqual(RunLog(rank: 0, host: "node01").format("resuming from step 1200\nok"), "resuming from step 1200\nok")
        XCTAssertEqual(RunLog(rank: 2, host: "node03").format("slow disk\nretrying"),
                       "[rank 2 node03] slow disk\n[rank 2 node03] retrying")
        XCTAssertEqual(RunLog(rank: 5, host: "n").prefix, "[rank 5 n] ")
    }
}
