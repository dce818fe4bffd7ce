/// What `rstrain eval --config` accumulates for one shard: the confusion matrix of the model's
/// arg-max class against the reference, and the soft-agreement sums. Counts are Int64 so that
/// ranks can add them with one exact all-reduce.
public struct ClassTally: Equatable {
    public let classes: Int
    /// K×K, row-major: confusion[r * K + p] = counted pixels of reference class r predicted p.
    public var confusion: [Int64]
    /// Σ_p t_{p, pred(p)} and Σ_p Σ_c t_{p,c} over counted pixels (proportions only).
    public var agreed = 0.0, mass = 0.0
    /// Counted pixels whose hard label is outside 0..<K (left out of the matrix).
    public var outside: Int64 = 0

    public init(classes k: Int) {
        precondition(k >= 1)
        classes = k
        confusion = [Int64](repeating: 0, count: k * k)
    }

    /// Soft accuracy Σ_p t_{p,pred(p)} / Σ_p Σ_c t_{p,c}; nil without proportions (or mass).
    public var softAccuracy: Double? { mass > 0 ? agreed / mass : nil }

    /// Adds `n` rows of logits (n×K×sp, channel-major per row) against their references: a pixel
    /// counts where mask > 0 (mask n×sp). The reference is the hard label (n×sp), or else the
    /// arg-max of the proportions (n×K×sp; none when all are 0), exactly as the trainer's
    /// accuracy picks it (first maximum wins), so the diagonal equals its `correct`.
    public mutating func add(logits out: UnsafePointer<Float>, rows n: Int, spatial sp: Int, mask: UnsafePointer<Float>,
                             hard: UnsafePointer<Int32>?, soft: UnsafePointer<Float>?) {
        let k = classes
        for i in 0..<n {
            for p in 0..<sp where mask[i * sp + p] > 0 {
                var pred = 0, v = -Float.infinity
                for c in 0..<k where out[(i * k + c) * sp + p] > v { v = out[(i * k + c) * sp + p]; pred = c }
                var truth = -1
                if let hard {
                    truth = Int(hard[i * sp + p])
                } else if let soft {
                    var best = -Float.infinity
                    for c in 0..<k {
                        let t = soft[(i * k + c) * sp + p]
                        mass += Double(t)
                        if t > best { best = t; truth = c }
                    }
                    agreed += Double(soft[(i * k + pred) * sp + p])
                    if best <= 0 { truth = -1 }
                }
                guard truth >= 0 else { continue }
                guard truth < k else { outside += 1; continue }
                confusion[truth * k + pred] += 1
            }
        }
    }

    /// The figures of the matrix.
    public var metrics: ClassificationMetrics { ClassificationMetrics(confusion: confusion.map { Int($0) }, classes: classes) }
}
