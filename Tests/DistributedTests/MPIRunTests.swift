import Foundation
import TestSupport
import XCTest

/// `rstrain doctor` under `mpirun -n 3`: real processes talking through Open MPI.
final class MPIRunTests: XCTestCase {
    let rootOK = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]

    func mpirun(_ args: [String]) throws -> (ProcessResult, [String: Any]?) {
        guard onPath("mpirun") else { throw XCTSkip("mpirun is not on PATH: Open MPI (openmpi-bin) is not installed") }
        let r = try runProcess("mpirun", ["--oversubscribe", "--allow-run-as-root"] + args, environment: rootOK, timeout: 60)
        // Rank 0 prints one JSON line; anything else (launcher notices) is ignored.
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("{") }
        let json = line.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        return (r, json)
    }

    func testDoctorAndSelftestOnThreeRanks() throws {
        let exe = try rstrainBinary()
        let (r, json) = try mpirun(["-n", "3", exe, "doctor", "--json", "--selftest"])
        XCTAssertEqual(r.status, 0, "stdout:\n\(r.stdout)\nstderr:\n\(r.stderr)")
        let j = try XCTUnwrap(json, "no JSON from rank 0:\n\(r.stdout)\n\(r.stderr)")
        XCTAssertEqual(j["ok"] as? Bool, true)
        XCTAssertEqual(j["size"] as? Int, 3)
        let ranks = try XCTUnwrap(j["ranks"] as? [[String: Any]])
        XCTAssertEqual(ranks.compactMap { $0["rank"] as? Int }, [0, 1, 2], "every rank answered")
        XCTAssertEqual(Set(ranks.compactMap { $0["pid"] as? Int }).count, 3, "three processes")
        XCTAssertEqual((j["hosts"] as? [String])?.count, 3)
        let mpi = try XCTUnwrap(j["mpi"] as? [String: Any])
        XCTAssertEqual(mpi["allreduceSum"] as? Int, 0 + 1 + 2)
        XCTAssertEqual(mpi["launcher"] as? Bool, true)
        let selftest = try XCTUnwrap(j["selftest"] as? [[String: Any]])
        let names = selftest.compactMap { $0["name"] as? String }
        for op in ["allreduce-float", "allreduce-double", "allreduce-int64", "iallreduce", "broadcast-float",
                   "sendrecv-ring", "send-recv", "gather-allgather", "split", "errors"] {
            XCTAssertTrue(names.contains("selftest." + op), "selftest step \(op) missing: \(names)")
        }
        for c in selftest + (j["checks"] as? [[String: Any]] ?? []) {
            XCTAssertEqual(c["ok"] as? Bool, true, "\(c)")
        }
        // Every rank ran the selftest itself.
        for rank in ranks { XCTAssertEqual((rank["selftest"] as? [Any])?.count, selftest.count) }
    }

    /// One rank whose checks fail makes the job exit non-zero, and the report names that rank.
    func testFailureOnOneRankFailsTheJob() throws {
        let exe = try rstrainBinary()
        let (r, json) = try mpirun(["-n", "2", exe, "doctor", "--json", ":",
                                    "-n", "1", exe, "doctor", "--json", "--workdir", "/proc/rstrain-no-such-dir"])
        XCTAssertNotEqual(r.status, 0)
        let j = try XCTUnwrap(json, "no JSON from rank 0:\n\(r.stdout)\n\(r.stderr)")
        XCTAssertEqual(j["ok"] as? Bool, false)
        let checks = try XCTUnwrap(j["checks"] as? [[String: Any]])
        let tmp = try XCTUnwrap(checks.first { $0["name"] as? String == "workdir" })
        XCTAssertEqual(tmp["ok"] as? Bool, false)
        XCTAssertEqual(tmp["failedRanks"] as? [Int], [2])
        XCTAssertEqual(checks.first { $0["name"] as? String == "mpi.allreduce" }?["ok"] as? Bool, true)
    }
}
