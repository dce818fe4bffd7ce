import DataIO
import Foundation

/// A predicted and a reference class raster on the same grid, read as class indices a strip
/// of rows at a time (so a scene of any size is evaluated in bounded memory): -1 marks an
/// excluded pixel (NODATA in either file, a reference label outside 0..<classes when
/// `classes` is given), so every metric counts the same pixels.
///
/// With a class table the reference holds a repository's label values (e.g. 1…8, NODATA 0)
/// while the prediction holds class indices (what `rstrain predict` writes): each reference
/// value becomes its position in the table, and the table's NODATA values and values it does
/// not list are excluded.
///
/// A reference with K > 1 bands holds class proportions ("multi-hot"): band c is the share of
/// class c in the pixel, at any scale (each pixel's shares are normalised by their sum). Its
/// class is the arg-max (first maximum, as the trainer picks it); a pixel NODATA or non-finite in
/// any band, or with no share at all, is excluded.
public struct LabelPair {
    public let predictionPath: String
    public let referencePath: String
    public let width: Int
    public let height: Int
    /// The class count given by the caller or the class table (nil: taken from the data as it is read).
    public let classes: Int?
    /// Reference label value → class index, when the reference holds a repository's values.
    public let classTable: ClassTable?
    /// K when the reference holds class proportions (K > 1 bands); nil for a one-band label map.
    public let proportionBands: Int?
    let prediction: Raster, reference: Raster
    let predictionNoData: Double?, extraNoData: Double?
    /// The reference's NODATA per band (one entry for a label map).
    let referenceNoData: [Double?]

    /// One strip of both maps: class indices, -1 where excluded (in both), and with a proportions
    /// reference each pixel's agreement t_{p,pred(p)} / Σ_c t_{p,c} (0 where excluded).
    public struct Strip {
        public var prediction: [Int32]
        public var reference: [Int32]
        public var agreement: [Double]?
    }

    /// Opens both files (band 1) and checks that they share one grid. `noData` is excluded in
    /// both files, on top of each file's own NODATA. With `classTable` the class count is the
    /// table's (a different `classes` is an error). A reference of K > 1 bands is a proportions
    /// reference: K classes (a different `classes`, or a class table, is an error).
    public init(prediction: String, reference: String, classes: Int? = nil, noData: Double? = nil,
                classTable: ClassTable? = nil) throws {
        let p = try Raster(prediction), r = try Raster(reference)
        try LabelPair.checkSameGrid(p, r)
        for f in [p, r] where f.bandCount < 1 { throw EvalError("\(f.path): has no bands") }
        if let classes, classes < 1 { throw EvalError("--classes must be at least 1, got \(classes)") }
        if let classTable, let classes, classes != classTable.count {
            throw EvalError("--classes \(classes) disagrees with the class table's \(classTable.count) classes")
        }
        let k = r.bandCount > 1 ? r.bandCount : nil
        if let k {
            if classTable != nil {
                throw EvalError("\(reference): has \(k) bands, so it holds class proportions; --class-table applies only to a one-band label map")
            }
            if let classes, classes != k {
                throw EvalError("--classes \(classes) disagrees with the \(k) bands of the proportions reference \(reference) (one band per class)")
            }
        }
        predictionPath = prediction
        referencePath = reference
        (self.prediction, self.reference) = (p, r)
        (width, height, self.classes) = (r.width, r.height, k ?? classTable?.count ?? classes)
        self.classTable = classTable
        proportionBands = k
        predictionNoData = try p.noData(band: 1)
        referenceNoData = try (1...(k ?? 1)).map { try r.noData(band: $0) }
        extraNoData = noData
    }

    /// Rows `rows` of both maps (row-major, rows.count × W), with the excluded pixels -1 in both.
    /// Throws for a predicted class outside 0..<classes (when given) or a value that is no class
    /// number, naming the file and pixel.
    public func read(rows: Range<Int>) throws -> (prediction: [Int32], reference: [Int32]) {
        let s = try readStrip(rows: rows)
        return (s.prediction, s.reference)
    }

    /// `read(rows:)` plus, with a proportions reference, each pixel's agreement.
    public func readStrip(rows: Range<Int>) throws -> Strip {
        var pred = try LabelPair.readLabels(prediction, rows: rows, fileNoData: predictionNoData, extraNoData: extraNoData)
        var ref: [Int32], agreement: [Double]?
        if let k = proportionBands {
            (ref, agreement) = try LabelPair.readProportions(reference, bands: k, rows: rows, fileNoData: referenceNoData,
                                                             extraNoData: extraNoData, prediction: pred)
        } else {
            ref = try LabelPair.readLabels(reference, rows: rows, fileNoData: referenceNoData[0], extraNoData: extraNoData)
        }
        if let t = classTable {
            // Values → indices; NODATA and values the table does not list become -1 (excluded).
            ref.withUnsafeMutableBufferPointer { r in
                for i in r.indices where r[i] != LabelPair.noDataMark { r[i] = t.index(of: Double(r[i])) }
            }
        }
        let k = classes.map(Int32.init) ?? Int32.max, w = width
        for i in 0..<pred.count {
            if pred[i] < 0 && pred[i] != LabelPair.noDataMark {
                throw EvalError("\(predictionPath): negative class value \(pred[i]) at column \(i % w), row \(rows.lowerBound + i / w)")
            }
            if pred[i] == LabelPair.noDataMark || ref[i] < 0 || ref[i] >= k {
                pred[i] = -1
                ref[i] = -1
                agreement?[i] = 0
            } else if pred[i] >= k {
                throw EvalError("\(predictionPath): class value \(pred[i]) at column \(i % w), row \(rows.lowerBound + i / w) is outside 0..<\(k) (\(classTable == nil ? "set --classes or --nodata" : "the class table's classes; a prediction holds class indices"))")
            }
        }
        return Strip(prediction: pred, reference: ref, agreement: agreement)
    }

    /// The reference's band descriptions, which name a proportions reference's classes ("" where none).
    func referenceBandNames() throws -> [String] { try (1...reference.bandCount).map { try reference.description(band: $0) } }

    /// Rows per strip so that a strip of W pixels holds about 4M pixels (bounded memory for any
    /// scene, few GDAL calls for small ones).
    public var stripRows: Int { max(1, min(height, (4 << 20) / max(width, 1))) }

    /// Marks a NODATA pixel while reading (excluded values are all made -1 afterwards).
    static let noDataMark = Int32.min

    /// Same size and, when either has one, the same geotransform; otherwise an error naming both.
    static func checkSameGrid(_ p: Raster, _ r: Raster) throws {
        guard p.width == r.width, p.height == r.height else {
            throw EvalError("prediction \(p.path) is \(p.width)×\(p.height) but reference \(r.path) is \(r.width)×\(r.height): they must share one grid")
        }
        let a = p.geoTransform, b = r.geoTransform
        guard (a == nil) == (b == nil) else {
            throw EvalError("prediction \(p.path) is \(a == nil ? "not " : "")georeferenced but reference \(r.path) is \(b == nil ? "not" : ""): they must share one grid")
        }
        if let a, let b {
            // Equal up to rounding in the files' decimal text: a millionth of a pixel.
            let tol = 1e-6 * max(abs(a[1]), abs(a[5]))
            guard zip(a, b).allSatisfy({ abs($0 - $1) <= tol }) else {
                throw EvalError("prediction \(p.path) has geotransform \(a) but reference \(r.path) has \(b): they must share one grid")
            }
        }
    }

    /// Rows `rows` of band 1 as class values: NODATA (the file's or `extraNoData`) becomes
    /// `noDataMark`; anything not a whole number is an error naming the file and pixel.
    static func readLabels(_ raster: Raster, rows: Range<Int>, fileNoData: Double?, extraNoData: Double?) throws -> [Int32] {
        let w = raster.width
        var out = [Int32](repeating: 0, count: rows.count * w)
        // Sub-strips keep the Double staging buffer small.
        let strip = max(1, min(rows.count, (1 << 20) / max(w, 1)))
        var buf = [Double](repeating: 0, count: strip * w)
        var y = rows.lowerBound
        while y < rows.upperBound {
            let n = min(strip, rows.upperBound - y), o = (y - rows.lowerBound) * w
            try buf.withUnsafeMutableBufferPointer { b in
                try raster.read(x: 0, y: y, width: w, height: n, bands: [1],
                                into: UnsafeMutableBufferPointer(rebasing: b[0..<(n * w)]))
            }
            for i in 0..<(n * w) {
                let v = buf[i]
                if v == fileNoData || v == extraNoData || (v.isNaN && (fileNoData?.isNaN ?? false)) {
                    out[o + i] = noDataMark
                    continue
                }
                guard v.isFinite, v == v.rounded(), abs(v) < 1e9 else {
                    throw EvalError("\(raster.path): value \(v) at column \(i % w), row \(y + i / w) is not a class number")
                }
                out[o + i] = Int32(v)
            }
            y += n
        }
        return out
    }

    /// Rows `rows` of all `k` bands of a proportions raster: each pixel's arg-max class (first
    /// maximum), `noDataMark` where a band is NODATA (its own or `extraNoData`) or non-finite or
    /// every share is 0; and the normalised share of the class `prediction` holds there (0 where
    /// excluded or the prediction is no class of 0..<k, which `readStrip` then rejects). A
    /// negative share is an error naming the file, band and pixel.
    static func readProportions(_ raster: Raster, bands k: Int, rows: Range<Int>, fileNoData: [Double?], extraNoData: Double?,
                                prediction: [Int32]) throws -> (reference: [Int32], agreement: [Double]) {
        let w = raster.width, total = rows.count * w
        var ref = [Int32](repeating: noDataMark, count: total)
        var agree = [Double](repeating: 0, count: total)
        // Sub-strips keep the K-band Double staging buffer about 1M values.
        let strip = max(1, min(rows.count, (1 << 20) / max(w * k, 1)))
        var buf = [Double](repeating: 0, count: k * strip * w)
        var y = rows.lowerBound
        while y < rows.upperBound {
            let n = min(strip, rows.upperBound - y), o = (y - rows.lowerBound) * w, plane = n * w
            try buf.withUnsafeMutableBufferPointer { b in
                // k × n × W, band outermost.
                try raster.read(x: 0, y: y, width: w, height: n, bands: Array(1...k),
                                into: UnsafeMutableBufferPointer(rebasing: b[0..<(k * plane)]))
            }
            try buf.withUnsafeBufferPointer { b in
                try prediction.withUnsafeBufferPointer { pred in
                    pixels: for i in 0..<plane {
                        // A NaN NODATA never compares equal, but non-finite pixels are excluded anyway.
                        for c in 0..<k {
                            let v = b[c * plane + i]
                            if v == fileNoData[c] || v == extraNoData || !v.isFinite { continue pixels }
                        }
                        var sum = 0.0, best = -Double.infinity, arg = 0
                        for c in 0..<k {
                            let v = b[c * plane + i]
                            guard v >= 0 else {
                                throw EvalError("\(raster.path): band \(c + 1) holds \(v) at column \(i % w), row \(y + i / w): a class share cannot be negative")
                            }
                            sum += v
                            if v > best { best = v; arg = c }
                        }
                        guard sum > 0 else { continue }
                        ref[o + i] = Int32(arg)
                        let q = Int(pred[o + i])
                        if q >= 0 && q < k { agree[o + i] = b[q * plane + i] / sum }
                    }
                }
            }
            y += n
        }
        return (ref, agree)
    }
}

extension LabelPair {
    /// `--class-table PATH`: the class table of a tile repository (its directory, or its
    /// shard.json): `classes` in list order (a class's index is its position), `label_nodata` as
    /// NODATA. Errors name the file and key: no such file, no classes, a value that is not a
    /// whole number (label rasters hold whole numbers, so it could never match).
    public static func classTable(at path: String) throws -> ClassTable {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw EvalError("\(path): no such tile repository or shard.json (--class-table)")
        }
        let file = isDir.boolValue ? (path as NSString).appendingPathComponent(TileRepository.manifestName) : path
        guard FileManager.default.fileExists(atPath: file) else {
            throw EvalError("\(path): has no \(TileRepository.manifestName), so no class table (--class-table)")
        }
        let m = try ShardManifest.read(file)
        guard let classes = m.classes, !classes.isEmpty else {
            throw EvalError("\(file): has no class table (\"classes\" is missing or empty)")
        }
        for (i, c) in classes.enumerated() where !(c.value.isFinite && c.value == c.value.rounded() && abs(c.value) < 1e9) {
            throw EvalError("\(file): classes[\(i)].value \(c.value) is not a whole number (label rasters hold whole numbers)")
        }
        if let v = m.labelNodata, !(v.isFinite && v == v.rounded()) {
            throw EvalError("\(file): label_nodata \(v) is not a whole number")
        }
        return ClassTable(values: classes.map(\.value), names: classes.map { $0.name ?? "class \(Int($0.value))" },
                          nodata: m.labelNodata.map { [$0] } ?? [])
    }
}
