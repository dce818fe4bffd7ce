import DataIO
import Engine
import Foundation
import Experiment

/// What `rstrain inspect` finds: the config checked, every shard opened and read once, and
/// every problem found — all of them, not just the first.
public struct Inspection {
    public struct ShardReport {
        public let name: String
        public let path: String
        public var lines: [String] = []
        /// Samples usable / before NODATA skipping.
        public var samples = 0, candidates = 0
        public var train = 0, validation = 0
        /// Class → share of the labelled area (or of the samples).
        public var classShares: [Double] = []
        /// Class names in class order, when the data names them.
        public var classNames: [String]?
        public var nodataFraction = 0.0
        public var shapes: String = ""
    }

    public var config: RunConfig?
    public var shards: [ShardReport] = []
    public var problems: [String] = []

    /// Checks `path` and every input it names (one process: it opens every shard it can see).
    public init(path: String) {
        do { config = try RunConfig(path: path) } catch {
            problems.append("\(error)")
            return
        }
        let cfg = config!
        var sample: (shapes: SampleShapes, scene: Bool)?
        for i in cfg.data.shards.indices {
            let s = cfg.data.shards[i]
            var r = ShardReport(name: s.name, path: s.path)
            do {
                let d = try ShardData(index: i, data: cfg.data)
                r.samples = d.dataset.count
                r.candidates = d.candidates
                r.shapes = d.dataset.shapes.summary
                if sample == nil { sample = (d.dataset.shapes, d.sceneLabels) }
                let split = d.split(cfg.data)
                (r.train, r.validation) = (split.train.count, split.validation.count)
                if let w = d.windows { r.lines += Self.describe(split, windows: w, grid: d.grid, buffer: cfg.data.validationBuffer) }
                if let g = d.grid {
                    for plan in g.plans {
                        let t = plan.tile
                        let crs = t.epsg.map { "EPSG:\($0)" } ?? "(no EPSG code)"
                        r.lines.append("tile \(t.name): \(t.grid.width)×\(t.grid.height) px at \(fmt(t.grid.resolution)) m, \(crs), \(t.bands.count) bands, \(t.dateCount) date\(t.dateCount == 1 ? "" : "s"), blocks \(t.blockWidth)×\(t.blockHeight)\(t.label == nil ? ", no label" : "")")
                        if let l = t.label, l.epsg != t.epsg || l.grid != t.grid {
                            let from = l.epsg.map { "EPSG:\($0)" } ?? "its own CRS"
                            let how = l.epsg != t.epsg ? "reprojected from \(from) at \(fmt(l.grid.resolution)) m" : "resampled from \(fmt(l.grid.resolution)) m"
                            r.lines.append("  label \((l.path as NSString).lastPathComponent): \(how) onto the image grid (\(crs))")
                        }
                    }
                    r.lines.append("bands: \(g.bandNames.joined(separator: ", "))")
                }
                r.classNames = d.classNames
                try histogram(d, into: &r)
            } catch {
                problems.append("shard \(s.name) (data.shards[\(i)]): \(error)")
            }
            shards.append(r)
        }
        let shapes = Set(shards.map(\.shapes).filter { !$0.isEmpty })
        if shapes.count > 1 {
            problems.append("the shards' samples differ: " + shards.map { "\($0.name): \($0.shapes)" }.joined(separator: "; "))
        }
        if let sample, shapes.count == 1 {
            for (i, m) in cfg.models.enumerated() {
                do {
                    _ = try Feed.choose(for: m, index: i, sample: sample.shapes, scene: sample.scene, file: cfg.file)
                } catch { problems.append("\(error)") }
            }
        }
    }

    /// Reads every sample once: the class shares of the valid pixels and the masked fraction.
    private mutating func histogram(_ d: ShardData, into r: inout ShardReport) throws {
        let shapes = d.dataset.shapes, k = shapes.classes
        var counts = [Double](repeating: 0, count: k)
        var valid = 0.0, total = 0.0
        let loader = Loader(d.dataset, batchSize: 16, shuffle: false, workers: 2)
        defer { loader.close() }
        while let b = try loader.next() {
            let hw = shapes.mask.count
            for i in 0..<b.count {
                let m = b.mask.data + i * hw
                for p in 0..<hw where m[p] != 0 { valid += 1 }
                total += Double(hw)
                if let soft = b.soft {
                    let per = shapes.soft!.count / k
                    for c in 0..<k {
                        let s = soft.data + (i * k + c) * per
                        for p in 0..<per where per == 1 || m[p] != 0 { counts[c] += Double(s[p]) }
                    }
                } else if let hard = b.hard {
                    let per = max(shapes.hard!.count, 1)
                    for p in 0..<per { let c = Int(hard.data[i * per + p]); if c >= 0 && c < k { counts[c] += 1 } }
                }
            }
            loader.recycle(b)
        }
        let sum = counts.reduce(0, +)
        r.classShares = counts.map { sum > 0 ? $0 / sum : 0 }
        r.nodataFraction = total > 0 ? 1 - valid / total : 0
        if sum == 0 { problems.append("shard \(r.name): no labelled pixels in any usable window") }
    }

    /// Where the held-out windows are and that no training window shares a pixel with them
    /// (counted again here, not taken from the split).
    static func describe(_ split: SpatialSplit, windows w: [WindowRef], grid: WindowGrid?, buffer: Int) -> [String] {
        guard !split.validation.isEmpty else { return ["held out: none (data.validation_fraction is 0)"] }
        let held = split.validation.map { w[$0] }
        let heldByTile = Dictionary(grouping: held, by: \.tile)
        var shared = 0
        for t in split.train { for v in heldByTile[w[t].tile] ?? [] where SpatialSplit.overlap(w[t], v, buffer: 0) { shared += 1 } }
        let names = grid?.plans.map(\.tile.name)
        let shown = held.prefix(6).map { "\(names?[$0.tile] ?? "tile \($0.tile)") (\($0.x), \($0.y))" }
        var out = ["held out: \(held.count) window\(held.count == 1 ? "" : "s") at " + shown.joined(separator: ", ") + (held.count > 6 ? ", …" : "")]
        if split.fellBack {
            out.append("held-out windows overlap training windows: the shard is too small to split in space (\(shared) overlapping pairs)")
        } else {
            out.append("training windows sharing a pixel with held-out ones: \(shared)" + (buffer > 0 ? " (buffer \(buffer) px)" : "")
                       + (split.dropped > 0 ? "; \(split.dropped) training window\(split.dropped == 1 ? "" : "s") left out for touching them" : ""))
        }
        return out
    }

    private func fmt(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.2f", v) }

    public var ok: Bool { problems.isEmpty }

    /// The report as text lines.
    public var text: [String] {
        var out: [String] = []
        if let c = config {
            let names = c.models.map(\.name) + c.forests.map { "\($0.name) (random forest)" }
            out.append("config \(c.file): mode \(c.mode.rawValue), reduction \(c.reduction.rawValue), \(names.count) model\(names.count == 1 ? "" : "s") (\(names.joined(separator: ", "))), micro-batch \(c.microBatch) × \(c.microBatches), \(c.epochs) epoch\(c.epochs == 1 ? "" : "s")")
        }
        for s in shards {
            out.append("shard \(s.name) (\(s.path))")
            out += s.lines.map { "  " + $0 }
            if !s.shapes.isEmpty {
                out.append("  samples: \(s.samples) usable of \(s.candidates) (\(s.train) train, \(s.validation) validation); \(s.shapes)")
                out.append("  NODATA: \(String(format: "%.1f", 100 * s.nodataFraction))% of the usable samples' pixels")
                let hist = s.classShares.enumerated().map { c, share in
                    let name = s.classNames.flatMap { c < $0.count ? " " + $0[c] : nil } ?? ""
                    return "\(c)\(name): \(String(format: "%.1f", 100 * share))%"
                }
                out.append("  classes: " + hist.joined(separator: ", "))
            }
        }
        if problems.isEmpty { out.append("no problems found") } else {
            out.append("\(problems.count) problem\(problems.count == 1 ? "" : "s"):")
            out += problems.map { "  - " + $0 }
        }
        return out
    }
}
