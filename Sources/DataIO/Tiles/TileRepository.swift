import Foundation

/// The index of a tile repository (docs/data.md): every tile folder with its image bands,
/// dates, label and target rasters, read from the file headers (no pixels are read).
///
/// Tiles are sorted by folder name (bytewise), so the index — and every order built on it —
/// is the same on every run and every machine. A tile the layout does not allow (no image,
/// images that disagree on CRS or footprint, a label that does not overlap the image, a raster
/// without a CRS, a file GDAL cannot open) makes the whole index fail with a `DataError`
/// naming the file.
public struct TileRepository: Sendable {
    public let path: String
    /// shard.json (all keys nil when the file is absent).
    public let manifest: ShardManifest
    public let tiles: [Tile]

    public static let manifestName = "shard.json"
    static let labelName = "label.tif"
    /// File stems of a tile's label, regression target and all-band image; any raster extension.
    static let labelStem = "label", targetStem = "target", imageStem = "image"
    /// File names (lowercased, without extension) users give labels, refused rather than read as bands.
    static let labelLike: Set<String> = ["label", "labels", "target", "targets", "reference", "ground_truth", "groundtruth", "gt"]
    static let targetName = "target.tif"

    public init(path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DataError(path: path, "no such tile repository")
        }
        guard isDir.boolValue else { throw DataError(path: path, "is not a directory (a tile repository is one)") }
        self.path = path
        let mpath = path + "/" + Self.manifestName
        manifest = FileManager.default.fileExists(atPath: mpath) ? try ShardManifest.read(mpath) : ShardManifest()
        var tiles: [Tile] = []
        for name in try Self.list(path) where !name.hasPrefix(".") {
            let dir = path + "/" + name
            guard Self.isDirectory(dir) else { continue }
            tiles.append(try Self.indexTile(dir: dir, name: name, manifest: manifest))
        }
        guard !tiles.isEmpty else { throw DataError(path: path, "holds no tile folders") }
        self.tiles = tiles
    }

    public func tile(named name: String) -> Tile? { tiles.first { $0.name == name } }

    /// The class table for `tile`'s label: shard.json's `classes` (else values 0…`count`−1),
    /// with the label raster's NODATA and shard.json's `label_nodata` as NODATA.
    public func classTable(for tile: Tile, count: Int?) throws -> ClassTable {
        var nodata: [Double] = []
        if let v = manifest.labelNodata { nodata.append(v) }
        if let label = tile.label, let v = label.noData[0] { nodata.append(v) }
        if let c = manifest.classes, !c.isEmpty {
            if let count, count != c.count {
                throw DataError(path: path + "/" + Self.manifestName, object: "classes",
                                "lists \(c.count) classes but \(count) were asked for")
            }
            return ClassTable(values: c.map(\.value), names: c.map { $0.name ?? "class \(Int($0.value))" }, nodata: nodata)
        }
        guard let count, count > 0 else {
            throw DataError(path: path + "/" + Self.manifestName,
                            "has no class table (\"classes\"): give the number of classes (label values 0…K−1)")
        }
        return ClassTable(count: count, nodata: nodata)
    }

    // MARK: - Indexing one tile

    static func indexTile(dir: String, name: String, manifest: ShardManifest) throws -> Tile {
        let entries = try list(dir)
        let rasters = entries.filter { isRaster($0) && !isDirectory(dir + "/" + $0) }
        let dateDirs = entries.filter { isDate($0) && isDirectory(dir + "/" + $0) }
        let labelFile = try single(rasters, stem: labelStem, in: dir), targetFile = try single(rasters, stem: targetStem, in: dir)
        let imageFiles = rasters.filter { $0 != labelFile && $0 != targetFile }
        if let odd = imageFiles.first(where: { labelLike.contains(stem($0).lowercased()) }) {
            throw DataError(path: dir + "/" + odd, "looks like a label, but a tile's label must be named \(labelName) (or label.jp2, label.vrt: any raster GDAL reads; regression targets \(targetName)): rename it")
        }
        if !dateDirs.isEmpty && !imageFiles.isEmpty {
            throw DataError(path: dir, "has both image files (\(imageFiles.joined(separator: ", "))) and date folders (\(dateDirs.joined(separator: ", "))): a time series keeps each date's images in its folder")
        }
        var sets: [(dir: String, files: [String])] = []
        if dateDirs.isEmpty {
            guard !imageFiles.isEmpty else {
                throw DataError(path: dir, "holds no image (image.tif or one file per band) and no date folders")
            }
            sets = [(dir, imageFiles)]
        } else {
            for d in dateDirs {
                let ddir = dir + "/" + d
                let files = try list(ddir).filter { isRaster($0) && !isDirectory(ddir + "/" + $0) }
                guard !files.isEmpty else { throw DataError(path: ddir, "holds no image (image.tif or one file per band)") }
                sets.append((ddir, files))
            }
        }

        // Bands of each date, by name.
        var perDate: [[(name: String, source: BandSource, info: RasterInfo)]] = []
        for s in sets { perDate.append(try bands(in: s.dir, files: s.files, manifest: manifest)) }
        let names = perDate[0].map(\.name)
        for (k, d) in perDate.enumerated().dropFirst() where d.map(\.name) != names {
            throw DataError(path: sets[k].dir, "has bands \(d.map(\.name)) but \(sets[0].dir) has \(names): every date needs the same bands")
        }

        // One CRS and one footprint for every image file.
        let all = perDate.flatMap { $0 }
        let finest = all.min { $0.info.grid.resolution < $1.info.grid.resolution }!
        let srs = try SpatialReference(wkt: finest.info.crs, path: finest.info.path)
        let tolerance = 0.5 * finest.info.grid.resolution
        for b in all {
            let other = try SpatialReference(wkt: b.info.crs, path: b.info.path)
            guard other.isSame(srs) else {
                throw DataError(path: b.info.path, "CRS \(other.name) differs from \(finest.info.path)'s \(srs.name): a tile's images share one CRS")
            }
            guard b.info.footprint.matches(finest.info.footprint, tolerance: tolerance) else {
                throw DataError(path: b.info.path, "footprint \(b.info.footprint) differs from \(finest.info.path)'s \(finest.info.footprint): a tile's images share one footprint")
            }
        }

        let tileBands = names.indices.map { i -> TileBand in
            let first = perDate[0][i]
            return TileBand(name: first.name, resolution: first.info.grid.resolution,
                            dataType: first.info.dataTypes[first.source.band - 1], noData: first.source.noData,
                            sources: perDate.map { $0[i].source })
        }

        func aux(_ file: String?) throws -> (RasterInfo, Bounds)? {
            guard let file else { return nil }
            let info = try RasterInfo.inspect(dir + "/" + file)
            let fp = try footprint(of: info, in: srs)
            let common = fp.map { $0.intersection(finest.info.footprint) }
            guard let common, !common.isEmpty else {
                throw DataError(path: info.path, "does not overlap the image: its footprint \(fp.map(\.description) ?? "(cannot be transformed)") in the image CRS \(srs.name) misses the image footprint \(finest.info.footprint)")
            }
            return (info, common)
        }
        let label = try aux(labelFile), target = try aux(targetFile)

        return Tile(name: name, path: dir, crs: finest.info.crs, epsg: finest.info.epsg, footprint: finest.info.footprint,
                    grid: finest.info.grid, blockWidth: finest.info.blockWidth, blockHeight: finest.info.blockHeight,
                    bands: tileBands, dates: dateDirs, label: label?.0, target: target?.0,
                    labelFootprint: label?.1, targetFootprint: target?.1)
    }

    /// The named bands of one image set: image.tif's bands, or one band per file.
    static func bands(in dir: String, files: [String], manifest: ShardManifest) throws
        -> [(name: String, source: BandSource, info: RasterInfo)] {
        var found: [(name: String, source: BandSource, info: RasterInfo)] = []
        if let image = files.first(where: { stem($0) == imageStem }) {
            guard files.count == 1 else {
                throw DataError(path: dir, "has \(image) and band files (\(files.filter { $0 != image }.joined(separator: ", "))): use one or the other")
            }
            let info = try RasterInfo.inspect(dir + "/" + image)
            for b in 1...info.bandCount {
                let d = info.descriptions[b - 1].trimmingCharacters(in: .whitespaces)
                let name = d.isEmpty ? "band\(b)" : d
                if found.contains(where: { $0.name == name }) {
                    throw DataError(path: info.path, object: "band \(b)", "band name '\(name)' is used twice")
                }
                found.append((name, BandSource(path: info.path, band: b, grid: info.grid, noData: info.noData[b - 1]), info))
            }
        } else {
            for f in files {
                let info = try RasterInfo.inspect(dir + "/" + f)
                guard info.bandCount == 1 else {
                    throw DataError(path: info.path, "has \(info.bandCount) bands: a band file holds one band (or name it image.tif)")
                }
                found.append((stem(f), BandSource(path: info.path, band: 1, grid: info.grid, noData: info.noData[0]), info))
            }
        }
        guard let order = manifest.bands?.map(\.name), !order.isEmpty else { return found }
        var ordered: [(name: String, source: BandSource, info: RasterInfo)] = []
        for n in order {
            guard let b = found.first(where: { $0.name == n }) else {
                let file = files.first { stem($0) == imageStem }.map { dir + "/" + $0 } ?? dir + "/" + n + ".tif"
                throw DataError(path: file, "missing band '\(n)' listed in shard.json (bands here: \(found.map(\.name).joined(separator: ", ")))")
            }
            ordered.append(b)
        }
        return ordered + found.filter { !order.contains($0.name) }
    }

    /// `info`'s footprint in the CRS `srs` (its edges sampled and transformed); nil when no
    /// point transforms.
    static func footprint(of info: RasterInfo, in srs: SpatialReference) throws -> Bounds? {
        let own = try SpatialReference(wkt: info.crs, path: info.path)
        if own.isSame(srs) { return info.footprint }
        let ct = try CoordinateTransform(from: own, to: srs, path: info.path)
        let b = info.footprint, n = 32
        var xs: [Double] = [], ys: [Double] = []
        for i in 0...n {
            let t = Double(i) / Double(n)
            let x = b.minX + t * b.width, y = b.minY + t * b.height
            xs += [x, x, b.minX, b.maxX]
            ys += [b.minY, b.maxY, y, y]
        }
        ct.transform(&xs, &ys)
        return Bounds(points: xs, ys)
    }

    // MARK: - Files

    static func list(_ dir: String) throws -> [String] {
        do {
            // Bytewise order: the same on every machine and locale.
            return try FileManager.default.contentsOfDirectory(atPath: dir).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        } catch {
            throw DataError(path: dir, "cannot list: \(error.localizedDescription)")
        }
    }

    static func isDirectory(_ p: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: p, isDirectory: &d) && d.boolValue
    }

    /// Raster files a tile may hold: GeoTIFF, JPEG 2000, GDAL virtual rasters, Erdas Imagine.
    static let rasterExtensions: Set<String> = ["tif", "tiff", "jp2", "j2k", "vrt", "img"]

    static func isRaster(_ f: String) -> Bool {
        !f.hasPrefix(".") && rasterExtensions.contains((f as NSString).pathExtension.lowercased())
    }

    static func stem(_ f: String) -> String { (f as NSString).deletingPathExtension }

    /// The one raster named `stem`.<ext> (`label.tif`, `label.jp2`, …), nil if none; two are refused.
    static func single(_ rasters: [String], stem s: String, in dir: String) throws -> String? {
        let named = rasters.filter { stem($0) == s }
        guard named.count <= 1 else { throw DataError(path: dir, "has \(named.joined(separator: " and ")): keep one \(s) file") }
        return named.first
    }

    /// YYYY-MM-DD.
    static func isDate(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-") else { return false }
        return u.enumerated().allSatisfy { i, c in i == 4 || i == 7 || (c >= 48 && c <= 57) }
    }
}
