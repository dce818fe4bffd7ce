import Distributed
import Foundation

/// The scheduler's meeting point: every rank sends rank 0 a report (its metric records, its
/// failure if any); rank 0 waits for them one by one, so it knows exactly who is late, warns
/// naming the silent ranks and their hosts, and aborts the job past the limit instead of
/// hanging; then rank 0 broadcasts its decision to all.
struct SyncPoint {
    let world: Communicator
    let hosts: [String]
    let warn: Double, abort: Double
    let say: (String) -> Void
    static let lengthTag = 71, bodyTag = 72

    /// Rank 0: every rank's report, in rank order (its own first). Others: nil.
    func gather(_ report: String, activity: [String]) throws -> [String]? {
        let bytes = Array(report.utf8)
        guard world.rank == 0 else {
            var n = Int64(bytes.count)
            try withUnsafePointer(to: &n) { try world.send(UnsafeBufferPointer(start: $0, count: 1), to: 0, tag: Self.lengthTag) }
            try bytes.withUnsafeBufferPointer { try world.send($0, to: 0, tag: Self.bodyTag) }
            return nil
        }
        var out = [String](repeating: "", count: world.size)
        out[0] = report
        let lengths = UnsafeMutableBufferPointer<Int64>.allocate(capacity: world.size)
        defer { lengths.deallocate() }
        var pending: [Int: Request] = [:]
        for r in 1..<world.size {
            pending[r] = try world.irecv(UnsafeMutableBufferPointer(rebasing: lengths[r..<(r + 1)]), from: r, tag: Self.lengthTag)
        }
        let start = Date().timeIntervalSince1970
        var warned = Set<Int>()
        while !pending.isEmpty {
            var progressed = false
            for r in pending.keys.sorted() where try pending[r]!.test() {
                pending[r] = nil
                var body = [UInt8](repeating: 0, count: Int(lengths[r]))
                try body.withUnsafeMutableBufferPointer { _ = try world.recv($0, from: r, tag: Self.bodyTag) }
                out[r] = String(decoding: body, as: UTF8.self)
                progressed = true
            }
            if progressed || pending.isEmpty { continue }
            let t = Date().timeIntervalSince1970 - start
            let late = pending.keys.sorted()
            if t > abort {
                say("aborting the job: " + late.map { describe($0, t, activity) }.joined(separator: "; "))
                fflush(stdout)
                world.abort(code: 3)
            }
            for r in late where t > warn && !warned.contains(r) {
                warned.insert(r)
                say("warning: " + describe(r, t, activity))
            }
            usleep(2000)
        }
        return out
    }

    private func describe(_ r: Int, _ t: Double, _ activity: [String]) -> String {
        "rank \(r) (\(hosts[r])) has not reported for \(Int(t)) s (last seen: \(r < activity.count ? activity[r] : "start"))"
    }

    /// Rank 0's decision, to every rank.
    func decide(_ decision: String, watchdog: Watchdog) throws -> String {
        try watchdog.watch("rank 0's decision at a sync point") { try world.broadcast(string: decision, root: 0) }
    }
}
