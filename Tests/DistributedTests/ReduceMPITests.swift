import Foundation
import TestSupport
import XCTest
@testable import Distributed

/// Exact reduction across real ranks, driven through `rstrain bench reduce --check`: a fixed set
/// of terms, each owned by a scrambled rank (odd ranks add theirs in reverse order). The exact
/// result's hash must not depend on the number of ranks.
final class ReduceMPITests: XCTestCase {
    let env = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
               "OMPI_MCA_btl_vader_single_copy_mechanism": "none"]

    /// Rank 0's JSON line of `bench reduce`; ranks nil = one process without mpirun.
    func bench(ranks: Int?, _ args: [String]) throws -> [String: Any] {
        let exe = try rstrainBinary()
        let r: ProcessResult
        if let ranks {
            guard onPath("mpirun") else { throw XCTSkip("mpirun is not on PATH: Open MPI (openmpi-bin) is not installed") }
            r = try runProcess("mpirun", ["--oversubscribe", "--allow-run-as-root", "-n", "\(ranks)", exe, "bench", "reduce", "--json"] + args,
                               environment: env, timeout: 120)
        } else {
            r = try runProcess(exe, ["bench", "reduce", "--json"] + args, environment: env, timeout: 120)
        }
        XCTAssertEqual(r.status, 0, "stdout:\n\(r.stdout)\nstderr:\n\(r.stderr)")
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("{") }
        let json = line.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        return try XCTUnwrap(json, "no JSON line:\n\(r.stdout)\n\(r.stderr)")
    }

    func testExactHashIsTheSameOnOneTwoAndThreeRanks() throws {
        // 2 terms on 3 ranks leaves at least one rank without terms.
        for terms in [7, 2] {
            let args = ["--check", "--floats", "100003", "--terms", "\(terms)"]
            var hashes: [String] = []
            for ranks in [nil, 1, 2, 3] {
                let j = try bench(ranks: ranks, args)
                let size = ranks ?? 1
                XCTAssertEqual(j["ranks"] as? Int, size)
                XCTAssertEqual(j["ranks_agree"] as? Bool, true, "\(j)")
                XCTAssertEqual(j["matches_local"] as? Bool, true, "distributed = all terms on one rank: \(j)")
                XCTAssertEqual(j["exact_finite"] as? [Bool], [Bool](repeating: true, count: size))
                let local = try XCTUnwrap(j["local_terms"] as? [Int])
                XCTAssertEqual(local.reduce(0, +), terms)
                if size == 3, terms == 2 { XCTAssertTrue(local.contains(0), "\(local)") }
                XCTAssertGreaterThan(j["nonzero"] as? Int ?? 0, 50_000, "a result worth hashing: \(j)")
                hashes.append(try XCTUnwrap(j["exact_hash"] as? String))
            }
            XCTAssertEqual(Set(hashes).count, 1, "terms \(terms): exact hashes \(hashes)")
        }
    }

    /// A NaN in one term, on whichever rank owns it, is reported on every rank in both modes.
    func testNonFiniteTermIsReportedOnEveryRank() throws {
        let j = try bench(ranks: 3, ["--check", "--floats", "20000", "--terms", "5", "--poison", "3"])
        XCTAssertEqual(j["exact_finite"] as? [Bool], [false, false, false], "\(j)")
        XCTAssertEqual(j["fast_finite"] as? [Bool], [false, false, false], "\(j)")
        let clean = try bench(ranks: 3, ["--check", "--floats", "20000", "--terms", "5"])
        XCTAssertEqual(clean["exact_finite"] as? [Bool], [true, true, true], "\(clean)")
        XCTAssertEqual(clean["fast_finite"] as? [Bool], [true, true, true], "\(clean)")
    }

    /// The timing mode runs both modes to the end on two ranks (figures are not checked).
    func testTimingModeReportsBothModes() throws {
        guard onPath("mpirun") else { throw XCTSkip("mpirun is not on PATH") }
        let r = try runProcess("mpirun", ["--oversubscribe", "--allow-run-as-root", "-n", "2", try rstrainBinary(),
                                          "bench", "reduce", "--json", "--floats", "50000", "--terms", "2", "--seconds", "0.05"],
                               environment: env, timeout: 120)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let lines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(lines.compactMap { $0["mode"] as? String }, ["fast", "exact"], r.stdout)
        XCTAssertEqual(lines.first?["ranks"] as? Int, 2)
        XCTAssertNotNil(lines.last?["exact_over_fast"] as? Double, r.stdout)
    }
}
