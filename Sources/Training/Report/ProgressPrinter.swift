import Foundation

/// Rank 0's progress display: one line per model,
///   unet    round 2/4  step  120/500  312 samples/s  loss 0.4312  ETA 1h02m
/// On a terminal the lines form a live block redrawn in place (cursor up, clear line) at most
/// `liveRate` times a second; otherwise (a log file, a batch job) each model's line is printed
/// at most every `interval` seconds, and at each round end. `message` prints other text
/// (warnings, "resuming ...") above the live block, so it never tears the block.
///
/// samples/s is measured within the current round (a model changes group, hence speed,
/// between rounds); loss is the round's running mean, weighted by samples; the ETA divides
/// the model's remaining steps by its average step rate over the run so far (since this
/// process first saw it, so a resume does not count the steps of the earlier run).
/// Not thread-safe: call it from one thread.
public final class ProgressPrinter {
    public let live: Bool
    private let models: [String]
    private let totalSteps: [String: Int]
    private let interval: Double
    private let columns: Int?
    private let now: () -> Double
    private let output: (String) -> Void
    private var state: [String: ModelState] = [:]
    private var drawnLines = 0
    private var lastDraw = -Double.infinity
    /// Live redraws per second at most.
    public static let liveRate = 4.0

    /// - totalSteps: each model's steps over the whole run (for its ETA).
    /// - live: nil decides by isatty(stdout).
    /// - interval: seconds between a model's plain lines.
    /// - columns: terminal width; live lines are cut to fit, since a wrapped line would put
    ///   the cursor-up count off (nil: asked of the terminal, unlimited if that fails).
    /// - now: seconds on a monotonic clock (tests pass a fake one).
    public init(models: [String], totalSteps: [String: Int], live: Bool? = nil, interval: Double = 10,
                columns: Int? = nil, now: @escaping () -> Double = ReportClock.monotonic,
                output: @escaping (String) -> Void = { print($0); fflush(stdout) }) {
        self.models = models
        self.totalSteps = totalSteps
        self.live = live ?? (isatty(STDOUT_FILENO) != 0)
        self.interval = interval
        self.columns = columns ?? (self.live ? ProgressPrinter.terminalColumns() : nil)
        self.now = now
        self.output = output
    }

    /// Records one report for `model`: `step` of `stepsInRound` in round `round` of `rounds`
    /// (1-based), `stepsDone` of the model's run total, `samples` trained since the previous
    /// report and their mean `loss`.
    public func update(model: String, round: Int, rounds: Int, step: Int, stepsInRound: Int,
                       stepsDone: Int, samples: Int, loss: Double) {
        let t = now()
        var s = state[model] ?? ModelState(firstTime: t, firstDone: stepsDone)
        if s.round != round {
            s.round = round
            s.roundStart = t
            s.roundSamples = 0
            s.lossSum = 0
            s.lossWeight = 0
        } else {
            s.roundSamples += samples   // the first report of a round only starts its clock
        }
        s.rounds = rounds
        s.step = step
        s.stepsInRound = stepsInRound
        s.stepsDone = stepsDone
        s.lastTime = t
        s.lossSum += loss * Double(samples)
        s.lossWeight += Double(samples)
        s.changed = true
        state[model] = s
        if live {
            if t - lastDraw >= 1 / ProgressPrinter.liveRate { draw(above: [], at: t) }
        } else if t - s.lastPrinted >= interval {
            printPlain(model, at: t)
        }
    }

    /// Prints the model's line with `summary` (e.g. validation metrics) as a lasting line.
    public func roundEnd(model: String, round: Int, summary: String) {
        let t = now()
        var text = line(model)
        if let s = state[model], s.round == round {
            if !summary.isEmpty { text += "  | " + summary }
        } else {
            text = "\(model)  round \(round) done" + (summary.isEmpty ? "" : "  | " + summary)
        }
        if live {
            draw(above: [text], at: t)
        } else {
            output(text)
            state[model]?.lastPrinted = t
            state[model]?.changed = false
        }
    }

    /// Prints `text` (may hold several lines) above the live block, or as it is.
    public func message(_ text: String) {
        if live && drawnLines > 0 {
            draw(above: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init), at: now())
        } else {
            output(text)
        }
    }

    /// Shows the final state: the live block once more, then leaves it on screen; plain mode
    /// prints the lines that changed since they were last printed.
    public func finish() {
        let t = now()
        if live {
            if !state.isEmpty { draw(above: [], at: t) }
            drawnLines = 0
        } else {
            for m in models where state[m]?.changed == true { printPlain(m, at: t) }
        }
    }

    // MARK: Lines

    /// One model's progress line; models not seen yet are "waiting".
    func line(_ model: String) -> String {
        let width = models.map(\.count).max() ?? model.count
        let name = model.padding(toLength: max(width, model.count), withPad: " ", startingAt: 0)
        guard let s = state[model] else { return name + "  waiting" }
        let digits = String(s.stepsInRound).count
        let step = String(repeating: " ", count: max(0, digits - String(s.step).count)) + "\(s.step)"
        var text = "\(name)  round \(s.round)/\(s.rounds)  step \(step)/\(s.stepsInRound)"
        let elapsed = s.lastTime - s.roundStart
        text += "  " + (elapsed > 0 && s.roundSamples > 0 ? ProgressPrinter.rate(Double(s.roundSamples) / elapsed) : "--")
        text += " samples/s"
        text += "  loss " + (s.lossWeight > 0 ? String(format: "%.4g", s.lossSum / s.lossWeight) : "--")
        text += "  ETA " + eta(model, s)
        return text
    }

    private func eta(_ model: String, _ s: ModelState) -> String {
        let total = totalSteps[model] ?? 0
        if total > 0 && s.stepsDone >= total { return "done" }
        let done = s.stepsDone - s.firstDone, elapsed = s.lastTime - s.firstTime
        guard total > 0, done > 0, elapsed > 0 else { return "--" }
        return ProgressPrinter.duration(Double(total - s.stepsDone) * elapsed / Double(done))
    }

    // MARK: Output

    private func printPlain(_ model: String, at t: Double) {
        output(line(model))
        state[model]?.lastPrinted = t
        state[model]?.changed = false
    }

    /// One output call: cursor up over the old block, `above` lines, then the block, each
    /// line cleared first; the cursor ends below the block.
    private func draw(above: [String], at t: Double) {
        var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        var first = true
        for l in above + models.map(line) {
            if !first { text += "\n" }
            text += "\r\u{1B}[2K" + fit(l)
            first = false
        }
        output(text)
        drawnLines = models.count
        lastDraw = t
    }

    private func fit(_ l: String) -> String {
        guard let columns, columns > 1, l.count >= columns else { return l }
        return String(l.prefix(columns - 1))
    }

    // MARK: Formats

    /// "0.82", "31.4", "312": three significant figures are plenty for a rate that wobbles.
    static func rate(_ x: Double) -> String {
        x >= 100 ? String(format: "%.0f", x) : x >= 10 ? String(format: "%.1f", x) : String(format: "%.2f", x)
    }

    /// "45s", "12m05s", "3h07m", "2d04h".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        if s < 86400 { return String(format: "%dh%02dm", s / 3600, s % 3600 / 60) }
        return String(format: "%dd%02dh", s / 86400, s % 86400 / 3600)
    }

    private static func terminalColumns() -> Int? {
        var w = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0 else { return nil }
        return Int(w.ws_col)
    }
}

/// What ProgressPrinter knows of one model.
private struct ModelState {
    // round −1: no report yet, so the first one (even in round 0) starts the round clock.
    var round = -1, rounds = 0, step = 0, stepsInRound = 0, stepsDone = 0
    /// The first report this process saw: the base of the ETA's step rate.
    var firstTime: Double, firstDone: Int
    var lastTime = 0.0
    var roundStart = 0.0, roundSamples = 0
    var lossSum = 0.0, lossWeight = 0.0
    var lastPrinted = -Double.infinity
    /// Updated since last printed (plain mode).
    var changed = false

    init(firstTime: Double, firstDone: Int) {
        self.firstTime = firstTime
        self.firstDone = firstDone
        lastTime = firstTime
    }
}
