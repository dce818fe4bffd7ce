import Engine
import Foundation

/// Background prefetch of batches for one epoch: worker threads read batches ahead of the
/// consumer into a bounded window of ready batches, so training does not wait on I/O.
///
/// - Order: sample order is a seeded shuffle of 0..<count, different each epoch (or 0..<count
///   unshuffled); batch b holds order[b·B ..< (b+1)·B] (the last one short unless `dropLast`).
///   A batch's content depends only on (seed, epoch, b) — never on the number of workers or
///   their timing — and batches come out in order. Or an explicit `plan`: each batch's indices
///   and the epoch its augmentation is keyed by, chosen by the caller (the trainer's samplers).
/// - Threads: `min(workers, dataset.maxReaders)` threads, each with its own reader (its own GDAL
///   handles for tile windows; HDF5 datasets allow one). Workers claim batches in order but
///   stay at most `prefetch` batches ahead of the consumer (bounded memory).
/// - Errors: a worker's error (a `DataError` naming the file) is thrown by `next()` when the
///   consumer reaches that batch; the loader then stops. Reader creation errors are thrown at
///   the first `next()`.
/// - Normalisation: `normalization` is applied by the workers, off the training thread.
/// - Shutdown: `close()` (also on deinit) stops the workers and waits for every thread to end.
public final class Loader {
    public var dataset: SampleDataset { state.dataset }
    /// Rows per batch buffer: B, or a plan's largest batch.
    public var batchSize: Int { state.capacity }
    public let seed: UInt64
    /// The epoch given to the ordinary init; with a plan, its first batch's (each batch has its own).
    public let epoch: Int
    public let workers: Int
    public var prefetch: Int { state.prefetch }
    /// Every batch in delivery order: its dataset indices and the epoch its reads are keyed by.
    public var plan: [PlannedBatch] { state.plan }
    /// The samples the batches hold, in delivery order (with `dropLast`, without the short tail).
    public var order: [Int] { state.plan.flatMap(\.indices) }
    public var batchCount: Int { state.plan.count }
    /// What the workers share; they hold it (not the loader), so dropping the loader closes it.
    private let state: State

    /// Worker threads alive in this process (for tests: a closed loader leaves none).
    public static var liveWorkers: Int { liveLock.lock(); defer { liveLock.unlock() }; return live }
    nonisolated(unsafe) fileprivate static var live = 0
    fileprivate static let liveLock = NSLock()

    public convenience init(_ dataset: SampleDataset, batchSize: Int, seed: UInt64 = 0, epoch: Int = 0, shuffle: Bool = true,
                            dropLast: Bool = false, workers: Int = 2, prefetch: Int = 4, normalization: Normalization = .identity) {
        precondition(batchSize > 0)
        let order = shuffle ? Self.shuffled(dataset.count, seed: seed, epoch: epoch) : Array(0..<dataset.count)
        let batches = dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
        let plan = (0..<batches).map { b in
            PlannedBatch(indices: Array(order[(b * batchSize)..<min((b + 1) * batchSize, order.count)]), epoch: epoch)
        }
        self.init(dataset, plan: plan, capacity: batchSize, seed: seed, epoch: epoch, workers: workers,
                  prefetch: prefetch, normalization: normalization)
    }

    /// Both public inits end here: `capacity` rows per batch buffer (≥ every planned batch).
    init(_ dataset: SampleDataset, plan: [PlannedBatch], capacity: Int, seed: UInt64, epoch: Int, workers: Int,
         prefetch: Int, normalization: Normalization) {
        precondition(capacity > 0 && workers > 0 && prefetch > 0)
        precondition(plan.allSatisfy { $0.indices.count <= capacity })
        self.seed = seed
        self.epoch = epoch
        self.workers = max(1, min(workers, dataset.maxReaders))
        state = State(dataset: dataset, plan: plan, capacity: capacity, prefetch: prefetch, workers: self.workers,
                      seed: seed, normalization: normalization)
        Self.liveLock.lock(); Self.live += self.workers; Self.liveLock.unlock()
        for w in 0..<self.workers {
            let st = state
            let t = Thread { st.work() }
            t.name = "rstrain-loader-\(w)"
            t.stackSize = 4 << 20
            t.start()
        }
    }

    deinit { state.close() }

    /// 0..<n in a seeded order, different each epoch, the same on every machine.
    public static func shuffled(_ n: Int, seed: UInt64, epoch: Int) -> [Int] {
        var v = Array(0..<n)
        var rng = SplitMix64(seed: CounterRandom.key(seed, UInt64(truncatingIfNeeded: epoch)))
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) { v.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        }
        return v
    }

    /// The sample indices of batch `b`.
    public func indices(ofBatch b: Int) -> [Int] { state.plan[b].indices }

    /// The next batch in order, waiting for it if need be; nil after the last. Hand a batch
    /// back with `recycle` when done with it to reuse its memory.
    public func next() throws -> SampleBatch? { try state.next() }

    /// Returns a batch the consumer no longer needs (its memory is reused).
    public func recycle(_ batch: SampleBatch) { state.recycle(batch) }

    /// Stops the workers and waits for them to end. Idempotent.
    public func close() { state.close() }

    private final class State: @unchecked Sendable {
        let dataset: SampleDataset
        let plan: [PlannedBatch]
        let capacity: Int
        let prefetch: Int
        let seed: UInt64
        let normalization: Normalization
        private let cond = NSCondition()
        private var nextClaim = 0
        private var delivered = 0
        private var ready: [Int: Result<SampleBatch, Error>] = [:]
        private var fatal: Error?
        private var stopped = false
        private var running: Int
        /// Batches the consumer has handed back for reuse.
        private var pool: [SampleBatch] = []
        var batchCount: Int { plan.count }

        init(dataset: SampleDataset, plan: [PlannedBatch], capacity: Int, prefetch: Int, workers: Int, seed: UInt64,
             normalization: Normalization) {
            self.dataset = dataset
            self.plan = plan
            self.capacity = capacity
            self.prefetch = prefetch
            self.seed = seed
            self.normalization = normalization
            running = workers
        }

        func next() throws -> SampleBatch? {
            cond.lock()
            defer { cond.unlock() }
            while true {
                if let e = fatal { throw e }
                if delivered >= batchCount { return nil }
                if let r = ready.removeValue(forKey: delivered) {
                    delivered += 1
                    cond.broadcast()
                    switch r {
                    case .success(let b): return b
                    case .failure(let e):
                        fatal = e
                        stopped = true
                        cond.broadcast()
                        throw e
                    }
                }
                cond.wait()
            }
        }

        func recycle(_ batch: SampleBatch) {
            cond.lock()
            if !stopped, pool.count < prefetch + 4, batch.capacity == capacity { pool.append(batch) }
            cond.unlock()
        }

        func close() {
            cond.lock()
            stopped = true
            cond.broadcast()
            while running > 0 { cond.wait() }
            ready.removeAll()
            pool.removeAll()
            cond.unlock()
        }

        func work() {
            defer {
                // Counted out before `close()` can return (it waits for `running` to reach 0).
                Loader.liveLock.lock(); Loader.live -= 1; Loader.liveLock.unlock()
                cond.lock()
                running -= 1
                cond.broadcast()
                cond.unlock()
            }
            let reader: SampleReader
            do { reader = try dataset.makeReader() } catch {
                cond.lock()
                if fatal == nil { fatal = error }
                cond.broadcast()
                cond.unlock()
                return
            }
            defer { dataset.recycle(reader) }
            while true {
                cond.lock()
                while !stopped && nextClaim < batchCount && nextClaim >= delivered + prefetch { cond.wait() }
                if stopped || nextClaim >= batchCount { cond.unlock(); return }
                let b = nextClaim
                nextClaim += 1
                let batch = pool.popLast() ?? SampleBatch(shapes: dataset.shapes, capacity: capacity)
                cond.unlock()

                let result: Result<SampleBatch, Error>
                do {
                    try reader.read(plan[b].indices, seed: seed, epoch: plan[b].epoch, into: batch)
                    normalization.apply(to: batch)
                    result = .success(batch)
                } catch {
                    result = .failure(error)
                }
                cond.lock()
                if !stopped { ready[b] = result }
                cond.broadcast()
                let failed = if case .failure = result { true } else { false }
                cond.unlock()
                if failed { return }   // later batches are not needed: the consumer stops at this one
            }
        }
    }
}
