import Foundation
import TestSupport
import XCTest

/// `rstrain doctor` as one process, without mpirun (a world of one).
final class DoctorCommandTests: XCTestCase {
    func doctor(_ args: [String], env: [String: String] = [:]) throws -> (ProcessResult, [String: Any]?) {
        let r = try runProcess(try rstrainBinary(), ["doctor"] + args, environment: env)
        let json = r.stdout.split(separator: "\n").first { $0.hasPrefix("{") }
            .flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        return (r, json)
    }

    func testJSONReportWithoutMPIRun() throws {
        let (r, json) = try doctor(["--json"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let j = try XCTUnwrap(json, r.stdout)
        XCTAssertEqual(j["ok"] as? Bool, true)
        XCTAssertEqual(j["size"] as? Int, 1)
        let mpi = try XCTUnwrap(j["mpi"] as? [String: Any])
        XCTAssertEqual(mpi["launcher"] as? Bool, false)
        XCTAssertEqual(mpi["allreduceSum"] as? Int, 0)
        let rank = try XCTUnwrap((j["ranks"] as? [[String: Any]])?.first)
        XCTAssertEqual(rank["gdal"] as? String, GDALVersionFromCLI())
        XCTAssertTrue((rank["hdf5"] as? String)?.hasPrefix("1.") == true)
        XCTAssertTrue((rank["blas"] as? String)?.isEmpty == false)
        let names = (j["checks"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        for n in ["mpi.allreduce", "blas.sgemm", "gdal.gtiff", "gdal.geotiff-roundtrip", "hdf5.roundtrip"] {
            XCTAssertTrue(names.contains(n), "check \(n) missing from \(names)")
        }
        XCTAssertNil(j["selftest"], "selftest only on request")
    }

    func testTextReportAndSelftest() throws {
        let (r, _) = try doctor(["--selftest"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("GDAL"))
        XCTAssertTrue(r.stdout.contains("rank 0"))
        XCTAssertTrue(r.stdout.contains("ok   selftest.split"), r.stdout)
        XCTAssertTrue(r.stdout.contains("checks passed"), r.stdout)
        XCTAssertFalse(r.stdout.contains("FAIL"), r.stdout)
    }

    func testFailingCheckGivesNonZeroExit() throws {
        let (r, json) = try doctor(["--json", "--workdir", "/proc/rstrain-no-such-dir"])
        XCTAssertNotEqual(r.status, 0)
        let j = try XCTUnwrap(json, r.stdout)
        XCTAssertEqual(j["ok"] as? Bool, false)
        let failed = (j["checks"] as? [[String: Any]] ?? []).filter { $0["ok"] as? Bool == false }.compactMap { $0["name"] as? String }
        XCTAssertEqual(Set(failed), ["workdir", "gdal.geotiff-roundtrip", "hdf5.roundtrip"])
    }

    func testInvalidThreadsIsAUsageError() throws {
        let (r, _) = try doctor(["--threads", "0"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--threads must be at least 1"), r.stderr)
    }

    /// GDAL's version as gdal-config reports it, to cross-check the doctor.
    func GDALVersionFromCLI() -> String? {
        guard let r = try? runProcess("gdal-config", ["--version"]), r.status == 0 else { return nil }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
