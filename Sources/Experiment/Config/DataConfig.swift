import DataIO
import Engine
import Foundation
import Settings

/// The `data` section: where the shards are, who owns them, and how samples are cut.
public struct DataConfig: Sendable {
    public enum Kind: String, Sendable {
        /// GeoTIFF tile repositories (docs/data.md).
        case tiles
        /// So2Sat LCZ42-layout HDF5 files (sen1, sen2, label).
        case so2sat
        /// Scene chips, one folder per class (EuroSAT-like).
        case chips
    }

    public struct Shard: Sendable, Equatable {
        /// The repository directory or HDF5 file (absolute, or relative to the working directory);
        /// `{host}` and `{rank}` stand for the owning rank's host name and rank (a local disk's
        /// path on each host: "/scratch/{host}/tiles").
        public var path: String
        /// A short name for logs (default: the path's last component).
        public var name: String
        /// Owning ranks; nil: `hosts` or the default placement.
        public var ranks: [Int]?
        /// Owning hosts (every rank on them owns the shard); nil: `ranks` or the default.
        public var hosts: [String]?
        /// So2Sat: the rows of the file that form this shard; nil: all.
        public var rows: Range<Int>?

        public init(path: String, name: String, ranks: [Int]? = nil, hosts: [String]? = nil, rows: Range<Int>? = nil) {
            (self.path, self.name, self.ranks, self.hosts, self.rows) = (path, name, ranks, hosts, rows)
        }

        /// `path` as the rank `rank` on host `host` sees it.
        public func path(host: String, rank: Int) -> String {
            path.replacingOccurrences(of: "{host}", with: host).replacingOccurrences(of: "{rank}", with: String(rank))
        }
    }

    public enum NormalizationMode: Sendable, Equatable {
        /// Per-band mean/std computed from the training windows of every shard (all-reduced),
        /// written to `run_dir/normalization.json`.
        case statistics
        /// x / divisor (reflectance from Sentinel-2 / Landsat DN).
        case scale(divisor: Double)
        /// Statistics read from a JSON file written by an earlier run.
        case file(String)
        case none
    }

    public var kind: Kind
    public var shards: [Shard]
    public var tiles: TileOptions
    public var so2sat: So2SatDataset.Modality
    public var augment: Bool
    public var normalization: NormalizationMode
    /// Fraction of each shard's windows held out for validation (stable choice by window).
    public var validationFraction: Double
    /// Tiles: pixels kept between held-out and training windows (`validation_buffer`; training
    /// windows never share a pixel with held-out ones, whatever the buffer).
    public var validationBuffer: Int
    /// Loader threads per rank.
    public var workers: Int

    public init(_ section: ConfigReader) throws {
        var r = section
        kind = try r.choice("kind", default: .tiles)
        guard let list = try r.array("shards"), !list.isEmpty else {
            throw r.has("shards") ? r.error("shards", "must list at least one shard") : r.error("shards", "is missing")
        }
        shards = try list.map { item in
            if let p = item.value.string { return Shard(path: p, name: Self.name(p), ranks: nil, hosts: nil, rows: nil) }
            var s = try item.reader(orError: "must be a path or an object {\"path\": ...}")
            let path = try s.string("path")
            var shard = Shard(path: path, name: try s.string("name", default: Self.name(path)), ranks: nil, hosts: nil, rows: nil)
            if let ranks = try s.array("ranks") {
                let v = ranks.compactMap(\.value.int)
                guard v.count == ranks.count, !v.isEmpty, v.allSatisfy({ $0 >= 0 }) else {
                    throw s.error("ranks", "must be a non-empty list of rank numbers ≥ 0")
                }
                shard.ranks = v
            }
            if let hosts = try s.array("hosts") {
                let v = hosts.compactMap(\.value.string)
                guard v.count == hosts.count, !v.isEmpty else { throw s.error("hosts", "must be a non-empty list of host names") }
                shard.hosts = v
            }
            if shard.ranks != nil && shard.hosts != nil { throw s.error("hosts", "cannot be given together with 'ranks'") }
            if let rows = try s.array("rows") {
                let v = rows.compactMap(\.value.int)
                guard v.count == 2, v[0] >= 0, v[1] > v[0] else { throw s.error("rows", "must be [first, end) with 0 ≤ first < end") }
                shard.rows = v[0]..<v[1]
            }
            try s.rejectUnknown()
            return shard
        }
        let names = shards.map(\.name)
        if let dup = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
            throw r.error("shards", "has two shards named '\(dup)': give them distinct 'name's")
        }

        var t = TileOptions()
        if let bands = try r.array("bands") {
            t.bands = try bands.map { b in
                if let s = b.value.string { return .name(s) }
                if let n = b.value.int, n >= 1 { return .index(n) }
                throw b.error("must be a band name or a 1-based band number")
            }
        }
        if r.has("resolution") {
            let v = try r.double("resolution")
            guard v > 0 else { throw r.error("resolution", "must be > 0 (CRS units per pixel), got \(v)") }
            t.resolution = v
        } else { _ = try r.double("resolution", default: 0) }
        t.windowSize = try r.positive("window", default: 256)
        if r.has("stride") { t.stride = try r.positive("stride") } else { _ = try r.int("stride", default: 0) }
        t.labels = try r.choice("labels", default: TileOptions.LabelMode.proportions)
        if r.has("classes") { t.classCount = try r.positive("classes") } else { _ = try r.int("classes", default: 0) }
        t.readTarget = try r.bool("target", default: false)
        t.maxNodataFraction = try r.double("max_nodata_fraction", default: 0.5)
        guard (0...1).contains(t.maxNodataFraction) else {
            throw r.error("max_nodata_fraction", "must be between 0 and 1, got \(t.maxNodataFraction)")
        }
        t.maskAnyDate = try r.bool("mask_any_date", default: true)
        t.resampling = try r.choice("resampling", default: TileOptions.Resampling.bilinear)
        if r.has("block_cache_mb") { t.blockCacheBytes = try r.positive("block_cache_mb") << 20 } else { _ = try r.int("block_cache_mb", default: 0) }
        tiles = t
        so2sat = try r.choice("modality", default: So2SatDataset.Modality.both)
        augment = try r.bool("augment", default: false)
        validationFraction = try r.double("validation_fraction", default: 0.1)
        guard validationFraction >= 0, validationFraction < 1 else {
            throw r.error("validation_fraction", "must be in [0, 1), got \(validationFraction)")
        }
        validationBuffer = try r.int("validation_buffer", default: 0)
        guard validationBuffer >= 0 else { throw r.error("validation_buffer", "must be at least 0, got \(validationBuffer)") }
        workers = try r.positive("workers", default: 2)
        normalization = .statistics
        if var nr = try r.optionalObject("normalization") {
            let type = try nr.string("type")
            switch type {
            case "statistics": normalization = .statistics
            case "scale":
                let d = try nr.double("divisor")
                guard d > 0 else { throw nr.error("divisor", "must be > 0, got \(d)") }
                normalization = .scale(divisor: d)
            case "file": normalization = .file(try nr.string("path"))
            case "none": normalization = .none
            default: throw nr.error("type", "has unknown value '\(type)' (expected statistics, scale, file or none)")
            }
            try nr.rejectUnknown()
        }
        if kind != .tiles {
            for k in ["bands", "resolution", "window", "stride", "labels", "target", "max_nodata_fraction", "mask_any_date", "resampling", "block_cache_mb"]
            where r.has(k) {
                throw r.error(k, "applies to tile repositories only (data.kind is '\(kind.rawValue)')")
            }
        }
        if kind != .so2sat, r.has("modality") { throw r.error("modality", "applies to So2Sat HDF5 files only") }
        if kind != .so2sat, let s = shards.firstIndex(where: { $0.rows != nil }) {
            throw ConfigError(key: "data.shards[\(s)].rows", "applies to So2Sat HDF5 files only", context: r.context)
        }
        try r.rejectUnknown()
    }

    public static func name(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.pathExtension.isEmpty ? url.lastPathComponent : url.deletingPathExtension().lastPathComponent
    }
}
