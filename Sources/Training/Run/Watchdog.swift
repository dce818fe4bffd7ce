import Foundation

/// A thread per rank that watches the main thread's waits (all-reduces, transfers, sync
/// points): a wait longer than `warn` seconds prints one warning naming what it waits for;
/// longer than `abort` ends the process with status 3 — mpirun then ends the whole job — so a
/// lost peer never leaves the job hanging.
final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: (what: String, since: Double)?
    private var warned = false
    private let warn: Double, abort: Double
    private let say: (String) -> Void
    private var running = true

    init(warn: Double, abort: Double, say: @escaping (String) -> Void) {
        self.warn = warn
        self.abort = abort
        self.say = say
        let t = Thread { [weak self] in
            while let s = self, s.tick() { Thread.sleep(forTimeInterval: 0.5) }
        }
        t.name = "rstrain-watchdog"
        t.start()
    }

    /// Runs `body` (a wait on peers) under watch.
    func watch<T>(_ what: @autoclosure () -> String, _ body: () throws -> T) rethrows -> T {
        lock.lock(); waiting = (what(), Date().timeIntervalSince1970); warned = false; lock.unlock()
        defer { lock.lock(); waiting = nil; lock.unlock() }
        return try body()
    }

    func stop() { lock.lock(); running = false; lock.unlock() }

    private func tick() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard running else { return false }
        guard let w = waiting else { return true }
        let t = Date().timeIntervalSince1970 - w.since
        if t > abort {
            say("aborting: waited \(Int(t)) s for \(w.what); a peer rank is lost or stalled (watchdog.abort_seconds = \(Int(abort)))")
            fflush(stdout); fflush(stderr)
            _exit(3)
        }
        if t > warn && !warned {
            warned = true
            say("still waiting after \(Int(t)) s for \(w.what) (watchdog.warn_seconds = \(Int(warn)))")
        }
        return true
    }
}
