import DataIO
import Engine

/// A shard's sampler: its training windows in a seeded order, a new order each pass, cut into
/// fixed-size micro-batches. Its whole state is `drawn`, the number of micro-batches taken so far,
/// so a checkpoint saves one integer per shard and any rank can rebuild the sampler.
/// Micro-batch q holds the q·size…(q+1)·size−1-th draws of the endless sequence
/// pass 0's order, pass 1's order, …; its augmentation is keyed by q.
public final class ShardSampler {
    /// Dataset indices of the training windows (the shard's windows minus the held-out ones).
    public let train: [Int]
    public let size: Int
    public let seed: UInt64

    public init(train: [Int], microBatch: Int, seed: UInt64) {
        precondition(!train.isEmpty && microBatch > 0)
        self.train = train
        size = microBatch
        self.seed = seed
    }

    /// The order of the last pass used (passes are long; micro-batches mostly fall in one).
    private var cached: (pass: Int, order: [Int]) = (-1, [])

    /// The dataset indices of micro-batch `q`.
    public func microBatch(_ q: Int) -> PlannedBatch {
        var out: [Int] = []
        out.reserveCapacity(size)
        var draw = q * size
        for _ in 0..<size {
            let p = draw / train.count
            if p != cached.pass { cached = (p, Loader.shuffled(train.count, seed: seed, epoch: p)) }
            let order = cached.order
            out.append(train[order[draw % train.count]])
            draw += 1
        }
        return PlannedBatch(indices: out, epoch: q)
    }
}

/// Splits a shard's `count` windows into training and validation: window i is held out when its
/// stable hash (from the shard name and i) falls in the lowest `fraction`; at least one window
/// trains and, when `fraction` > 0, one is held out. The split depends on neither the seed nor the placement.
public func holdOut(count: Int, fraction: Double, shard: String) -> (train: [Int], validation: [Int]) {
    var train: [Int] = [], val: [Int] = []
    let cut = UInt64(fraction * Double(UInt64.max >> 11)) << 11
    let hash = { (i: Int) -> UInt64 in var g = SplitMix64(seed: stableHash(shard) &+ UInt64(i)); return g.next() }
    for i in 0..<count { if hash(i) < cut { val.append(i) } else { train.append(i) } }
    if train.isEmpty, let last = val.popLast() { train.append(last) }
    // A small shard still validates on one window (the one that hashes lowest).
    if val.isEmpty, fraction > 0, train.count > 1, let i = train.min(by: { hash($0) < hash($1) }) {
        train.removeAll { $0 == i }
        val.append(i)
    }
    return (train, val)
}
