import XCTest
@testable import Experiment

final class ScheduleTests: XCTestCase {
    func testRoundRobinVisitsEveryGroupOncePerEpoch() {
        for (models, shards) in [(2, 2), (3, 2), (2, 3), (1, 4)] {
            let s = Schedule(mode: .roundRobin, models: models, trainCounts: Array(repeating: 40, count: shards),
                             microBatch: 4, microBatches: 2, epochs: 2, roundFraction: 1)
            XCTAssertEqual(s.roundsPerEpoch, max(models, shards))
            for m in 0..<models {
                for e in 0..<2 {
                    let visited = (e * s.roundsPerEpoch..<(e + 1) * s.roundsPerEpoch).compactMap { s.group(model: m, round: $0) }
                    XCTAssertEqual(visited.sorted(), Array(0..<shards), "model \(m) epoch \(e) (\(models) models, \(shards) shards)")
                }
            }
            // No two models on one group in a round.
            for r in 0..<s.rounds {
                let groups = s.tasks(round: r).map(\.group)
                XCTAssertEqual(Set(groups).count, groups.count)
                XCTAssertEqual(groups.count, min(models, shards))
            }
        }
    }

    func testStepsFollowShardSize() {
        let s = Schedule(mode: .roundRobin, models: 2, trainCounts: [80, 20], microBatch: 4, microBatches: 2,
                         epochs: 1, roundFraction: 0.5)
        // 0.5 × 80 / 8 = 5, 0.5 × 20 / 8 = 1.25 → 1.
        XCTAssertEqual(s.steps, [5, 1])
        XCTAssertEqual(s.totalSteps(model: 0), 6)
    }

    func testDataParallelTrainsModelsInSequence() {
        let s = Schedule(mode: .dataParallel, models: 2, trainCounts: [30, 10], microBatch: 2, microBatches: 2,
                         epochs: 3, roundFraction: 1)
        XCTAssertEqual(s.groups, [[0, 1]])
        XCTAssertEqual(s.steps, [10])
        XCTAssertEqual((0..<s.rounds).map { s.tasks(round: $0).map(\.model) }, [[0], [1], [0], [1], [0], [1]])
    }

    func testShardSequenceIsProportionalAndSpread() {
        let s = Schedule(mode: .dataParallel, models: 1, trainCounts: [30, 10], microBatch: 2, microBatches: 4,
                         epochs: 1, roundFraction: 1)
        let seq = s.shardSequence(group: 0, steps: 2)
        XCTAssertEqual(seq.count, 8)
        XCTAssertEqual(seq.filter { $0 == 0 }.count, 6)
        // Smooth weighted round-robin with weights 3:1: 0 0 1 0 | 0 0 1 0.
        XCTAssertEqual(seq, [0, 0, 1, 0, 0, 0, 1, 0])
        XCTAssertEqual(s.drawnBefore(round: 1), [seq.filter { $0 == 0 }.count * 5 / 2, seq.filter { $0 == 1 }.count * 5 / 2])
        // Mid-round (a checkpoint after 2 steps of round 1): the first 2 steps' 6 + 2 micro-batches more.
        let two = Schedule(mode: .dataParallel, models: 1, trainCounts: [30, 10], microBatch: 2, microBatches: 4,
                           epochs: 2, roundFraction: 1)
        XCTAssertEqual(two.drawn(round: 1, steps: 2), [15 + 6, 5 + 2])
        XCTAssertEqual(two.drawn(round: 1, steps: 99), [30, 10], "steps past the visit's end count as its end")
        XCTAssertEqual(s.drawn(round: 0, steps: 0), [0, 0])
    }

    func testSamplerCoversEveryTrainingWindowEachPass() {
        let train = [3, 5, 8, 9, 11, 20, 21]
        let a = ShardSampler(train: train, microBatch: 3, seed: 9), b = ShardSampler(train: train, microBatch: 3, seed: 9)
        let draws = (0..<7).flatMap { a.microBatch($0).indices }   // 21 draws = 3 passes
        for p in 0..<3 { XCTAssertEqual(draws[p * 7..<(p + 1) * 7].sorted(), train) }
        XCTAssertNotEqual(Array(draws[0..<7]), Array(draws[7..<14]), "each pass has its own order")
        // Any micro-batch can be recomputed alone (no hidden state): what a resumed run needs.
        XCTAssertEqual(b.microBatch(5), a.microBatch(5))
        XCTAssertEqual(a.microBatch(5).epoch, 5)
    }

    func testHoldOutIsStableAndSized() {
        let (t, v) = holdOut(count: 2000, fraction: 0.1, shard: "shard-000")
        XCTAssertEqual(t.count + v.count, 2000)
        XCTAssertEqual(Set(t).intersection(v).count, 0)
        XCTAssertEqual(Double(v.count), 200, accuracy: 40)
        XCTAssertEqual(holdOut(count: 2000, fraction: 0.1, shard: "shard-000").validation, v)
        XCTAssertNotEqual(holdOut(count: 2000, fraction: 0.1, shard: "shard-001").validation, v)
        XCTAssertEqual(holdOut(count: 1, fraction: 0.9, shard: "x").train, [0], "at least one window trains")
        XCTAssertEqual(holdOut(count: 3, fraction: 0.01, shard: "x").validation.count, 1, "at least one window validates")
        XCTAssertEqual(holdOut(count: 3, fraction: 0, shard: "x").validation, [])
    }
}
