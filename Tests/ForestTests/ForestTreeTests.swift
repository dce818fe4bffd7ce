import Engine
import Foundation
import XCTest
@testable import Forest

/// The random forest on small hand-made problems: separable classes, XOR, seeds, JSON.
final class ForestTreeTests: XCTestCase {
    /// Class 0 left of x₀ = 0.5, class 1 right of it (a gap 0.45…0.55); x₁ is noise.
    func separable(_ n: Int = 200) -> PixelSamples {
        var d = PixelSamples(features: 2, classes: 2)
        var g = SplitMix64(seed: 11)
        for i in 0..<n {
            let c = i % 2
            let x0 = c == 0 ? 0.45 * g.uniform() : 0.55 + 0.45 * g.uniform()
            d.append([x0, g.uniform()], label: Int32(c))
        }
        return d
    }

    /// The four XOR corners, each `repeats` times: no single split gains anything.
    func xor(repeats: Int = 5) -> PixelSamples {
        var d = PixelSamples(features: 2, classes: 2)
        for _ in 0..<repeats {
            for (a, b) in [(0, 0), (0, 1), (1, 0), (1, 1)] { d.append([Float(a), Float(b)], label: Int32(a ^ b)) }
        }
        return d
    }

    func accuracy(_ f: RandomForest, _ d: PixelSamples) -> Double {
        let hits = (0..<d.count).filter { f.predict(Array(d.x[$0 * d.features..<($0 + 1) * d.features])) == Int(d.y[$0]) }.count
        return Double(hits) / Double(d.count)
    }

    func testSeparableProblemIsFitAndGeneralises() {
        let d = separable()
        let f = RandomForest.grow(d, trees: 15, options: TreeOptions(), seed: 3)
        XCTAssertEqual(f.trees.count, 15)
        XCTAssertEqual(accuracy(f, d), 1, "training accuracy")
        XCTAssertEqual(f.predict([0.1, 0.5]), 0)
        XCTAssertEqual(f.predict([0.9, 0.5]), 1)
        let p = f.probabilities([0.05, 0.2])
        XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-5)
        XCTAssertGreaterThan(p[0], 0.9)
    }

    func testXORNeedsDepthTwo() {
        let d = xor()
        // One tree, every row, both features at each split: depth 1 cannot fit XOR, depth 2 can.
        for (depth, want) in [(1, false), (2, true)] {
            var g = SplitMix64(seed: 1)
            let t = DecisionTree.grow(d, rows: Array(0..<d.count), options: TreeOptions(maxDepth: depth, featuresPerSplit: 2), rng: &g)
            let f = RandomForest(classes: 2, features: 2, trees: [t])
            XCTAssertEqual(accuracy(f, d) == 1, want, "depth \(depth): accuracy \(accuracy(f, d))")
            XCTAssertNil(t.problem(features: 2))
        }
        // The forest (bootstrap, √2 → 1 candidate feature) fits it too.
        let f = RandomForest.grow(d, trees: 25, options: TreeOptions(), seed: 9)
        XCTAssertEqual(accuracy(f, d), 1)
    }

    func testSameSeedSameForest() {
        let d = separable(300)
        let a = RandomForest.grow(d, trees: 8, options: TreeOptions(maxDepth: 6), seed: 42)
        let b = RandomForest.grow(d, trees: 8, options: TreeOptions(maxDepth: 6), seed: 42)
        let c = RandomForest.grow(d, trees: 8, options: TreeOptions(maxDepth: 6), seed: 43)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }

    func testMinSamplesLeafAndDepthBoundTheTree() {
        let d = separable(400)
        var g = SplitMix64(seed: 2)
        // Labels noisy in x₁ so the tree keeps splitting: flip every 7th label.
        var noisy = d
        for i in stride(from: 0, to: noisy.count, by: 7) { noisy.y[i] = 1 - noisy.y[i] }
        let t = DecisionTree.grow(noisy, rows: Array(0..<noisy.count), options: TreeOptions(maxDepth: 4, minSamplesLeaf: 10), rng: &g)
        func depth(_ i: Int) -> Int { t.feature[i] < 0 ? 0 : 1 + max(depth(Int(t.left[i])), depth(Int(t.right[i]))) }
        XCTAssertLessThanOrEqual(depth(0), 4)
        XCTAssertGreaterThan(t.leafCount, 1)
        // Every leaf holds at least 10 rows: count rows per leaf.
        var perLeaf = [Int](repeating: 0, count: t.leafCount)
        noisy.x.withUnsafeBufferPointer { x in for i in 0..<noisy.count { perLeaf[t.leaf(x.baseAddress! + 2 * i)] += 1 } }
        XCTAssertGreaterThanOrEqual(perLeaf.min()!, 10, "\(perLeaf)")
    }

    func testJSONRoundTrip() throws {
        let d = separable()
        let f = RandomForest.grow(d, trees: 5, options: TreeOptions(maxDepth: 5), seed: 7)
        let back = try RandomForest(json: try f.json(), source: "test")
        XCTAssertEqual(back, f)
        XCTAssertEqual(back.probabilities([0.3, 0.7]), f.probabilities([0.3, 0.7]))
        // A child pointing outside the tree is refused, naming the tree and node.
        var bad = f
        let node = bad.trees[2].feature.firstIndex { $0 >= 0 }!
        bad.trees[2].right[node] = 999
        XCTAssertThrowsError(try RandomForest(json: try bad.json(), source: "bad.json")) {
            XCTAssertTrue("\($0)".contains("bad.json: tree 2 node \(node)"), "\($0)")
        }
    }

    /// Refitting on rows whose labels are swapped swaps the votes; the counts land in the
    /// leaf each row reaches, and a leaf's frequencies sum to 1.
    func testLeafRefitTakesFrequenciesFromTheCounts() {
        let d = separable()
        let f = RandomForest.grow(d, trees: 6, options: TreeOptions(maxDepth: 4), seed: 5)
        var swapped = d
        swapped.y = d.y.map { 1 - $0 }
        var counts = [Int64](repeating: 0, count: f.leafCountOffsets.count)
        f.countLeaves(swapped, into: &counts)
        XCTAssertEqual(counts.reduce(0, +), Int64(d.count * f.trees.count))
        let g = f.refitted(counts)
        XCTAssertEqual(g.trees.map(\.feature), f.trees.map(\.feature), "the structure stays")
        XCTAssertEqual(g.predict([0.1, 0.5]), 1)
        XCTAssertEqual(g.predict([0.9, 0.5]), 0)
        XCTAssertEqual(g.probabilities([0.2, 0.3]).reduce(0, +), 1, accuracy: 1e-5)
        // Counting the original rows gives back the growth frequencies when there is no bootstrap.
        let h = RandomForest.grow(d, trees: 2, options: TreeOptions(maxDepth: 3), seed: 5, bootstrap: false)
        var own = [Int64](repeating: 0, count: h.leafCountOffsets.count)
        h.countLeaves(d, into: &own)
        XCTAssertEqual(h.refitted(own), h)
    }

    func testTreesApportionedByPixels() {
        XCTAssertEqual(Baseline.apportion(trees: 10, pixels: [300, 100]), [8, 2])
        XCTAssertEqual(Baseline.apportion(trees: 10, pixels: [100, 100, 100]), [4, 3, 3])
        // A shard with very few pixels still grows one tree.
        XCTAssertEqual(Baseline.apportion(trees: 4, pixels: [1000, 1]), [4, 1])
    }
}
