import CGDAL
import DataIO
import Foundation

/// A predicted and a reference class raster on the same grid, read into memory as class
/// indices: -1 marks an excluded pixel (NODATA in either file, a reference label outside
/// 0..<classes), so every metric counts the same pixels.
public struct LabelPair {
    public let predictionPath: String
    public let referencePath: String
    public let width: Int
    public let height: Int
    public let classes: Int
    /// H×W, row-major; -1 where excluded. Both arrays are excluded at the same pixels.
    public let prediction: [Int32]
    public let reference: [Int32]
    /// Pixels excluded (NODATA in either file, or a reference label outside 0..<classes).
    public let excluded: Int
    /// Class names from the reference raster's category table ("" for unnamed classes), or
    /// nil when it has none.
    public let classNames: [String]?
    /// "#rrggbb" per class from the reference raster's colour table, or nil when it has none.
    public let classColors: [String]?

    /// Reads band 1 of both files. `classes` nil: one more than the largest valid label in
    /// either file. `noData` is excluded in both files, on top of each file's own NODATA.
    public init(prediction: String, reference: String, classes: Int? = nil, noData: Double? = nil) throws {
        let p = try Raster(prediction), r = try Raster(reference)
        try LabelPair.checkSameGrid(p, r)
        predictionPath = prediction
        referencePath = reference
        width = r.width
        height = r.height
        if let classes, classes < 1 { throw EvalError("--classes must be at least 1, got \(classes)") }
        let pv = try LabelPair.readLabels(p, extraNoData: noData)
        let rv = try LabelPair.readLabels(r, extraNoData: noData)
        // K: given, or the largest label seen in either file (valid pixels of both) + 1.
        var k = classes ?? 0
        if classes == nil {
            for i in 0..<pv.count where pv[i] >= 0 && rv[i] >= 0 { k = max(k, Int(pv[i]) + 1, Int(rv[i]) + 1) }
            k = max(k, 1)
        }
        var pred = pv, ref = rv
        var excluded = 0
        for i in 0..<pred.count {
            if pred[i] < 0 && pred[i] != LabelPair.noDataMark {
                throw EvalError("\(prediction): negative class value \(pred[i]) at column \(i % width), row \(i / width)")
            }
            if pred[i] == LabelPair.noDataMark || ref[i] < 0 || Int(ref[i]) >= k {
                pred[i] = -1
                ref[i] = -1
                excluded += 1
            } else if Int(pred[i]) >= k {
                throw EvalError("\(prediction): class value \(pred[i]) at column \(i % width), row \(i / width) is outside 0..<\(k) (set --classes or --nodata)")
            }
        }
        self.classes = k
        self.prediction = pred
        self.reference = ref
        self.excluded = excluded
        (classNames, classColors) = LabelPair.categories(reference, classes: k)
    }

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

    /// Band 1 as class values: NODATA (the file's or `extraNoData`) becomes `noDataMark`;
    /// anything not a whole number is an error naming the file and pixel.
    static func readLabels(_ raster: Raster, extraNoData: Double?) throws -> [Int32] {
        guard raster.bandCount >= 1 else { throw EvalError("\(raster.path): has no bands") }
        let fileNoData = try raster.noData(band: 1)
        let w = raster.width, h = raster.height
        var out = [Int32](repeating: 0, count: w * h)
        // Row strips keep the Double staging buffer small for large scenes.
        let strip = max(1, min(h, (1 << 20) / max(w, 1)))
        var buf = [Double](repeating: 0, count: strip * w)
        var y = 0
        while y < h {
            let rows = min(strip, h - y)
            try buf.withUnsafeMutableBufferPointer { b in
                try raster.read(x: 0, y: y, width: w, height: rows, bands: [1],
                                into: UnsafeMutableBufferPointer(rebasing: b[0..<(rows * w)]))
            }
            for i in 0..<(rows * w) {
                let v = buf[i]
                if v == fileNoData || v == extraNoData || (v.isNaN && (fileNoData?.isNaN ?? false)) {
                    out[y * w + i] = noDataMark
                    continue
                }
                guard v.isFinite, v == v.rounded(), abs(v) < 1e9 else {
                    throw EvalError("\(raster.path): value \(v) at column \(i % w), row \(y + i / w) is not a class number")
                }
                out[y * w + i] = Int32(v)
            }
            y += rows
        }
        return out
    }

    /// The reference raster's category names and colour table (band 1), through GDAL's own
    /// calls since `Raster` does not expose them. Lists longer than `classes` are cut.
    static func categories(_ path: String, classes: Int) -> ([String]?, [String]?) {
        GDALAllRegister()
        CPLPushErrorHandler(CPLQuietErrorHandler)
        defer { CPLPopErrorHandler() }
        guard let ds = GDALOpenEx(path, UInt32(GDAL_OF_RASTER | GDAL_OF_READONLY), nil, nil, nil) else { return (nil, nil) }
        defer { GDALClose(ds) }
        // GTiff loads its .aux.xml side file lazily, on the first georeferencing or metadata
        // query; the band's category calls alone do not trigger it.
        var gt = [Double](repeating: 0, count: 6)
        _ = GDALGetGeoTransform(ds, &gt)
        _ = GDALGetMetadata(ds, nil)
        guard let band = GDALGetRasterBand(ds, 1) else { return (nil, nil) }
        var names: [String]?
        if let list = GDALGetRasterCategoryNames(band) {
            var n: [String] = []
            var i = 0
            while let s = list[i], n.count < classes { n.append(String(cString: s)); i += 1 }
            if !n.isEmpty {
                names = n + Array(repeating: "", count: classes - n.count)
            }
        }
        var colors: [String]?
        if let table = GDALGetRasterColorTable(band) {
            let n = Int(GDALGetColorEntryCount(table))
            colors = (0..<classes).map { c in
                guard c < n, let e = GDALGetColorEntry(table, Int32(c)) else { return "" }
                return String(format: "#%02x%02x%02x", Int(e.pointee.c1), Int(e.pointee.c2), Int(e.pointee.c3))
            }
        }
        return (names, colors)
    }
}
