import DataIO
import Distributed
import Engine
import Foundation
import Models
import Experiment

extension Trainer {
    /// A micro-batch of a visit: where it comes from and which rank computes it.
    struct Draw {
        let step: Int
        let shard: Int
        /// The shard sampler's micro-batch number (its position; keys augmentation and dropout).
        let q: Int
        let rank: Int
    }

    /// Every micro-batch of a visit to group g with `steps` steps, given the samplers' state.
    func draws(group g: Int, steps: Int, drawn: [Int]) -> [Draw] {
        var next = drawn
        let mb = cfg.microBatches
        return setup.schedule.shardSequence(group: g, steps: steps).enumerated().map { u, s in
            let q = next[s]
            next[s] += 1
            let owners = setup.placement.owners[s]
            return Draw(step: u / mb, shard: s, q: q, rank: owners[q % owners.count])
        }
    }

    /// "1 (node07), 3 (node08)".
    func describe(_ ranks: [Int]) -> String { ranks.map { "\($0) (\(setup.hosts[$0]))" }.joined(separator: ", ") }

    /// Shard s's sampler (same on every rank: its state is the micro-batch number).
    func sampler(_ s: Int) -> ShardSampler {
        if let x = samplers[s] { return x }
        let x = ShardSampler(train: setup.split[s].train, microBatch: cfg.microBatch, seed: cfg.seed ^ stableHash(cfg.data.shards[s].name))
        samplers[s] = x
        return x
    }

    /// Dropout and other per-pass randomness of a micro-batch: a function of what it is, not where it runs.
    func passSeed(model m: Int, _ d: Draw) -> UInt64 {
        SplitMix64.mix(cfg.seed ^ stableHash(cfg.models[m].name) ^ UInt64(d.shard) << 48 ^ UInt64(d.q))
    }

    func loader(shard s: Int, plan: [PlannedBatch], validation: Bool = false) -> Loader? {
        guard !plan.isEmpty, let d = setup.shards[s] else { return nil }
        let ds = validation ? d.evaluationDataset : d.dataset
        return Loader(ds, plan: plan, seed: cfg.seed ^ stableHash(d.config.name), workers: cfg.data.workers,
                      prefetch: 4, normalization: setup.normalization)
    }

    /// Trains every task of this rank's group for `steps` (of the round). Returns a failure message.
    func trainSegment(_ tasks: [Schedule.Task], round r: Int, steps: Range<Int>, drawn: [Int]) throws -> String? {
        let me = world.rank
        for t in tasks where ranks(ofGroup: t.group).contains(me) {
            let range = steps.clamped(to: 0..<t.steps)
            guard !range.isEmpty else { continue }
            let rep = try replica(t.model)
            let all = draws(group: t.group, steps: t.steps, drawn: drawn).filter { range.contains($0.step) }
            let mine = all.filter { $0.rank == me }
            var loaders: [Int: Loader] = [:]
            for s in Set(mine.map(\.shard)) {
                let plan = mine.filter { $0.shard == s }.map { sampler(s).microBatch($0.q) }
                loaders[s] = loader(shard: s, plan: plan)
            }
            defer { for l in loaders.values { l.close() } }
            let comm = groupComm
            for step in range {
                let t0 = Date().timeIntervalSince1970
                var batches: [(batch: SampleBatch, seed: UInt64)] = []
                var shardsOfStep: [Int] = []
                let wait = timeline.begin("data wait", category: "data")
                let w0 = Date().timeIntervalSince1970
                for d in mine where d.step == step {
                    guard let b = try loaders[d.shard]!.next() else {
                    throw DataError(path: cfg.data.shards[d.shard].path, "the loader ended before micro-batch \(d.q) of model \(rep.config.name)")
                }
                    batches.append((b, passSeed(model: t.model, d)))
                    shardsOfStep.append(d.shard)
                }
                timeline.end(wait)
                let waited = Date().timeIntervalSince1970 - w0
                let span = timeline.begin("step", category: "compute")
                let metrics = try watchdog.watch("the all-reduce of model \(rep.config.name), round \(r), step \(step) with ranks \(describe(ranks(ofGroup: t.group)))") {
                    try rep.step(batches, total: cfg.microBatches, comm: comm)
                }
                timeline.end(span, args: ["model": rep.config.name, "step": step, "allreduce_s": rep.lastCommSeconds])
                for ((b, _), s) in zip(batches, shardsOfStep) { loaders[s]?.recycle(b) }
                let names = Set(all.filter { $0.step == step }.map { cfg.data.shards[$0.shard].name }).sorted()
                guard let m = metrics, m.lossSum.isFinite else {
                    return "model \(rep.config.name): loss or gradient is not finite at round \(r), step \(step) (global step \(rep.optimizer.step + 1)) on shard \(names.joined(separator: ", ")); training stopped, the last good checkpoint is kept"
                }
                if me == ranks(ofGroup: t.group).first {
                    let now = Date().timeIntervalSince1970
                    records.append(.step(StepRecord(model: rep.config.name, round: r, step: step, globalStep: rep.optimizer.step,
                                                    stepsInRound: t.steps, shard: names.joined(separator: "+"), loss: m.loss,
                                                    overallAccuracy: m.accuracy, samples: cfg.batch, seconds: now - t0,
                                                    allreduceSeconds: rep.lastCommSeconds, dataWaitSeconds: waited, time: now)))
                }
            }
        }
        return nil
    }

    /// Each group evaluates its model on its shards' held-out windows (split over its ranks),
    /// summed exactly; the group's leader records the figure.
    func validate(_ tasks: [Schedule.Task], round r: Int) throws {
        let me = world.rank, mb = cfg.microBatch
        for t in tasks where ranks(ofGroup: t.group).contains(me) {
            let rep = try replica(t.model)
            let span = timeline.begin("validation", category: "validation")
            var total = 0
            var terms: [StepMetrics] = []
            for s in setup.schedule.groups[t.group] {
                let val = setup.split[s].validation
                let chunks = stride(from: 0, to: val.count, by: mb).map { Array(val[$0..<min($0 + mb, val.count)]) }
                total += chunks.count
                let owners = setup.placement.owners[s]
                let plan = chunks.enumerated().filter { owners[$0.offset % owners.count] == me }.map { PlannedBatch(indices: $0.element, epoch: 0) }
                guard let l = loader(shard: s, plan: plan, validation: true) else { continue }
                defer { l.close() }
                while let b = try l.next() { terms.append(try rep.evaluate(b)); l.recycle(b) }
            }
            let sum = try watchdog.watch("the validation of model \(rep.config.name) in round \(r)") {
                try MetricSum.reduce(terms, total: total, mode: cfg.reduction, comm: groupComm)
            }
            timeline.end(span)
            if me == ranks(ofGroup: t.group).first {
                let final = r >= setup.schedule.rounds - 1 && cfg.mode == .roundRobin || isLastRoundOf(t.model, r)
                records.append(.validation(ValidationRecord(
                    model: rep.config.name, round: r, shards: setup.schedule.groups[t.group].map { cfg.data.shards[$0].name },
                    loss: sum.loss, overallAccuracy: sum.accuracy, lossSum: sum.lossSum, weight: sum.weight, correct: sum.correct,
                    counted: sum.counted, final: final)))
            }
        }
    }

    /// Whether round r is model m's last training round (data-parallel: its final validation).
    func isLastRoundOf(_ m: Int, _ r: Int) -> Bool {
        let sch = setup.schedule
        guard r < sch.rounds, sch.group(model: m, round: r) != nil else { return false }
        return !((r + 1)..<sch.rounds).contains { sch.group(model: m, round: $0) != nil }
    }
}
