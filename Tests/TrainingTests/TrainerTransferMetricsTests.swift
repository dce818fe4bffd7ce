import Foundation
import TestSupport
import XCTest

/// Round-robin model moves are measured: metrics.jsonl gets one "transfer" line per move (the
/// new leader's time and the state's size), the figures the scaling model fits transfers to.
final class TrainerTransferMetricsTests: XCTestCase {
    func lines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func testRoundRobinMovesRecordTimeAndBytes() throws {
        let dir = try TrainingRun.data + "/runs/transfer2"
        let cfg = try TrainingRun.config("transfer2", runDir: dir)
        let r = try TrainingRun.mpirun(2, [cfg])
        XCTAssertEqual(r.status, 0, "\(r.stdout)\n\(r.stderr)")

        // Where each model was in each round (the schedule), hence which rounds moved it.
        let placed = try lines(dir + "/schedule.jsonl").filter { $0["queued"] == nil }
        var at: [String: [Int: [Int]]] = [:]
        for p in placed { at[p["model"] as! String, default: [:]][p["round"] as! Int] = p["ranks"] as? [Int] }
        var expected: Set<String> = []
        for (model, rounds) in at {
            var before = [0]   // rank 0 holds every model's initial weights
            for round in rounds.keys.sorted() {
                let now = rounds[round]!
                if now != before { expected.insert("\(model) \(round) \(before.min()!)->\(now)") }
                before = now
            }
        }
        XCTAssertFalse(expected.isEmpty, "the schedule never moved a model: \(placed)")

        let moves = try lines(dir + "/metrics.jsonl").filter { $0["type"] as? String == "transfer" }
        let got = Set(moves.map { "\($0["model"]!) \($0["round"]!) \($0["from"]!)->\($0["ranks"] as? [Int] ?? [])" })
        XCTAssertEqual(got, expected)
        XCTAssertEqual(moves.count, expected.count, "one line per move: \(moves)")

        // Bytes: the whole state that travels. With Adam that is the weights (and running
        // statistics) plus two moment tensors per weight, so more than the final weights file holds.
        for model in ["unet", "resnet"] {
            let weightFloats = try TrainingRun.weights("\(dir)/final/\(model).h5").values.reduce(0) { $0 + $1.count }
            let mine = moves.filter { $0["model"] as? String == model }
            XCTAssertFalse(mine.isEmpty, "\(model) never moved")
            for m in mine {
                let seconds = try XCTUnwrap(m["transfer_seconds"] as? Double, "\(m)")
                XCTAssertGreaterThan(seconds, 0, "\(m)")
                let bytes = try XCTUnwrap(m["bytes"] as? Int, "\(m)")
                XCTAssertGreaterThan(bytes, 4 * weightFloats, "\(model): \(m)")
                XCTAssertEqual(bytes % 4, 0)
            }
            XCTAssertEqual(Set(mine.map { $0["bytes"] as! Int }).count, 1, "\(model): the state's size changed between moves")
        }
    }
}
