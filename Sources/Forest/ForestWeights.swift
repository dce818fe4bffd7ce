import DataIO
import Foundation
import Settings

/// A forest entry's end product, `run_dir/final/<name>.h5`: the root attributes of a neural
/// model's final weights (`rstrain_model`, `rstrain_data`, `rstrain_normalization`, JSON texts)
/// plus `rstrain_forest` (classes, features, patch, seed, per-shard pixels and trees) and the
/// trees as flat datasets under `forest/` — T trees, N nodes, L leaves, K classes:
///
///     forest/feature    N    split feature, −1 at a leaf
///     forest/threshold  N    x[feature] ≤ threshold goes left
///     forest/left       N    left child (tree-local node), or at a leaf its tree-local leaf row
///     forest/right      N    right child (tree-local node)
///     forest/tree_start T    each tree's first node
///     forest/leaf_start T    each tree's first leaf row
///     forest/leaf_counts L×K each leaf's class frequencies (what the tree votes)
///
/// `HDF5File` writes float32 datasets only, so the integer arrays are float32 holding exact
/// integers (writing refuses anything at or above 2²⁴).
public enum ForestWeights {
    public struct Contents {
        public var forest: RandomForest
        /// P of the patch features (1: pixel features).
        public var patch: Int
        /// The root string attributes, JSON texts.
        public var attributes: [String: String]
    }

    public static let exact = 1 << 24

    /// Writes atomically (temporary file, then rename), creating the directory if needed.
    public static func write(_ forest: RandomForest, patch: Int, info: [String: Any], attributes: [String: String], to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw DataError(path: dir, "cannot create the final weights directory: \(error.localizedDescription)")
        }
        var feature: [Float] = [], threshold: [Float] = [], left: [Float] = [], right: [Float] = []
        var treeStart: [Float] = [], leafStart: [Float] = [], leaves: [Float] = []
        var nodes = 0, rows = 0
        for t in forest.trees {
            treeStart.append(Float(nodes)); leafStart.append(Float(rows))
            feature += t.feature.map { Float($0) }
            threshold += t.threshold
            left += t.left.map { Float($0) }
            right += t.right.map { Float($0) }
            leaves += t.distributions
            nodes += t.nodeCount; rows += t.leafCount
        }
        guard nodes < exact, rows < exact, forest.features < exact else {
            throw DataError(path: path, "a forest of \(nodes) nodes, \(rows) leaves and \(forest.features) features does not fit float32 indices (< 2^24)")
        }
        var meta = info
        (meta["classes"], meta["features"], meta["patch"], meta["trees"]) = (forest.classes, forest.features, patch, forest.trees.count)
        var attrs = attributes
        attrs["rstrain_forest"] = String(decoding: try JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys]), as: UTF8.self)
        let k = forest.classes
        try HDF5File.writeAtomically(path) { f in
            for (name, v) in [("feature", feature), ("threshold", threshold), ("left", left), ("right", right)] {
                try f.writeDataset("forest/" + name, shape: [nodes], v)
            }
            try f.writeDataset("forest/tree_start", shape: [treeStart.count], treeStart)
            try f.writeDataset("forest/leaf_start", shape: [leafStart.count], leafStart)
            try f.writeDataset("forest/leaf_counts", shape: [rows, k], leaves, gzipLevel: 4)
            for (key, v) in attrs.sorted(by: { $0.key < $1.key }) { try f.setAttribute(key, v) }
        }
    }

    /// Whether `path` holds a forest (its `rstrain_model` arch is random_forest).
    public static func isForest(_ path: String) -> Bool {
        guard let f = try? HDF5File(path, mode: .readOnly) else { return false }
        defer { try? f.close() }
        guard let text = (try? f.stringAttribute("rstrain_model")) ?? nil,
              let o = JSONValue.foundationObject(Data(text.utf8)) else { return false }
        return o["arch"] as? String == "random_forest"
    }

    /// Reads and checks a forest file; errors name the file and dataset.
    public static func read(_ path: String) throws -> Contents {
        let f = try HDF5File(path, mode: .readOnly)
        defer { try? f.close() }
        var attrs: [String: String] = [:]
        for key in try f.attributeNames() { if let v = (try? f.stringAttribute(key)) ?? nil { attrs[key] = v } }
        guard let text = attrs["rstrain_forest"], let meta = JSONValue.foundationObject(Data(text.utf8)),
              let k = (meta["classes"] as? NSNumber)?.intValue, let nf = (meta["features"] as? NSNumber)?.intValue,
              let patch = (meta["patch"] as? NSNumber)?.intValue, k > 0, nf > 0, patch > 0 else {
            throw DataError(path: path, object: "attribute rstrain_forest", "missing or without classes, features and patch: not a forest written by rstrain")
        }
        func ints(_ name: String) throws -> [Int] {
            try f.readFloats("forest/" + name).map { v in
                guard v == v.rounded(), abs(v) < Float(exact) else { throw DataError(path: path, object: "dataset 'forest/\(name)'", "holds \(v), not an index") }
                return Int(v)
            }
        }
        let feature = try ints("feature"), left = try ints("left"), right = try ints("right")
        let threshold = try f.readFloats("forest/threshold"), treeStart = try ints("tree_start"), leafStart = try ints("leaf_start")
        let leaves = try f.readFloats("forest/leaf_counts")
        let n = feature.count, rows = leaves.count / k
        guard threshold.count == n, left.count == n, right.count == n, treeStart.count == leafStart.count, leaves.count == rows * k else {
            throw DataError(path: path, object: "group 'forest'", "datasets of inconsistent lengths")
        }
        var trees: [DecisionTree] = []
        for t in treeStart.indices {
            let a = treeStart[t], b = t + 1 < treeStart.count ? treeStart[t + 1] : n
            let la = leafStart[t], lb = t + 1 < leafStart.count ? leafStart[t + 1] : rows
            guard 0 <= a, a < b, b <= n, 0 <= la, la <= lb, lb <= rows else {
                throw DataError(path: path, object: "dataset 'forest/tree_start'", "tree \(t): nodes \(a)..<\(b) or leaves \(la)..<\(lb) out of range")
            }
            var tree = DecisionTree(classes: k)
            tree.feature = feature[a..<b].map { Int32($0) }
            tree.threshold = Array(threshold[a..<b])
            tree.left = left[a..<b].map { Int32($0) }
            tree.right = right[a..<b].map { Int32($0) }
            tree.distributions = Array(leaves[(la * k)..<(lb * k)])
            if let p = tree.problem(features: nf) { throw DataError(path: path, object: "group 'forest'", "tree \(t) \(p)") }
            trees.append(tree)
        }
        return Contents(forest: RandomForest(classes: k, features: nf, trees: trees), patch: patch, attributes: attrs)
    }
}
