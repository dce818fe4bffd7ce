import DataIO
import Distributed
import Engine
import Foundation
import Models

/// Loss and accuracy sums of some micro-batches: summed exactly like gradients.
public struct StepMetrics: Sendable, Equatable {
    public var lossSum = 0.0, weight = 0.0, correct = 0.0, counted = 0.0
    public var loss: Double { weight > 0 ? lossSum / weight : .nan }
    public var accuracy: Double { counted > 0 ? correct / counted : .nan }
    public static let count = 4

    public init(lossSum: Double = 0, weight: Double = 0, correct: Double = 0, counted: Double = 0) {
        (self.lossSum, self.weight, self.correct, self.counted) = (lossSum, weight, correct, counted)
    }
}

/// A model as one rank holds it: the built graph for one micro-batch, its executor (one flat
/// buffer of parameters, one of gradients), optimizer and feed. Every rank of the group that
/// trains the model holds an identical replica: same weights, same optimizer state.
public final class ModelReplica {
    public let index: Int
    public let config: ModelConfig
    public let model: Model
    public let executor: Executor
    public let optimizer: any Optimizer
    public let feed: Feed
    public let targets: FeedTargets
    /// Exact mode: the gradients (one bucket per parameter tensor), and the running state with
    /// the metrics (one bucket per tensor and per metric), each summed over the group.
    public let gradReducer: GradientReducer
    public let tailReducer: GradientReducer
    public let stateBefore: FloatBuffer
    public var parameters: ParameterStore { executor.parameters }

    /// `bucketBytes`: the size of each all-reduce message of the float gradients (the run
    /// config's `allreduce_bucket_mb`): the chunks after backward, the overlapped buckets; the
    /// exact reducer sends as many Int64 sums per message (twice the bytes).
    public init(index: Int, config: ModelConfig, feed: Feed, microBatch: Int, sample: SampleShapes, reduction: ReductionMode,
                bucketBytes: Int = RunConfig.defaultBucketBytes) throws {
        self.index = index
        bucketFloats = max(1, bucketBytes / 4)
        self.config = config
        self.feed = feed
        model = try config.model!.build(batch: microBatch * feed.rowsPerSample, input: feed.input)
        executor = try model.plan()
        optimizer = try config.makeOptimizer(count: executor.parameters.count)
        targets = FeedTargets(output: model.outputShape, sample: sample, task: model.task)
        let p = executor.parameters
        gradReducer = GradientReducer(mode: reduction, segments: reduction == .exact ? p.entries.map(\.count) : [], chunk: max(1, bucketBytes / 4))
        tailReducer = GradientReducer(mode: reduction, segments: p.stateEntries.map(\.count) + [Int](repeating: 1, count: StepMetrics.count))
        stateBefore = FloatBuffer(count: max(p.state.count, 1))
    }

    /// Seconds of the last step spent waiting for its reduction (fast mode: what the overlap
    /// with backward did not hide).
    public var lastCommSeconds: Double { tailReducer.mode == .fast ? fastCommSeconds : exactCommSeconds }
    public var fastCommSeconds = 0.0, exactCommSeconds = 0.0
    /// Overlap the fast all-reduce with backward (non-blocking collectives, config
    /// `overlap_allreduce`) instead of one chunked all-reduce after it. On one host through shared
    /// memory the non-blocking path costs more CPU than it hides (docs/config.md has the figures).
    public var overlapReduction = false
    public lazy var overlap = OverlappedSum(executor: executor, bucketFloats: bucketFloats)
    /// Floats per all-reduce message of the fast gradients.
    public let bucketFloats: Int

    /// Forward (and with `train`, backward) of one micro-batch; returns its metric sums.
    /// Gradients (of this micro-batch's mean loss) are left in the store's `grads`.
    public func run(_ batch: SampleBatch, train: Bool, seed: UInt64, zeroGradients: Bool = true,
             afterNode: ((Int) -> Void)? = nil) throws -> StepMetrics {
        let ex = executor, mode: Mode = train ? .training(seed: seed) : .inference
        feed.fill(batch, input: ex.value(model.input), targets: targets)
        ex.forward(mode: mode)
        let out = ex.value(model.output)
        let g = train ? ex.gradient(model.output) : nil
        var m = StepMetrics()
        let sum: LossSum
        let mask = targets.mask.tensor
        switch config.loss {
        case .mse: sum = try MeanSquaredError().computeSum(prediction: out, target: targets.regression!.tensor, mask: mask, gradient: g)
        case .l1: sum = try L1Loss().computeSum(prediction: out, target: targets.regression!.tensor, mask: mask, gradient: g)
        case .crossEntropy:
            let target: ClassTarget = targets.soft.map { .soft($0.tensor) } ?? .hard(targets.hard!.labels)
            sum = try SoftmaxCrossEntropy(classWeights: config.classWeights).computeSum(logits: out, target: target, mask: mask, gradient: g)
        case .binaryCrossEntropy:
            // Each class an independent yes/no against its share of the pixel or sample (the
            // setup refuses hard labels for it).
            sum = try BinaryCrossEntropy().computeSum(logits: out, target: targets.soft!.tensor, mask: mask, gradient: g)
        }
        if !config.loss.isRegression { (m.correct, m.counted) = accuracy(out) }
        m.lossSum = sum.sum
        m.weight = sum.weight
        if let g {
            // d(sum) → d(mean of this micro-batch).
            let k: Float = sum.weight > 0 ? Float(1 / sum.weight) : 0
            for i in 0..<g.count { g.data[i] *= k }
            if zeroGradients { ex.parameters.zeroGrads() }
            if let afterNode { ex.backward(mode: mode, afterNode: afterNode) } else { ex.backward(mode: mode) }
        }
        return m
    }

    /// Counted pixels whose arg-max class is the target's.
    private func accuracy(_ out: Tensor) -> (Double, Double) {
        let s = out.shape, n = s.batch, k = s.channels, sp = s.count / (n * k)
        var correct = 0, counted = 0
        let msk = targets.mask.data
        for i in 0..<n {
            for p in 0..<sp where msk[i * sp + p] > 0 {
                var truth = -1
                if let h = targets.hard { truth = Int(h.data[i * sp + p]) } else if let soft = targets.soft {
                    var best = -Float.infinity
                    for c in 0..<k where soft.data[(i * k + c) * sp + p] > best { best = soft.data[(i * k + c) * sp + p]; truth = c }
                    if best <= 0 { truth = -1 }
                }
                guard truth >= 0 else { continue }
                var pred = 0, v = -Float.infinity
                for c in 0..<k where out.data[(i * k + c) * sp + p] > v { v = out.data[(i * k + c) * sp + p]; pred = c }
                counted += 1
                if pred == truth { correct += 1 }
            }
        }
        return (Double(correct), Double(counted))
    }

    /// One optimizer step from `total` micro-batches spread over `comm`'s ranks, `mine` of them
    /// here (with their dropout seeds). Batch-norm running statistics become the mean of what
    /// each micro-batch would have made of the statistics before the step (so they, too, do not
    /// depend on where the micro-batches ran). Returns the step's summed metrics, or nil if a
    /// loss or gradient was not finite anywhere (nothing is then changed).
    public func step(_ mine: [(batch: SampleBatch, seed: UInt64)], total: Int, comm: Communicator?) throws -> StepMetrics? {
        if tailReducer.mode == .fast { return try fastStep(mine, total: total, comm: comm) }
        let p = executor.parameters, ns = p.state.count
        if ns > 0 { stateBefore.base.update(from: p.state.base, count: ns) }
        var tail = [Float](repeating: 0, count: ns + StepMetrics.count)
        for (j, (batch, seed)) in mine.enumerated() {
            if ns > 0 { p.state.base.update(from: stateBefore.base, count: ns) }
            let m = try run(batch, train: true, seed: seed)
            // The last micro-batch's gradients are lent, not copied: the sum is written over them.
            if j == mine.count - 1 { gradReducer.add(borrowing: p.grads.buffer) } else { gradReducer.add(UnsafeBufferPointer(p.grads.buffer)) }
            for i in 0..<ns { tail[i] = p.state.base[i] }
            tail[ns] = Float(m.lossSum); tail[ns + 1] = Float(m.weight); tail[ns + 2] = Float(m.correct); tail[ns + 3] = Float(m.counted)
            tail.withUnsafeBufferPointer { tailReducer.add($0) }
        }
        let okGrads = try gradReducer.reduce(over: comm, totalTerms: total, scale: 1 / Float(total), into: p.grads.buffer)
        let okTail = try tail.withUnsafeMutableBufferPointer { try tailReducer.reduce(over: comm, totalTerms: total, scale: 1 / Float(total), into: $0) }
        exactCommSeconds = gradReducer.lastCommSeconds + tailReducer.lastCommSeconds
        if ns > 0 { p.state.base.update(from: stateBefore.base, count: ns) }
        guard okGrads, okTail else { return nil }
        let scale = Double(total)
        let metrics = StepMetrics(lossSum: Double(tail[ns]) * scale, weight: Double(tail[ns + 1]) * scale,
                                  correct: (Double(tail[ns + 2]) * scale).rounded(), counted: (Double(tail[ns + 3]) * scale).rounded())
        if ns > 0 { p.state.base.update(from: tail, count: ns) }
        try optimizer.update(p, schedule: config.schedule)
        return metrics
    }

    /// Fast mode: local micro-batches accumulate into the gradient buffer itself, which is then
    /// all-reduced in place (in chunks, or bucket by bucket during the last local backward with
    /// `overlapReduction`); the running statistics and metrics follow in one small all-reduce;
    /// 1/total is folded into the optimizer's pass. Deterministic for a given number of ranks and
    /// placement.
    public func fastStep(_ mine: [(batch: SampleBatch, seed: UInt64)], total: Int, comm: Communicator?) throws -> StepMetrics? {
        let p = executor.parameters, ns = p.state.count
        let shared = comm.map { $0.size > 1 } ?? false
        if ns > 0 { stateBefore.base.update(from: p.state.base, count: ns) }
        // tail: Σ running state after each micro-batch | loss sum, weight, correct, counted.
        var tail = [Float](repeating: 0, count: ns + StepMetrics.count)
        p.zeroGrads()
        overlap.begin()
        for (j, (batch, seed)) in mine.enumerated() {
            if ns > 0 { p.state.base.update(from: stateBefore.base, count: ns) }
            let hook: ((Int) -> Void)? = shared && overlapReduction && j == mine.count - 1 ? { [overlap] k in try? overlap.nodeDone(k, grads: p.grads, comm: comm!) } : nil
            let m = try run(batch, train: true, seed: seed, zeroGradients: false, afterNode: hook)
            for i in 0..<ns { tail[i] += p.state.base[i] }
            tail[ns] += Float(m.lossSum); tail[ns + 1] += Float(m.weight); tail[ns + 2] += Float(m.correct); tail[ns + 3] += Float(m.counted)
        }
        if ns > 0 { p.state.base.update(from: stateBefore.base, count: ns) }
        if shared, let comm {
            let t1 = Date().timeIntervalSince1970
            if overlapReduction {
                try overlap.finish(grads: p.grads, comm: comm)
            } else {
                // In place, in buckets: one huge message is slower through shared memory, many
                // small ones pay the network's latency each (docs/scaling.md).
                for lo in stride(from: 0, to: p.count, by: bucketFloats) {
                    try comm.allreduce(UnsafeMutableBufferPointer(start: p.grads.base + lo, count: min(bucketFloats, p.count - lo)), op: .sum)
                }
            }
            try tail.withUnsafeMutableBufferPointer { try comm.allreduce($0, op: .sum) }
            fastCommSeconds = Date().timeIntervalSince1970 - t1
        } else {
            fastCommSeconds = 0
        }
        let metrics = StepMetrics(lossSum: Double(tail[ns]), weight: Double(tail[ns + 1]), correct: Double(tail[ns + 2]).rounded(),
                                  counted: Double(tail[ns + 3]).rounded())
        guard metrics.lossSum.isFinite, metrics.weight.isFinite else { return nil }
        for i in 0..<ns { p.state.base[i] = tail[i] / Float(total) }
        try optimizer.update(p, schedule: config.schedule, gradScale: 1 / Float(total))
        return metrics
    }

    /// Metric sums of validation micro-batches in inference mode (no change to the model).
    public func evaluate(_ batch: SampleBatch) throws -> StepMetrics { try run(batch, train: false, seed: 0) }

    // MARK: - The state that travels (weights, running statistics, optimizer)

    /// Floats in `pack()`: parameters, running state, then each optimizer state tensor.
    public var packedCount: Int {
        let p = executor.parameters
        return p.count + p.state.count + optimizer.stateTensors.reduce(0) { $0 + $1.data.count }
    }

    public func pack(into out: UnsafeMutableBufferPointer<Float>) -> Int {
        let p = executor.parameters
        var o = out.baseAddress!
        o.update(from: p.values.base, count: p.count); o += p.count
        o.update(from: p.state.base, count: p.state.count); o += p.state.count
        for t in optimizer.stateTensors { o.update(from: t.data.baseAddress!, count: t.data.count); o += t.data.count }
        return optimizer.step
    }

    public func unpack(_ src: UnsafeBufferPointer<Float>, step: Int) {
        let p = executor.parameters
        var s = src.baseAddress!
        p.values.base.update(from: s, count: p.count); s += p.count
        p.state.base.update(from: s, count: p.state.count); s += p.state.count
        for t in optimizer.stateTensors { t.data.baseAddress!.update(from: s, count: t.data.count); s += t.data.count }
        optimizer.step = step
    }
}
