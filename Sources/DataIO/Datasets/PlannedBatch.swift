/// One planned batch: its dataset indices (in order) and the `epoch` value its augmentation is
/// keyed by. The trainer draws each micro-batch's indices from its own samplers and keys its
/// augmentation per micro-batch, so neither follows from one (seed, epoch) shuffle.
public struct PlannedBatch: Sendable, Equatable {
    public let indices: [Int]
    public let epoch: Int

    public init(indices: [Int], epoch: Int) {
        self.indices = indices
        self.epoch = epoch
    }
}

extension Loader {
    /// Reads `batches` in order (prefetched by `workers` threads), each via
    /// `reader.read(indices, seed: seed, epoch: batch.epoch, into:)`, normalised. Capacity = the
    /// largest batch (at least 1: a batch may be empty). Batch b's content depends only on
    /// (seed, plan[b]), never on the number of workers.
    public convenience init(_ dataset: SampleDataset, plan: [PlannedBatch], seed: UInt64, workers: Int = 2,
                            prefetch: Int = 4, normalization: Normalization = .identity) {
        let capacity = max(1, plan.map(\.indices.count).max() ?? 1)
        self.init(dataset, plan: plan, capacity: capacity, seed: seed, epoch: plan.first?.epoch ?? 0,
                  workers: workers, prefetch: prefetch, normalization: normalization)
    }
}
