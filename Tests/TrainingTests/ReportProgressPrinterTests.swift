import Foundation
import XCTest
@testable import Training

final class ReportProgressPrinterTests: XCTestCase {
    /// Captures what ProgressPrinter prints, on a clock the test moves.
    final class Capture {
        var t = 0.0
        var outputs: [String] = []
    }

    func progress(_ c: Capture, live: Bool, columns: Int? = nil) -> ProgressPrinter {
        ProgressPrinter(models: ["unet", "resnet"], totalSteps: ["unet": 120, "resnet": 60], live: live, interval: 10,
                 columns: columns, now: { c.t }, output: { c.outputs.append($0) })
    }

    /// A step of 8 samples of unet in round `round` (of 3, 40 steps each).
    func unetStep(_ p: ProgressPrinter, round: Int = 1, step: Int, loss: Double) {
        p.update(model: "unet", round: round, rounds: 3, step: step, stepsInRound: 40,
                 stepsDone: (round - 1) * 40 + step, samples: 8, loss: loss)
    }

    func testPlainLinesAtMostEveryIntervalPerModelWithRateLossAndETA() {
        let c = Capture(), p = progress(c, live: false)
        unetStep(p, step: 1, loss: 0.7)                 // t = 0: first report prints at once
        XCTAssertEqual(c.outputs, ["unet    round 1/3  step  1/40  -- samples/s  loss 0.7  ETA --"])
        c.t = 5; unetStep(p, step: 2, loss: 0.5)        // within the interval: silent
        p.update(model: "resnet", round: 1, rounds: 3, step: 1, stepsInRound: 20, stepsDone: 1, samples: 4, loss: 2)
        XCTAssertEqual(c.outputs.count, 2)              // resnet's first line, on its own interval
        XCTAssertEqual(c.outputs[1], "resnet  round 1/3  step  1/20  -- samples/s  loss 2  ETA --")
        c.t = 10; unetStep(p, step: 3, loss: 0.3)
        // 16 samples over the 10 s since the round's first report; loss mean of 0.7, 0.5, 0.3;
        // 2 steps in 10 s, 117 steps left: 585 s.
        XCTAssertEqual(c.outputs.count, 3)
        XCTAssertEqual(c.outputs[2], "unet    round 1/3  step  3/40  1.60 samples/s  loss 0.5  ETA 9m45s")
        c.t = 14; unetStep(p, step: 4, loss: 0.3)
        XCTAssertEqual(c.outputs.count, 3)
    }

    func testRoundEndPrintsAtOnceAndTheNextRoundStartsItsOwnRateAndLoss() {
        let c = Capture(), p = progress(c, live: false)
        for s in 1...40 { c.t = Double(s - 1) * 0.5; unetStep(p, step: s, loss: 1) }
        let before = c.outputs.count
        p.roundEnd(model: "unet", round: 1, summary: "val loss 0.9 acc 0.71")
        XCTAssertEqual(c.outputs.count, before + 1)
        // 39 × 8 samples in 19.5 s; 39 steps in 19.5 s → 80 steps left take 40 s.
        XCTAssertEqual(c.outputs.last, "unet    round 1/3  step 40/40  16.0 samples/s  loss 1  ETA 40s  | val loss 0.9 acc 0.71")
        // 40 steps in the 100 s since the first report, 79 left: 197.5 s.
        c.t = 100; unetStep(p, round: 2, step: 1, loss: 3)
        XCTAssertEqual(c.outputs.last, "unet    round 2/3  step  1/40  -- samples/s  loss 3  ETA 3m18s")
        let printed = c.outputs.count
        p.finish()   // nothing changed since that line
        XCTAssertEqual(c.outputs.count, printed)
        c.t = 101; unetStep(p, round: 2, step: 2, loss: 1)
        XCTAssertEqual(c.outputs.count, printed)
        p.finish()   // 41 steps in 101 s, 78 left: 192.1 s
        XCTAssertEqual(c.outputs.last, "unet    round 2/3  step  2/40  8.00 samples/s  loss 2  ETA 3m12s")
    }

    func testETASaysDoneAtTheLastStep() {
        let c = Capture(), p = progress(c, live: false)
        p.update(model: "resnet", round: 3, rounds: 3, step: 20, stepsInRound: 20, stepsDone: 60, samples: 4, loss: 0.1)
        XCTAssertTrue(c.outputs.last?.hasSuffix("ETA done") == true, c.outputs.last ?? "")
    }

    /// Replays terminal output: "\r", "\n", ESC[nA (cursor up), ESC[2K (clear line), text.
    struct Screen {
        var lines: [String] = [""]
        var row = 0, col = 0

        mutating func feed(_ s: String) {
            var it = Array(s.unicodeScalars)[...]
            while let u = it.popFirst() {
                switch u {
                case "\r": col = 0
                case "\n":
                    row += 1; col = 0
                    if row == lines.count { lines.append("") }
                case "\u{1B}":
                    XCTAssertEqual(it.popFirst(), "[")
                    var digits = ""
                    while let d = it.first, d.properties.numericType != nil { digits.unicodeScalars.append(d); it.removeFirst() }
                    switch it.popFirst() {
                    case "A": row = max(0, row - (Int(digits) ?? 1))
                    case "K": XCTAssertEqual(digits, "2"); lines[row] = ""
                    case let other: XCTFail("unexpected escape \(String(describing: other))")
                    }
                default:
                    var chars = Array(lines[row].unicodeScalars)
                    while chars.count < col { chars.append(" ") }
                    if col < chars.count { chars[col] = u } else { chars.append(u) }
                    lines[row] = String(String.UnicodeScalarView(chars))
                    col += 1
                }
            }
        }

        /// As `print` does: the text, then a newline.
        mutating func printed(_ s: String) { feed(s + "\n") }

        var text: [String] { lines.last == "" ? Array(lines.dropLast()) : lines }
    }

    func testLiveBlockRedrawsInPlaceThrottledAndMessagesGoAboveIt() {
        let c = Capture(), p = progress(c, live: true)
        var screen = Screen()
        unetStep(p, step: 1, loss: 0.7)
        XCTAssertEqual(c.outputs.count, 1)
        c.t = 0.1; unetStep(p, step: 2, loss: 0.5)
        XCTAssertEqual(c.outputs.count, 1)             // within 1/4 s of the last draw
        c.t = 0.3; unetStep(p, step: 3, loss: 0.3)
        XCTAssertEqual(c.outputs.count, 2)
        p.message("resuming from checkpoint step 1200\nsecond line")
        c.t = 0.4
        p.update(model: "resnet", round: 1, rounds: 3, step: 1, stepsInRound: 20, stepsDone: 1, samples: 4, loss: 2)
        c.t = 0.6; unetStep(p, step: 4, loss: 0.5)
        p.roundEnd(model: "resnet", round: 1, summary: "val acc 0.5")
        p.message("warning: rank 3 is slow")
        c.t = 0.7; unetStep(p, step: 5, loss: 0.5)      // throttled, but finish shows it
        p.finish()
        p.message("after the run")
        for o in c.outputs { screen.printed(o) }
        XCTAssertEqual(screen.text, [
            "resuming from checkpoint step 1200",
            "second line",
            "resnet  round 1/3  step  1/20  -- samples/s  loss 2  ETA --  | val acc 0.5",
            "warning: rank 3 is slow",
            // 4 steps × 8 samples in the 0.7 s since the first report; 4 steps in 0.7 s, 115 left.
            "unet    round 1/3  step  5/40  45.7 samples/s  loss 0.5  ETA 20s",
            "resnet  round 1/3  step  1/20  -- samples/s  loss 2  ETA --",
            "after the run",
        ])
    }

    func testLiveLinesAreCutToTheTerminalWidthAndUnseenModelsWait() {
        let c = Capture(), p = progress(c, live: true, columns: 30)
        unetStep(p, step: 1, loss: 0.7)
        var screen = Screen()
        for o in c.outputs { screen.printed(o) }
        XCTAssertEqual(screen.text, ["unet    round 1/3  step  1/40", "resnet  waiting"])
    }

    func testDurations() {
        XCTAssertEqual(ProgressPrinter.duration(44.6), "45s")
        XCTAssertEqual(ProgressPrinter.duration(725), "12m05s")
        XCTAssertEqual(ProgressPrinter.duration(3 * 3600 + 7 * 60 + 20), "3h07m")
        XCTAssertEqual(ProgressPrinter.duration(2 * 86400 + 4 * 3600 + 59), "2d04h")
        XCTAssertEqual(ProgressPrinter.duration(.infinity), "--")
    }
}
