import DataIO
import Engine
import Foundation
import Models

/// What one labelled tile, So2Sat file or chip folder gave.
public struct SceneLabelSummary: Sendable {
    /// Windows or chips seen, and those labelled (windows with too much NODATA are not).
    public let samples: Int, labelled: Int
    /// The coarse raster's size (windows across × down; 0 for So2Sat files and chips).
    public let columns: Int, rows: Int
}

/// Scene classifiers (one class vector per sample: trained on So2Sat files or chip folders)
/// applied to new data: W×W windows of a tile at a stride (W the training sample's side),
/// So2Sat HDF5 files or chip folders. Samples are read and normalised as training read them;
/// each gets its softmax scores and arg-max class, written as CSV rows (and, for tiles, a
/// coarse class raster with one pixel per window).
public final class SceneLabeller {
    public let model: PredictionModel
    public let batch: Int
    let net: Model
    let executor: Executor
    /// Windows with a larger masked fraction are not run (NODATA in the raster, empty class in the CSV).
    public var maxNodataFraction = 0.5
    public var outputOptions = RasterOutputOptions()
    public var maskAnyDate: Bool
    /// GDAL's block cache while reading tiles (as `ScenePredictor`).
    public var blockCacheBytes = 128 << 20

    public init(model: PredictionModel, batch: Int = 16) throws {
        guard batch >= 1 else { throw DataError(path: model.path, "batch \(batch) must be at least 1") }
        self.model = model
        self.batch = batch
        (net, executor) = try model.buildScene(batch: batch)
        maskAnyDate = model.maskAnyDate
    }

    var classes: Int { net.outputShape.channels }

    /// Runs the model on the first `count` rows of its input (the rest zeroed) and returns
    /// each row's softmax scores (count × K).
    func scores(count: Int) -> [Float] {
        let input = executor.value(net.input), per = net.inputShape.count / batch
        input.data.advanced(by: count * per).update(repeating: 0, count: (batch - count) * per)
        executor.forward(mode: .inference)
        let k = classes, out = executor.value(net.output).data
        var p = [Float](repeating: 0, count: count * k)
        for i in 0..<count {
            let s = out + i * k
            var top = -Float.infinity
            for j in 0..<k { top = max(top, s[j]) }
            var total: Float = 0
            for j in 0..<k { let e = expf(s[j] - top); p[i * k + j] = e; total += e }
            for j in 0..<k { p[i * k + j] /= total }
        }
        return p
    }

    static func header(_ lead: [String], names: [String]) -> String {
        (lead + ["class", "name"] + names.map { "p_" + $0 }).map(csvField).joined(separator: ",") + "\n"
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// Row tail: class, name and probabilities (empty fields for an unlabelled sample).
    static func tail(_ p: ArraySlice<Float>?, names: [String]) -> String {
        guard let p else { return "," + String(repeating: ",", count: names.count) }
        let best = p.indices.max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) }! - p.startIndex
        return "\(best)," + csvField(names[best]) + p.map { "," + String(format: "%.6g", $0) }.joined()
    }

    /// Writes `text` to `path` through `path.tmp` (nothing half-written).
    static func writeAtomically(_ text: String, to path: String) throws {
        let tmp = path + ".tmp"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: tmp))
        } catch {
            unlink(tmp)
            throw DataError(path: path, "cannot write: \(error.localizedDescription)")
        }
        guard rename(tmp, path) == 0 else {
            let m = String(cString: strerror(errno))
            unlink(tmp)
            throw DataError(path: path, "cannot rename \(tmp) into place: \(m)")
        }
    }

    /// Labels the W×W windows of tile `tile` with origins 0, stride, 2·stride, … (those that
    /// fit; default stride W): CSV `csv` (tile, x, y, centre easting/northing in the tile CRS,
    /// class, name, one probability per class) and, optionally, `raster`: a uint8 class
    /// GeoTIFF with one pixel per window (origin the tile's, pixel size stride × the tile's;
    /// NODATA 255 for windows with too much NODATA), colour table and class names as class maps.
    public func labelTile(repository: TileRepository, tile: String, stride: Int? = nil, csv: String, raster: String? = nil) throws -> SceneLabelSummary {
        let w = model.window, st = stride ?? w
        guard st >= 1 else { throw DataError(path: model.path, "stride \(st) must be at least 1") }
        let options = TileOptions(bands: model.bands?.map { .name($0) }, resolution: model.resolution, windowSize: w, stride: st,
                                  labels: .none, maskAnyDate: maskAnyDate, maxNodataFraction: 1, resampling: model.resampling,
                                  blockCacheBytes: blockCacheBytes)
        let grid = try WindowGrid(repository, options: options)
        guard let ti = grid.plans.firstIndex(where: { $0.tile.name == tile }) else {
            throw DataError(path: repository.path, "has no tile '\(tile)'")
        }
        let plan = grid.plans[ti]
        guard grid.layout.imageShape.dims == model.sample else {
            throw DataError(path: plan.tile.path, "gives \(grid.layout.imageShape) windows but \(model.path) takes \(model.sample.map(String.init).joined(separator: "×")) samples (bands \(grid.bandNames.joined(separator: ", ")))")
        }
        let (gw, gh) = (plan.grid.width, plan.grid.height)
        guard gw >= w, gh >= w else { throw DataError(path: plan.tile.path, "is \(gw)×\(gh) px: smaller than the model's \(w)×\(w) samples") }
        let (nx, ny) = ((gw - w) / st + 1, (gh - w) / st + 1), k = classes
        let names = model.classNames(table: try? repository.classTable(for: plan.tile, count: k))
        let reader = WindowReader(grid: grid)
        defer { reader.close() }
        let sample = reader.makeSample()
        let n = w * w, planes = grid.layout.imageShape.count / n
        let (scale, offset) = model.normalization.coefficients(bands: grid.layout.channels)
        let input = executor.value(net.input)
        var labels = [UInt8](repeating: 255, count: nx * ny)
        var probs = [[Float]?](repeating: nil, count: nx * ny)
        var pending: [Int] = []
        func flush() {
            let p = scores(count: pending.count)
            for (b, cell) in pending.enumerated() {
                let row = p[(b * k)..<((b + 1) * k)]
                labels[cell] = UInt8(row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! - row.startIndex)
                probs[cell] = Array(row)
            }
            pending = []
        }
        for j in 0..<ny {
            for i in 0..<nx {
                let status = try reader.read(WindowRef(tile: ti, x: i * st, y: j * st, size: w), into: sample)
                guard status.validFraction > 0, 1 - status.validFraction <= maxNodataFraction else { continue }
                // Normalised as in training: masked pixels (or missing dates) are 0.
                sample.normalised(bands: grid.layout.channels, scale: scale, offset: offset, into: input.data + pending.count * planes * n)
                pending.append(j * nx + i)
                if pending.count == batch { flush() }
            }
        }
        if !pending.isEmpty { flush() }
        let gt = plan.grid.geoTransform, half = Double(w) / 2
        var text = Self.header(["tile", "x", "y", "easting", "northing"], names: names)
        for j in 0..<ny {
            for i in 0..<nx {
                let (cx, cy) = (Double(i * st) + half, Double(j * st) + half)
                let e = gt[0] + cx * gt[1] + cy * gt[2], nn = gt[3] + cx * gt[4] + cy * gt[5]
                text += Self.csvField(tile) + ",\(i * st),\(j * st)," + String(format: "%.3f,%.3f", e, nn)
                    + "," + Self.tail(probs[j * nx + i].map { $0[...] }, names: names) + "\n"
            }
        }
        if let raster {
            var coarse = plan.grid
            (coarse.width, coarse.height) = (nx, ny)
            (coarse.pixelWidth, coarse.pixelHeight) = (coarse.pixelWidth * Double(st), coarse.pixelHeight * Double(st))
            let out = try StripRasterWriter<UInt8>(raster, grid: coarse, projection: plan.tile.crs, bands: 1, noData: 255, cog: outputOptions.cog)
            try out.setClasses(colours: model.palette(names: names), names: names)
            try labels.withUnsafeBufferPointer { try out.write(rows: 0..<ny, $0.baseAddress!) }
            try out.finish(overviews: "NEAREST")
        }
        try Self.writeAtomically(text, to: csv)
        return SceneLabelSummary(samples: nx * ny, labelled: probs.filter { $0 != nil }.count, columns: nx, rows: ny)
    }

    /// Labels every sample of a So2Sat HDF5 file (read with the trained modality; rows by
    /// index) or of a chip folder (`DIR/<class>/*.tif`; rows by chip path under DIR), read and
    /// normalised as in training: CSV `csv` (sample, class, name, probabilities). Chips carry
    /// no common grid, so there is no raster.
    public func labelSamples(path: String, csv: String) throws -> SceneLabelSummary {
        let dataset: SampleDataset, ids: (Int) -> String
        var names = model.classNames(table: nil)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            let chips = try ChipFolderDataset(root: path)
            let root = chips.root.hasSuffix("/") ? chips.root : chips.root + "/"
            ids = { i in chips.chips[i].path.hasPrefix(root) ? String(chips.chips[i].path.dropFirst(root.count)) : chips.chips[i].path }
            dataset = chips
        } else {
            guard let mod = So2SatDataset.Modality(rawValue: model.modality ?? "both") else {
                throw DataError(path: model.path, object: "attribute rstrain_data", "unknown So2Sat \"modality\" '\(model.modality ?? "")'")
            }
            dataset = try So2SatDataset(path: path, modality: mod)
            ids = { String($0) }
        }
        guard dataset.shapes.image.dims == model.sample else {
            throw DataError(path: path, "gives \(dataset.shapes.image) samples but \(model.path) takes \(model.sample.map(String.init).joined(separator: "×"))")
        }
        if let chips = dataset as? ChipFolderDataset, chips.classNames.count == classes { names = chips.classNames }
        let reader = try dataset.makeReader()
        let samples = SampleBatch(shapes: dataset.shapes, capacity: batch)
        let input = executor.value(net.input), per = model.sample.reduce(1, *), k = classes
        var text = Self.header(["sample"], names: names)
        for start in stride(from: 0, to: dataset.count, by: batch) {
            let idx = Array(start..<min(start + batch, dataset.count))
            try reader.read(idx, into: samples)
            model.normalization.apply(to: samples)
            input.data.update(from: samples.image.data, count: idx.count * per)
            let p = scores(count: idx.count)
            for (b, i) in idx.enumerated() {
                text += Self.csvField(ids(i)) + "," + Self.tail(p[(b * k)..<((b + 1) * k)], names: names) + "\n"
            }
        }
        dataset.recycle(reader)
        try Self.writeAtomically(text, to: csv)
        return SceneLabelSummary(samples: dataset.count, labelled: dataset.count, columns: 0, rows: 0)
    }
}
