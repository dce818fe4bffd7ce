import Distributed
import Engine

/// Sums metric terms (one per micro-batch) over a group like gradients: exactly in exact mode.
public enum MetricSum {
    public static func reduce(_ terms: [StepMetrics], total: Int, mode: ReductionMode, comm: Communicator?) throws -> StepMetrics {
        // No held-out windows in the group (validation_fraction 0): every rank of it knows.
        guard total > 0 else { return StepMetrics() }
        let r = GradientReducer(mode: mode == .exact ? .exact : .fast, segments: [1, 1, 1, 1])
        for t in terms {
            let v: [Float] = [Float(t.lossSum), Float(t.weight), Float(t.correct), Float(t.counted)]
            v.withUnsafeBufferPointer { r.add($0) }
        }
        var out = [Float](repeating: 0, count: 4)
        _ = try out.withUnsafeMutableBufferPointer { try r.reduce(over: comm, totalTerms: total, scale: 1, into: $0) }
        return StepMetrics(lossSum: Double(out[0]), weight: Double(out[1]), correct: Double(out[2]), counted: Double(out[3]))
    }
}
