/// What `rstrain synth` writes.
public enum SynthPreset: String, CaseIterable, Sendable {
    /// Tile repositories of Sentinel-2 L2A-like band files: 10 m and 20 m bands at their own
    /// resolutions, a 10 m label.
    case sentinel2
    /// Tile repositories of Landsat 8/9 C2 L2-like 30 m six-band images, with a CORINE-like
    /// 100 m label in ETRS89-LAEA (EPSG:3035).
    case landsat
    /// HDF5 files in the So2Sat LCZ42 layout (`sen1`, `sen2`, `label`), one per shard.
    case so2sat

    /// Tiles per shard (patches per file for so2sat) when not given.
    public var defaultTilesPerShard: Int { self == .so2sat ? 256 : 4 }

    /// Tile edge in pixels of the finest grid when not given (so2sat patches are always 32).
    public var defaultSize: Int { self == .so2sat ? 32 : 512 }
}

/// A bad `rstrain synth` setting, in the user's words.
public struct SynthOptionError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Settings of one `rstrain synth` run.
public struct SynthOptions: Sendable {
    public var preset: SynthPreset
    /// Directory the shards go in (created if missing).
    public var outDir: String
    public var shards: Int
    /// Tiles per shard, or patches per file for so2sat.
    public var tilesPerShard: Int
    /// Tile edge in pixels (10 m pixels for sentinel2, 30 m for landsat).
    public var size: Int
    /// Acquisition dates per tile; more than one writes a YYYY-MM-DD folder per date.
    public var dates: Int
    public var seed: UInt64
    /// Flag opaque cloud as NODATA instead of leaving it bright.
    public var cloudsAsNoData: Bool
    /// Replace shards of the same name already in `outDir`.
    public var overwrite: Bool

    public init(preset: SynthPreset, outDir: String, shards: Int, tilesPerShard: Int? = nil, size: Int? = nil,
                dates: Int = 1, seed: UInt64 = 0, cloudsAsNoData: Bool = false, overwrite: Bool = false) {
        self.preset = preset
        self.outDir = outDir
        self.shards = shards
        self.tilesPerShard = tilesPerShard ?? preset.defaultTilesPerShard
        self.size = size ?? preset.defaultSize
        self.dates = dates
        self.seed = seed
        self.cloudsAsNoData = cloudsAsNoData
        self.overwrite = overwrite
    }

    /// Largest values accepted (a real Sentinel-2 tile is 10980 px; a Landsat scene about 8000).
    static let maxShards = 1000
    static let maxDates = 73

    /// Throws `SynthOptionError` naming the first bad setting.
    public func validate() throws {
        guard !outDir.isEmpty else { throw SynthOptionError("--out needs a directory") }
        guard (1...Self.maxShards).contains(shards) else {
            throw SynthOptionError("--shards must be between 1 and \(Self.maxShards), got \(shards)")
        }
        switch preset {
        case .so2sat:
            guard (1...1_000_000).contains(tilesPerShard) else {
                throw SynthOptionError("--tiles-per-shard (patches per so2sat file) must be between 1 and 1000000, got \(tilesPerShard)")
            }
            guard size == 32 else { throw SynthOptionError("so2sat patches are 32×32 pixels: --size must be 32 or left out, got \(size)") }
            guard dates == 1 else { throw SynthOptionError("so2sat patches have one date: --dates must be 1 or left out, got \(dates)") }
            guard !cloudsAsNoData else { throw SynthOptionError("--cloud-nodata applies to the sentinel2 and landsat presets, not so2sat") }
        case .sentinel2, .landsat:
            guard (1...10_000).contains(tilesPerShard) else {
                throw SynthOptionError("--tiles-per-shard must be between 1 and 10000, got \(tilesPerShard)")
            }
            let maxSize = preset == .sentinel2 ? 10980 : 8000
            guard (32...maxSize).contains(size) else {
                throw SynthOptionError("--size must be between 32 and \(maxSize) pixels for \(preset.rawValue), got \(size)")
            }
            if preset == .sentinel2, size % 2 != 0 {
                throw SynthOptionError("--size must be even for sentinel2 (the 20 m bands are half the 10 m size), got \(size)")
            }
            guard (1...Self.maxDates).contains(dates) else {
                throw SynthOptionError("--dates must be between 1 and \(Self.maxDates), got \(dates)")
            }
        }
    }

    /// Name of shard `i` (a directory, or the HDF5 file's stem for so2sat).
    public func shardName(_ i: Int) -> String {
        let digits = max(3, String(shards - 1).count)
        let n = String(i)
        return "shard_" + String(repeating: "0", count: max(0, digits - n.count)) + n
    }

    /// Path of shard `i` in `outDir`.
    public func shardPath(_ i: Int) -> String {
        outDir + "/" + shardName(i) + (preset == .so2sat ? ".h5" : "")
    }
}
