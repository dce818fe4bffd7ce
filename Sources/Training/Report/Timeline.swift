import Foundation
import Experiment

/// One rank's timeline in the Chrome trace format, for Perfetto (ui.perfetto.dev) or
/// chrome://tracing: spans of compute, data wait, all-reduce, model transfer, checkpoint and
/// validation as "X" (complete) events, pid = rank, tid = track (0 unless the caller runs
/// spans on another thread), ts and dur in µs.
///
/// The file is the JSON array form, written as it goes:
///   [
///   {process metadata}
///   ,{event}
///   ,{event}
///   ]                         ← only once closed
/// so a killed run leaves a prefix of whole events that the viewers load as it is (they
/// accept a missing "]") and that any JSON parser loads once "]" is appended (the comma
/// leads each event, so no trailing comma is left behind). Events are buffered and written
/// every `flushEvery` events or second, whichever comes first, so a hang loses at most the
/// last second. Spans still open when a run is killed are lost.
///
/// Timestamps are wall-clock µs since the Unix epoch, measured on a monotonic clock from
/// one wall-clock reading at start: durations never jump with clock adjustments, and the
/// files of ranks on different hosts line up (as well as their clocks agree) when merged.
public final class Timeline {
    /// A span begun and not yet ended. Ending it twice records it twice.
    public struct Span {
        public let name: String
        public let category: String
        public let track: Int
        /// µs, on the timeline's clock.
        public let start: Double
    }

    public let path: String?
    public let rank: Int
    public let host: String
    public var isEnabled: Bool { file != nil }
    private let file: OutputFile?
    private let clock: () -> Double
    private let flushEvery: Int
    private var pending = ""
    private var pendingEvents = 0
    private var lastFlush: Double = 0
    /// The first write failure: later events are dropped and `close` throws it.
    private var failure: Error?
    private let lock = NSLock()

    /// `path` nil: disabled; `begin`/`end`/`measure` then cost one branch and read no clock.
    /// `clock`: µs (the default: wall-clock µs since the epoch, advancing monotonically).
    public init(path: String?, rank: Int, host: String, flushEvery: Int = 64,
                clock: (() -> Double)? = nil) throws {
        self.path = path
        self.rank = rank
        self.host = host
        self.flushEvery = max(1, flushEvery)
        self.clock = clock ?? Timeline.defaultClock()
        guard let path else { file = nil; return }
        file = try OutputFile(path: path, append: false)
        // Metadata first: Perfetto names the process row "rank r (host)" and orders rows by rank.
        var head = "[\n"
        try appendEvent(["name": "process_name", "ph": "M", "pid": rank, "tid": 0,
                         "args": ["name": "rank \(rank) (\(host))"]], to: &head, first: true)
        try appendEvent(["name": "process_sort_index", "ph": "M", "pid": rank, "tid": 0,
                         "args": ["sort_index": rank]], to: &head, first: false)
        try file!.write(Array(head.utf8))
        lastFlush = self.clock()
    }

    deinit { try? close() }

    public func begin(_ name: String, category: String, track: Int = 0) -> Span {
        Span(name: name, category: category, track: track, start: file == nil ? 0 : clock())
    }

    /// Records `span` from its begin until now; `args` show in the viewer's detail pane
    /// (numbers exact, NaN as "nan"). Never throws, so it can sit in the step loop: a write
    /// failure stops the timeline and is thrown by `close`.
    public func end(_ span: Span, args: [String: Any] = [:]) {
        guard file != nil else { return }
        let now = clock()
        // Written directly, not through a [String: Any] (several times slower: boxing, key
        // sorting); keys still in JSONText's sorted order.
        var event = "{"
        do {
            if !args.isEmpty {
                event += "\"args\":"
                try JSONText.append(args, to: &event)
                event += ","
            }
        } catch {
            lock.lock(); defer { lock.unlock() }
            if failure == nil { failure = ReportError(path: path ?? "(timeline)", "span \(span.name): \(error)") }
            return
        }
        event += "\"cat\":"
        JSONText.appendString(span.category, to: &event)
        event += ",\"dur\":\(Timeline.micros(now - span.start)),\"name\":"
        JSONText.appendString(span.name, to: &event)
        event += ",\"ph\":\"X\",\"pid\":\(rank),\"tid\":\(span.track),\"ts\":\(Timeline.micros(span.start))}"
        lock.lock(); defer { lock.unlock() }
        guard failure == nil else { return }
        do {
            pending += "\n,"
            pending += event
            pendingEvents += 1
            if pendingEvents >= flushEvery || now - lastFlush >= 1e6 { try flushLocked(now: now) }
        } catch {
            failure = error
            pending = ""
        }
    }

    /// Runs `body` inside a span; the span is recorded even if `body` throws.
    public func measure<T>(_ name: String, category: String, track: Int = 0, args: [String: Any] = [:],
                           _ body: () throws -> T) rethrows -> T {
        let span = begin(name, category: category, track: track)
        defer { end(span, args: args) }
        return try body()
    }

    /// Writes the buffered events now (e.g. before a checkpoint or a collective that may hang).
    public func flush() throws {
        guard file != nil else { return }
        lock.lock(); defer { lock.unlock() }
        if let failure { throw failure }
        try flushLocked(now: clock())
    }

    /// Writes what is buffered and the closing "]": the file is then a complete JSON array.
    /// Throws the first write failure of the run, if any. A second call does nothing.
    public func close() throws {
        guard let file, file.isOpen else { return }
        lock.lock(); defer { lock.unlock() }
        if let failure {
            try? file.close()
            throw failure
        }
        pending += "\n]\n"
        try flushLocked(now: 0)
        try file.close()
    }

    private func flushLocked(now: Double) throws {
        lastFlush = now
        guard !pending.isEmpty, let file else { return }
        let bytes = Array(pending.utf8)
        pending = ""
        pendingEvents = 0
        try file.write(bytes)
    }

    private func appendEvent(_ event: [String: Any], to out: inout String, first: Bool) throws {
        if !first { out += "\n," }
        do { try JSONText.append(event, to: &out) } catch { throw ReportError(path: path ?? "(timeline)", "\(error)") }
    }

    /// µs rounded to whole ns, so the file does not carry clock noise below that. (A Double
    /// holds epoch-scale µs to 0.25 µs, which is what timestamps keep; durations keep ns.)
    private static func micros(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

    private static func defaultClock() -> () -> Double {
        let wall0 = ReportClock.wall(), mono0 = ReportClock.monotonic()
        return { (wall0 + (ReportClock.monotonic() - mono0)) * 1e6 }
    }

    /// Joins per-rank timeline files (closed or left by a killed run) into one array at
    /// `output`, so Perfetto shows every rank on one time axis. Written to a temporary file
    /// and renamed, so `output` is never half-written.
    public static func merge(_ paths: [String], into output: String) throws {
        var out = "["
        var first = true
        for p in paths {
            guard let data = FileManager.default.contents(atPath: p) else {
                throw ReportError(path: p, "cannot read timeline: \(errnoText())")
            }
            var body = Substring(String(decoding: data, as: UTF8.self))
            body = body.drop { $0.isWhitespace }
            guard body.first == "[" else { throw ReportError(path: p, "not a timeline (does not start with \"[\")") }
            body = body.dropFirst()
            while let c = body.last, c.isWhitespace { body = body.dropLast() }
            if body.last == "]" { body = body.dropLast() }   // closed; a killed run's file has none
            while let c = body.last, c.isWhitespace { body = body.dropLast() }
            if body.isEmpty { continue }
            out += first ? "\n" : "\n,"
            out += body
            first = false
        }
        out += "\n]\n"
        let tmp = output + ".tmp"
        let file = try OutputFile(path: tmp, append: false)
        try file.write(Array(out.utf8))
        try file.close()
        guard rename(tmp, output) == 0 else {
            throw ReportError(path: output, "cannot rename \(tmp) into place: \(errnoText())")
        }
    }
}
