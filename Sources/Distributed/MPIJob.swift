import Foundation

/// An error every rank of a job met alike (a bad config, problems gathered from every rank, a
/// weights file all ranks checked): rank 0 prints `lines` once and every rank leaves MPI cleanly
/// with `status`, so no rank is left waiting in a collective.
public struct SharedFailure: Error, CustomStringConvertible {
    public let lines: [String]
    public let status: Int32

    public init(_ lines: [String], status: Int32 = 1) {
        self.lines = lines
        self.status = status
    }

    public var description: String { lines.joined(separator: "\n") }
}

/// How the commands that run on every rank (train, baseline, predict, eval --config) start and
/// end MPI: one place for the rule that a failure every rank shares ends the job cleanly, while a
/// failure of one rank alone aborts it (its peers may be blocked waiting for it).
public enum MPIJob {
    /// Initialises MPI (a world of one without mpirun), runs `body` on this rank, finalises, and
    /// returns `body`'s exit status. A `SharedFailure` is printed by rank 0 and returns its status;
    /// any other error is printed by the failing rank as `command: [rank r (host): ]error` and, in
    /// a world of several, aborts the job. `describe` renders an error's text (for example to
    /// name a file as the user gave it).
    public static func run(_ command: String, describe: (Error) -> String = { "\($0)" },
                           _ body: (Communicator) throws -> Int32) -> Int32 {
        do {
            try MPIRuntime.initialize(threadLevel: .funneled)
        } catch {
            fputs("\(command): \(describe(error))\n", stderr)
            return 1
        }
        let world = Communicator.world
        do {
            let status = try body(world)
            try MPIRuntime.finalize()
            return status
        } catch let shared as SharedFailure {
            if world.rank == 0 {
                for line in shared.lines { fputs(line + "\n", stderr) }
                fflush(stderr)
            }
            try? MPIRuntime.finalize()
            return shared.status
        } catch {
            let rank = world.size > 1 ? "rank \(world.rank) (\(world.hostname)): " : ""
            fputs("\(command): \(rank)\(describe(error))\n", stderr)
            fflush(stderr)
            if world.size > 1 { world.abort(code: 1) }
            return 1
        }
    }

    /// How a rank speaks: rank 0 on stdout; the others only when something is wrong, on stderr,
    /// prefixed by rank and host.
    public static func speaker(_ world: Communicator) -> (String) -> Void {
        let prefix = world.rank == 0 ? "" : "[rank \(world.rank) \(world.hostname)] "
        return { line in
            let out = world.rank == 0 ? stdout : stderr
            fputs(prefix + line + "\n", out)
            fflush(out)
        }
    }
}
