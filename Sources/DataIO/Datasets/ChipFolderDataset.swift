import Engine
import Foundation

/// Scene classification chips in class folders (EuroSAT's layout): `DIR/<class name>/*.tif`,
/// every chip the same size and band count. Classes are the folder names sorted bytewise;
/// chips are sorted by class, then file name — a stable order on every machine. Samples are
/// C×H×W images read through GDAL (`Raster`), a mask (0 where any band is NODATA or NaN), the
/// one-hot class as soft target and the class index.
///
/// Only the first chip is opened up front (`validate: true` checks every header); a chip of
/// another size or band count fails its read with a `DataError` naming the file.
public final class ChipFolderDataset: SampleDataset, @unchecked Sendable {
    public let root: String
    public let classNames: [String]
    /// (path, class index) per sample.
    public let chips: [(path: String, label: Int)]
    public let shapes: SampleShapes
    public var count: Int { chips.count }
    public var maxReaders: Int { Int.max }

    public static let extensions: Set<String> = ["tif", "tiff"]

    public init(root: String, validate: Bool = false) throws {
        self.root = root
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw DataError(path: root, "no such directory")
        }
        let names = try fm.contentsOfDirectory(atPath: root).filter { !$0.hasPrefix(".") }.filter {
            var d: ObjCBool = false
            return fm.fileExists(atPath: root + "/" + $0, isDirectory: &d) && d.boolValue
        }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var chips: [(String, Int)] = []
        var used: [String] = []
        for name in names {
            let files = try fm.contentsOfDirectory(atPath: root + "/" + name)
                .filter { !$0.hasPrefix(".") && Self.extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            guard !files.isEmpty else { continue }
            chips += files.map { (root + "/" + name + "/" + $0, used.count) }
            used.append(name)
        }
        guard let first = chips.first else {
            throw DataError(path: root, "no chips: expected DIR/<class name>/*.tif")
        }
        classNames = used
        self.chips = chips
        let r = try Raster(first.0)
        shapes = SampleShapes(image: Shape(r.bandCount, r.height, r.width), mask: Shape(r.height, r.width),
                              soft: Shape(used.count), hard: Shape([]), classes: used.count)
        r.close()
        if validate {
            for (path, _) in chips.dropFirst() {
                let c = try Raster(path)
                try check(c)
                c.close()
            }
        }
    }

    func check(_ r: Raster) throws {
        let (c, h, w) = (shapes.image[0], shapes.image[1], shapes.image[2])
        guard r.width == w, r.height == h, r.bandCount == c else {
            throw DataError(path: r.path, "chip of \(r.width)×\(r.height) px with \(r.bandCount) bands; the others (\(chips[0].path)) are \(w)×\(h) with \(c)")
        }
    }

    public func makeReader() throws -> SampleReader { Reader(self) }

    final class Reader: SampleReader {
        let d: ChipFolderDataset
        init(_ d: ChipFolderDataset) { self.d = d }

        func read(_ indices: [Int], into batch: SampleBatch) throws {
            precondition(batch.shapes == d.shapes && indices.count <= batch.capacity)
            let (c, h, w) = (d.shapes.image[0], d.shapes.image[1], d.shapes.image[2])
            let hw = h * w, k = d.shapes.classes
            for (slot, i) in indices.enumerated() {
                guard i >= 0, i < d.count else { throw DataError(path: d.root, "sample \(i) outside 0..<\(d.count)") }
                let (path, label) = d.chips[i]
                let r = try Raster(path)
                defer { r.close() }
                try d.check(r)
                let img = batch.imageRow(slot), m = batch.maskRow(slot)
                try r.read(x: 0, y: 0, width: w, height: h, bands: Array(1...c), into: UnsafeMutableBufferPointer(start: img, count: c * hw))
                for p in 0..<hw { m[p] = 1 }
                for b in 0..<c {
                    let plane = img + b * hw
                    if let nd = try r.noData(band: b + 1).map({ Float($0) }), !nd.isNaN {
                        for p in 0..<hw where plane[p].isNaN || plane[p] == nd { m[p] = 0 }
                    } else {
                        for p in 0..<hw where plane[p].isNaN { m[p] = 0 }
                    }
                }
                for b in 0..<c { for p in 0..<hw where m[p] == 0 { img[b * hw + p] = 0 } }
                let s = batch.softRow(slot)!
                s.update(repeating: 0, count: k)
                s[label] = 1
                batch.hardRow(slot)!.pointee = Int32(label)
            }
            batch.indices = indices
        }
    }
}
