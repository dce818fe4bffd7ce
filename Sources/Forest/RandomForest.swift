import Dispatch
import Engine
import Foundation

/// A random forest of classification trees: each grown on a bootstrap sample with √features
/// candidates per split. Tree t is seeded from (seed, t) alone, so the same seed grows the same
/// forest whatever the thread count; predictions are the mean of the trees' leaf frequencies.
public struct RandomForest: Codable, Equatable, Sendable {
    public var classes: Int
    public var features: Int
    public var trees: [DecisionTree]

    public init(classes: Int, features: Int, trees: [DecisionTree]) {
        self.classes = classes
        self.features = features
        self.trees = trees
    }

    /// Grows `count` trees on `data`. `bootstrap` false: every tree sees every row once (tests).
    public static func grow(_ data: PixelSamples, trees count: Int, options: TreeOptions, seed: UInt64,
                            bootstrap: Bool = true) -> RandomForest {
        precondition(data.count > 0 && count > 0)
        var trees = [DecisionTree?](repeating: nil, count: count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: count) { t in
            var rng = SplitMix64(seed: treeSeed(seed, t))
            let n = data.count
            let rows = bootstrap ? (0..<n).map { _ in Int(rng.next() % UInt64(n)) } : Array(0..<n)
            let tree = DecisionTree.grow(data, rows: rows, options: options, rng: &rng)
            lock.lock(); trees[t] = tree; lock.unlock()
        }
        return RandomForest(classes: data.classes, features: data.features, trees: trees.map { $0! })
    }

    /// The seed of tree `t` of a forest seeded `seed`.
    public static func treeSeed(_ seed: UInt64, _ t: Int) -> UInt64 { CounterRandom.key(seed, UInt64(t)) }

    /// Class probabilities of row `x` (F values) into `out` (K).
    public func probabilities(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        out.initialize(repeating: 0, count: classes)
        for t in trees { t.accumulate(x, into: out) }
        let inv = 1 / Float(max(trees.count, 1))
        for k in 0..<classes { out[k] *= inv }
    }

    public func probabilities(_ x: [Float]) -> [Float] {
        precondition(x.count == features, "\(x.count) values for \(features) features")
        var out = [Float](repeating: 0, count: classes)
        x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { probabilities(xp.baseAddress!, into: $0.baseAddress!) } }
        return out
    }

    /// The most probable class of row `x` (ties: the lowest class).
    public func predict(_ x: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>) -> Int {
        probabilities(x, into: scratch)
        var best = 0
        for k in 1..<max(classes, 1) where scratch[k] > scratch[best] { best = k }
        return best
    }

    public func predict(_ x: [Float]) -> Int {
        let p = probabilities(x)
        var best = 0
        for k in p.indices where p[k] > p[best] { best = k }
        return best
    }

    // MARK: - Leaf refit

    /// Per tree, the offset of its leaves' counts in a flat leaves × K array (and the total length).
    public var leafCountOffsets: (offsets: [Int], count: Int) {
        var o: [Int] = [], n = 0
        for t in trees { o.append(n); n += t.leafCount * classes }
        return (o, n)
    }

    /// Adds each row's class to the count of the leaf it reaches in every tree (layout: `leafCountOffsets`).
    public func countLeaves(_ data: PixelSamples, into counts: inout [Int64]) {
        precondition(data.features == features && data.classes == classes)
        let offsets = leafCountOffsets.offsets
        data.x.withUnsafeBufferPointer { x in
            for i in 0..<data.count {
                let row = x.baseAddress! + i * features, c = Int(data.y[i])
                for (t, tree) in trees.enumerated() { counts[offsets[t] + tree.leaf(row) * classes + c] += 1 }
            }
        }
    }

    /// The same trees with each leaf's frequencies taken from `counts`; a leaf no row reached keeps its own.
    public func refitted(_ counts: [Int64]) -> RandomForest {
        let (offsets, n) = leafCountOffsets
        precondition(counts.count == n)
        var out = self
        for t in trees.indices {
            for leaf in 0..<trees[t].leafCount {
                let base = offsets[t] + leaf * classes
                let total = (0..<classes).reduce(Int64(0)) { $0 + counts[base + $1] }
                guard total > 0 else { continue }
                for k in 0..<classes { out.trees[t].distributions[leaf * classes + k] = Float(Double(counts[base + k]) / Double(total)) }
            }
        }
        return out
    }

    // MARK: - JSON

    public func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return try e.encode(self)
    }

    /// Decodes and checks a forest; `source` names it in errors.
    public init(json: Data, source: String) throws {
        let f: RandomForest
        do { f = try JSONDecoder().decode(RandomForest.self, from: json) } catch {
            throw ForestError("\(source): not a random forest: \(error)")
        }
        guard f.classes > 0, f.features > 0 else { throw ForestError("\(source): \(f.classes) classes, \(f.features) features") }
        for (i, t) in f.trees.enumerated() {
            if t.classes != f.classes { throw ForestError("\(source): tree \(i) has \(t.classes) classes, the forest \(f.classes)") }
            if let p = t.problem(features: f.features) { throw ForestError("\(source): tree \(i) \(p)") }
        }
        self = f
    }
}

public struct ForestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
