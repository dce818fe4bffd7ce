import ArgumentParser
import DataIO
import Distributed
import Engine
import Foundation

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the environment: BLAS, MPI, GDAL, HDF5.",
        discussion: """
        Run it as the job will run, e.g. `mpirun -n 4 rstrain doctor`: every rank checks its \
        libraries, rank 0 prints every rank's host and an all-reduce check. Exits non-zero if \
        any check fails on any rank.
        """
    )

    @Flag(help: "Print one JSON object (rank 0 only).")
    var json = false

    @Option(help: "BLAS threads (default: every core, or 1 per rank when ranks share a host).")
    var threads: Int?

    @Option(help: "Directory where GeoTIFF and HDF5 writing is checked (default: the temporary directory); give the run directory to check shared storage from every rank.")
    var workdir: String?

    @Flag(help: .hidden)
    var selftest = false

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        BLAS.threads = BLASCore.defaultThreads(requested: threads)
        let level = try MPIRuntime.initialize(threadLevel: .funneled)
        let world = Communicator.world

        // Every rank runs every check, then all take part in every collective, so a failed
        // check never leaves a peer waiting.
        var checks = LocalChecks.run(workdir: workdir, host: world.hostname)
        let sum = try world.allreduce(Int64(world.rank), op: .sum)
        let expected = Int64(world.size * (world.size - 1) / 2)
        checks.insert(DoctorCheck("mpi.allreduce", ok: sum == expected,
                                  "sum of ranks \(sum), expected \(expected)"), at: 0)
        let selfChecks = selftest ? MPISelfTest.run(world) : []

        let mine = RankReport(rank: world.rank, host: world.hostname, pid: Int(getpid()),
                              blas: BLASCore.summary, blasThreads: BLAS.threads,
                              gdal: GDAL.version, hdf5: HDF5File.libraryVersion,
                              checks: checks, selftest: selftest ? selfChecks : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: try encoder.encode(mine), as: UTF8.self)
        let hosts = try world.allgather(string: world.hostname)
        let gathered = try world.gather(string: text, root: 0)
        let localFailures = (checks + selfChecks).filter { !$0.ok }.count
        let failures = try world.allreduce(Int64(localFailures), op: .sum)

        if let gathered {
            let ranks = try gathered.map { try JSONDecoder().decode(RankReport.self, from: Data($0.utf8)) }
            let report = DoctorReport(
                ok: failures == 0, size: world.size, hosts: hosts,
                mpi: .init(library: MPIRuntime.libraryVersion,
                           standard: "\(MPIRuntime.standardVersion.major).\(MPIRuntime.standardVersion.minor)",
                           threadLevel: level.description, launcher: MPIRuntime.launchedByLauncher,
                           allreduceSum: sum, allreduceExpected: expected),
                checks: DoctorCheck.merge(ranks.map(\.checks)),
                selftest: selftest ? DoctorCheck.merge(ranks.map { $0.selftest ?? [] }) : nil,
                ranks: ranks)
            if json {
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                report.printText()
            }
            fflush(stdout)
        }
        try MPIRuntime.finalize()
        if failures > 0 { throw ExitCode.failure }
    }
}

/// What one rank found.
struct RankReport: Codable {
    var rank: Int
    var host: String
    var pid: Int
    var blas: String
    var blasThreads: Int
    var gdal: String
    var hdf5: String
    var checks: [DoctorCheck]
    var selftest: [DoctorCheck]?
}

/// What rank 0 prints.
struct DoctorReport: Codable {
    struct MPI: Codable {
        var library: String
        var standard: String
        var threadLevel: String
        var launcher: Bool
        var allreduceSum: Int64
        var allreduceExpected: Int64
    }
    var ok: Bool
    var size: Int
    var hosts: [String]
    var mpi: MPI
    var checks: [DoctorCheck]
    var selftest: [DoctorCheck]?
    var ranks: [RankReport]

    func printText() {
        func line(_ k: String, _ v: String) { print(k.padding(toLength: 10, withPad: " ", startingAt: 0) + v) }
        let r0 = ranks.first
        line("MPI", "\(mpi.library), MPI \(mpi.standard), thread level \(mpi.threadLevel), "
             + "\(size) rank\(size == 1 ? "" : "s")\(mpi.launcher ? "" : " (not started by mpirun)")")
        line("BLAS", r0?.blas ?? "?")
        line("GDAL", r0?.gdal ?? "?")
        line("HDF5", r0?.hdf5 ?? "?")
        for r in ranks {
            line("rank \(r.rank)", "host \(r.host)  pid \(r.pid)  BLAS threads \(r.blasThreads)")
        }
        let all = checks + (selftest ?? [])
        for c in all {
            let where_ = c.failedRanks.map { " [ranks \($0.map(String.init).joined(separator: ","))]" } ?? ""
            print("\(c.ok ? "ok  " : "FAIL") \(c.name): \(c.detail)\(where_)")
        }
        let failed = all.filter { !$0.ok }.count
        print(failed == 0 ? "all \(all.count) checks passed" : "\(failed) of \(all.count) checks FAILED")
    }
}
