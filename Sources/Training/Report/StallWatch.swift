/// Rank 0's watch over the ranks' reports: a rank silent beyond `warnAfter` seconds is named
/// once in a warning, beyond `abortAfter` once more for the run to abort; a warned rank that
/// reports again is named as recovered. Pure bookkeeping on times the caller passes (seconds
/// on one monotonic clock), so the trainer decides when to check and tests use fake time.
public final class StallWatch {
    public let hosts: [String]
    public let warnAfter: Double
    /// nil: warn only, never abort.
    public let abortAfter: Double?
    /// What each rank last said it was doing ("step 120 of model unet"), quoted in the
    /// messages; `report(rank:at:activity:)` keeps it current, the trainer may also set it.
    public var lastActivity: [Int: String] = [:]
    private var lastSeen: [Double]
    private var warned: [Bool]
    private var aborted: [Bool]
    private var recovered: [(rank: Int, silentFor: Double)] = []

    /// `hosts[r]` is rank r's host; every rank counts as seen at `start`.
    public init(hosts: [String], warnAfter: Double = 60, abortAfter: Double? = 600, start: Double) {
        precondition(warnAfter > 0, "stall warnAfter must be > 0 s (got \(warnAfter))")
        precondition(abortAfter.map { $0 > warnAfter } ?? true,
                     "stall abortAfter (\(abortAfter ?? 0) s) must exceed warnAfter (\(warnAfter) s)")
        self.hosts = hosts
        self.warnAfter = warnAfter
        self.abortAfter = abortAfter
        lastSeen = Array(repeating: start, count: hosts.count)
        warned = Array(repeating: false, count: hosts.count)
        aborted = Array(repeating: false, count: hosts.count)
    }

    /// Rank `rank` reported at `time`, optionally saying what it is at.
    public func report(rank: Int, at time: Double, activity: String? = nil) {
        precondition(hosts.indices.contains(rank), "rank \(rank) is not in 0..<\(hosts.count)")
        if warned[rank] { recovered.append((rank, time - lastSeen[rank])) }
        lastSeen[rank] = max(lastSeen[rank], time)
        warned[rank] = false
        aborted[rank] = false
        if let activity { lastActivity[rank] = activity }
    }

    /// The new events at `time`, by rank: recoveries since the last check, then each silence
    /// crossing a threshold for the first time (an abort supersedes a warning not yet given).
    public func check(at time: Double) -> [StallEvent] {
        var events = recovered.map { event(.recovered, $0.rank, $0.silentFor) }
        recovered = []
        for r in hosts.indices {
            let silent = time - lastSeen[r]
            if let abortAfter, silent >= abortAfter {
                if !aborted[r] { events.append(event(.abort, r, silent)) }
                aborted[r] = true
                warned[r] = true
            } else if silent >= warnAfter, !warned[r] {
                events.append(event(.warning, r, silent))
                warned[r] = true
            }
        }
        return events
    }

    private func event(_ kind: StallEvent.Kind, _ rank: Int, _ silent: Double) -> StallEvent {
        let who = "rank \(rank) (\(hosts[rank]))"
        let seconds = "\(Int(silent)) s"
        let seen = lastActivity[rank].map { "last seen at \($0)" } ?? "nothing heard from it since the start"
        let message: String
        switch kind {
        case .warning:
            let then = abortAfter.map { "; the run aborts if it stays silent for \(Int($0)) s" } ?? ""
            message = "\(who) has not reported for \(seconds): \(seen)\(then)"
        case .abort:
            message = "\(who) has not reported for \(seconds): \(seen); aborting the run"
        case .recovered:
            message = "\(who) reported again after \(seconds) of silence"
        }
        return StallEvent(kind: kind, rank: rank, host: hosts[rank], silentFor: silent, message: message)
    }
}

/// One finding of the stall watch, with the text the user sees.
public struct StallEvent: Equatable, CustomStringConvertible {
    public enum Kind: Equatable { case warning, abort, recovered }
    public let kind: Kind
    public let rank: Int
    public let host: String
    public let silentFor: Double
    public let message: String
    public var description: String { message }
}
