import Engine
import Models
/// The logical plan of a run — which model trains on which shards in which round, for how
/// many steps, and which shard each micro-batch comes from. It depends only on the config and
/// the catalog (training windows per shard), never on the number of ranks or the placement.
///
/// Round-robin: one logical group per shard; with M models and G groups there are P = max(M, G)
/// positions, and in round r model i sits at position (i + r) mod P — a group when < G, else it
/// waits (queued). After P rounds (an epoch) every model has visited every group once.
/// Data-parallel: one group holding every shard; P = M, so the models train one after another,
/// one round each per epoch.
public struct Schedule: Sendable, Equatable {
    public struct Task: Sendable, Equatable {
        public let model: Int
        /// Logical group index (into `groups`).
        public let group: Int
        public let steps: Int

        public init(model: Int, group: Int, steps: Int) {
            (self.model, self.group, self.steps) = (model, group, steps)
        }
    }

    /// Logical groups: shard indices.
    public let groups: [[Int]]
    public let models: Int
    public let trainCounts: [Int]
    public let microBatches: Int
    public let microBatch: Int
    public let roundsPerEpoch: Int
    public let epochs: Int
    public var rounds: Int { roundsPerEpoch * epochs }
    /// Steps per visit of a model to group g.
    public let steps: [Int]

    public init(mode: RunConfig.Mode, models: Int, trainCounts: [Int], microBatch: Int, microBatches: Int,
                epochs: Int, roundFraction: Double) {
        groups = mode == .roundRobin ? trainCounts.indices.map { [$0] } : [Array(trainCounts.indices)]
        self.models = models
        self.trainCounts = trainCounts
        self.microBatch = microBatch
        self.microBatches = microBatches
        self.epochs = epochs
        roundsPerEpoch = mode == .roundRobin ? max(models, groups.count) : models
        let batch = microBatch * microBatches
        steps = groups.map { g in
            let windows = g.reduce(0) { $0 + trainCounts[$1] }
            return max(1, Int((roundFraction * Double(windows) / Double(batch)).rounded()))
        }
    }

    /// The group model `m` trains on in round `r` (nil: it waits this round).
    public func group(model m: Int, round r: Int) -> Int? {
        let pos = (m + r) % roundsPerEpoch
        return pos < groups.count ? pos : nil
    }

    public func tasks(round r: Int) -> [Task] {
        (0..<models).compactMap { m in group(model: m, round: r).map { Task(model: m, group: $0, steps: steps[$0]) } }
    }

    /// Total steps of model m over the run.
    public func totalSteps(model m: Int) -> Int {
        (0..<rounds).reduce(0) { t, r in t + (group(model: m, round: r).map { steps[$0] } ?? 0) }
    }

    /// The shard of each micro-batch of a visit to group g, for steps 0..<count: micro-batch u
    /// (u = step · microBatches + j) comes from the shard smooth weighted round-robin picks,
    /// weights = training windows, so shards are drawn in proportion to their size and evenly
    /// spread over the visit.
    public func shardSequence(group g: Int, steps count: Int) -> [Int] {
        let shards = groups[g]
        if shards.count == 1 { return Array(repeating: shards[0], count: count * microBatches) }
        let w = shards.map { trainCounts[$0] }, total = w.reduce(0, +)
        var current = [Int](repeating: 0, count: shards.count)
        var out: [Int] = []
        out.reserveCapacity(count * microBatches)
        for _ in 0..<(count * microBatches) {
            for i in current.indices { current[i] += w[i] }
            var best = 0
            for i in current.indices where current[i] > current[best] { best = i }
            current[best] -= total
            out.append(shards[best])
        }
        return out
    }

    /// Micro-batches drawn from each shard before round `r` (the samplers' state at its start).
    public func drawnBefore(round r: Int) -> [Int] { drawn(round: r, steps: 0) }

    /// Micro-batches drawn from each shard once every task of round `r` has done `steps` steps.
    public func drawn(round r: Int, steps: Int) -> [Int] {
        var drawn = [Int](repeating: 0, count: trainCounts.count)
        for rr in 0...r where rr < rounds {
            for t in tasks(round: rr) {
                for s in shardSequence(group: t.group, steps: rr < r ? t.steps : min(steps, t.steps)) { drawn[s] += 1 }
            }
        }
        return drawn
    }
}
