import Engine

/// A classification tree in flat arrays (node 0 is the root), so it serialises to JSON as a
/// few number arrays. Internal node i sends x to `left[i]` when x[feature[i]] ≤ threshold[i],
/// else to `right[i]`. A leaf has feature −1, and its `left` is its row in `distributions`
/// (leaves × classes: the class frequencies of the training samples that reached it).
public struct DecisionTree: Codable, Equatable, Sendable {
    public var classes: Int
    public var feature: [Int32] = []
    public var threshold: [Float] = []
    public var left: [Int32] = []
    public var right: [Int32] = []
    public var distributions: [Float] = []

    public var nodeCount: Int { feature.count }
    public var leafCount: Int { classes > 0 ? distributions.count / classes : 0 }

    /// The leaf row `x` (F features) falls into.
    @inline(__always)
    public func leaf(_ x: UnsafePointer<Float>) -> Int {
        var i = 0
        while feature[i] >= 0 { i = Int(x[Int(feature[i])] <= threshold[i] ? left[i] : right[i]) }
        return Int(left[i])
    }

    /// Adds the class frequencies of `x`'s leaf to `out` (K).
    @inline(__always)
    public func accumulate(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let base = leaf(x) * classes
        for k in 0..<classes { out[k] += distributions[base + k] }
    }

    /// Checks the arrays describe a tree (after decoding a file): lengths agree, children and
    /// leaf rows are in range, features below `features`. Returns what is wrong, or nil.
    public func problem(features: Int) -> String? {
        let n = feature.count
        guard n > 0 else { return "has no nodes" }
        guard threshold.count == n, left.count == n, right.count == n else { return "has arrays of different lengths" }
        guard classes > 0, distributions.count % classes == 0 else { return "has \(distributions.count) leaf values for \(classes) classes" }
        for i in 0..<n {
            if feature[i] < 0 {
                guard left[i] >= 0, Int(left[i]) < leafCount else { return "node \(i): leaf row \(left[i]) out of range" }
            } else {
                guard Int(feature[i]) < features else { return "node \(i): feature \(feature[i]) of \(features)" }
                // Children come after their parent (pre-order), so a walk always ends.
                guard left[i] > i, right[i] > i, Int(left[i]) < n, Int(right[i]) < n else { return "node \(i): children out of range" }
            }
        }
        return nil
    }
}

/// How trees grow: CART with Gini impurity.
public struct TreeOptions: Codable, Equatable, Sendable {
    public var maxDepth: Int
    public var minSamplesLeaf: Int
    /// Candidate features per split (0: √features, at least 1).
    public var featuresPerSplit: Int

    public init(maxDepth: Int = 16, minSamplesLeaf: Int = 1, featuresPerSplit: Int = 0) {
        self.maxDepth = maxDepth
        self.minSamplesLeaf = minSamplesLeaf
        self.featuresPerSplit = featuresPerSplit
    }

    public func candidates(features f: Int) -> Int {
        featuresPerSplit > 0 ? min(featuresPerSplit, f) : max(1, Int(Double(f).squareRoot()))
    }
}

/// Training samples for trees: n rows of `features` values (row-major) and a class in 0..<classes each.
public struct PixelSamples: Sendable, Equatable {
    public var features: Int
    public var classes: Int
    public var x: [Float] = []
    public var y: [Int32] = []
    public var count: Int { y.count }

    public init(features: Int, classes: Int) {
        self.features = features
        self.classes = classes
    }

    public mutating func append(_ row: UnsafePointer<Float>, label: Int32) {
        x.append(contentsOf: UnsafeBufferPointer(start: row, count: features))
        y.append(label)
    }
}

extension DecisionTree {
    /// Grows a tree on the samples `rows` (indices into `data`, repeats allowed: a bootstrap),
    /// drawing candidate features from `rng`. At each node the candidates are the first
    /// `featuresPerSplit` of a fresh shuffle of all features, continuing down the shuffle while
    /// none of them can split (all constant), as CART implementations do. An impure node splits
    /// on the best candidate even when the Gini gain is 0 (XOR's root has no gain).
    public static func grow(_ data: PixelSamples, rows: [Int], options: TreeOptions, rng: inout SplitMix64) -> DecisionTree {
        precondition(!rows.isEmpty && data.classes > 0 && data.features > 0)
        var g = Grower(data: data, options: options, order: rows)
        g.build(0, rows.count, depth: 0, rng: &rng)
        return g.tree
    }
}

/// The state of one tree's growth: `order` holds the node's rows contiguously (partitioned in place).
private struct Grower {
    let data: PixelSamples
    let options: TreeOptions
    var order: [Int]
    var tree: DecisionTree
    let k: Int, f: Int
    // Scratch for a node's (value, class) pairs sorted by value.
    var pairs: [(Float, Int32)] = []
    var countsL: [Int], countsR: [Int]

    init(data: PixelSamples, options: TreeOptions, order: [Int]) {
        self.data = data
        self.options = options
        self.order = order
        k = data.classes
        f = data.features
        tree = DecisionTree(classes: k)
        countsL = [Int](repeating: 0, count: k)
        countsR = [Int](repeating: 0, count: k)
    }

    /// Builds the node for order[lo..<hi]; returns its index.
    @discardableResult
    mutating func build(_ lo: Int, _ hi: Int, depth: Int, rng: inout SplitMix64) -> Int {
        let node = tree.feature.count
        tree.feature.append(-1); tree.threshold.append(0); tree.left.append(0); tree.right.append(0)
        var counts = [Int](repeating: 0, count: k)
        for i in lo..<hi { counts[Int(data.y[order[i]])] += 1 }
        let n = hi - lo
        let pure = counts.contains(n)
        if !pure, depth < options.maxDepth, n >= 2 * options.minSamplesLeaf,
           let (feat, thr) = bestSplit(lo, hi, counts: counts, rng: &rng) {
            // Partition: rows with x ≤ thr first.
            var m = lo
            for i in lo..<hi where data.x[order[i] * f + feat] <= thr { order.swapAt(i, m); m += 1 }
            tree.feature[node] = Int32(feat)
            tree.threshold[node] = thr
            let l = build(lo, m, depth: depth + 1, rng: &rng)
            let r = build(m, hi, depth: depth + 1, rng: &rng)
            tree.left[node] = Int32(l)
            tree.right[node] = Int32(r)
            return node
        }
        tree.left[node] = Int32(tree.leafCount)
        // Rounded from Double, as `RandomForest.refitted` does: the same counts give the same bits.
        tree.distributions.append(contentsOf: counts.map { Float(Double($0) / Double(n)) })
        return node
    }

    /// The best (feature, threshold) among the candidate features, or nil when no candidate
    /// has two distinct values with `minSamplesLeaf` rows on each side.
    mutating func bestSplit(_ lo: Int, _ hi: Int, counts: [Int], rng: inout SplitMix64) -> (Int, Float)? {
        var feats = Array(0..<f)
        feats.shuffle(using: &rng)
        let want = options.candidates(features: f)
        let n = hi - lo, minLeaf = max(options.minSamplesLeaf, 1)
        var best: (score: Double, feature: Int, threshold: Float)?
        for (tried, feat) in feats.enumerated() {
            if tried >= want, best != nil { break }
            pairs.removeAll(keepingCapacity: true)
            for i in lo..<hi { let r = order[i]; pairs.append((data.x[r * f + feat], data.y[r])) }
            pairs.sort { $0.0 < $1.0 }
            guard pairs[0].0 < pairs[n - 1].0 else { continue }
            // Σ counts² per side, updated as rows move left one at a time; the Gini impurity
            // weighted by size is n − ΣcL²/nL − ΣcR²/nR, so the best split maximises the sum.
            for c in 0..<k { countsL[c] = 0; countsR[c] = counts[c] }
            var sqL = 0.0, sqR = Double(counts.reduce(0) { $0 + $1 * $1 })
            for i in 0..<(n - 1) {
                let c = Int(pairs[i].1)
                sqL += Double(2 * countsL[c] + 1); countsL[c] += 1
                sqR -= Double(2 * countsR[c] - 1); countsR[c] -= 1
                let nl = i + 1
                guard nl >= minLeaf, n - nl >= minLeaf, pairs[i].0 < pairs[i + 1].0 else { continue }
                let score = sqL / Double(nl) + sqR / Double(n - nl)
                if best == nil || score > best!.score {
                    let a = pairs[i].0, b = pairs[i + 1].0
                    // The midpoint, unless rounding puts it on b (then a: still ≤ a goes left).
                    var t = a + (b - a) / 2
                    if !(t < b) || !(t >= a) { t = a }
                    best = (score, feat, t)
                }
            }
        }
        return best.map { ($0.feature, $0.threshold) }
    }
}
