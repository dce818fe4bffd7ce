import Foundation

/// `shard.json` at the top of a tile repository (docs/data.md). Every key is optional.
public struct ShardManifest: Sendable, Equatable, Decodable {
    public struct Band: Sendable, Equatable, Decodable {
        public var name: String
        public var resolution: Double?
    }

    public struct ClassEntry: Sendable, Equatable, Decodable {
        public var value: Double
        public var name: String?
    }

    public var sensor: String?
    /// Band names (and resolutions) in the order the bands are read.
    public var bands: [Band]?
    /// Label value → class index (list order).
    public var classes: [ClassEntry]?
    /// A label value that means NODATA, besides the label raster's own NODATA value.
    public var labelNodata: Double?

    enum CodingKeys: String, CodingKey {
        case sensor, bands, classes
        case labelNodata = "label_nodata"
    }

    public init(sensor: String? = nil, bands: [Band]? = nil, classes: [ClassEntry]? = nil, labelNodata: Double? = nil) {
        self.sensor = sensor
        self.bands = bands
        self.classes = classes
        self.labelNodata = labelNodata
    }

    /// Reads `path`; throws a `DataError` naming it when it is not the JSON above.
    public static func read(_ path: String) throws -> ShardManifest {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError(path: path, "cannot read") }
        do {
            let m = try JSONDecoder().decode(ShardManifest.self, from: data)
            if let c = m.classes {
                var seen = Set<Double>()
                for e in c where !seen.insert(e.value).inserted {
                    throw DataError(path: path, object: "classes", "label value \(e.value) is listed twice")
                }
            }
            return m
        } catch let e as DataError {
            throw e
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx),
                let DecodingError.keyNotFound(_, ctx), let DecodingError.dataCorrupted(ctx) {
            let at = ctx.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            throw DataError(path: path, object: at.isEmpty ? nil : at, "not a valid shard.json: \(ctx.debugDescription)")
        } catch {
            throw DataError(path: path, "not a valid shard.json: \(error)")
        }
    }
}

/// Maps label raster values to class indices 0…K−1; everything else (NODATA, NaN, values not
/// in the table) maps to −1.
public struct ClassTable: Sendable, Equatable {
    /// Label value of each class, in index order.
    public let values: [Double]
    public let names: [String]
    /// Values that mean NODATA (the raster's and shard.json's `label_nodata`).
    public let nodata: [Double]
    private let lookup: [Double: Int32]
    /// Dense table for integer label values in [lutBase, lutBase + lut.count): no hashing per pixel.
    private let lut: [Int32]
    private let lutBase: Double

    /// Classes 0…K−1 are the label values 0…K−1.
    public init(count: Int, nodata: [Double] = []) {
        self.init(values: (0..<count).map(Double.init), names: (0..<count).map { "class \($0)" }, nodata: nodata)
    }

    public init(values: [Double], names: [String], nodata: [Double] = []) {
        self.values = values
        self.names = names
        self.nodata = nodata
        var l = [Double: Int32]()
        for (i, v) in values.enumerated() where !nodata.contains(v) { l[v] = Int32(i) }
        lookup = l
        let keys = l.keys
        if let lo = keys.min(), let hi = keys.max(), keys.allSatisfy({ $0 == $0.rounded() }), hi - lo < 65_536 {
            var t = [Int32](repeating: -1, count: Int(hi - lo) + 1)
            for (v, i) in l { t[Int(v - lo)] = i }
            lut = t
            lutBase = lo
        } else {
            lut = []
            lutBase = 0
        }
    }

    public var count: Int { values.count }

    /// The class index of a label value, or −1.
    @inline(__always)
    public func index(of v: Double) -> Int32 {
        if !lut.isEmpty {
            let k = v - lutBase
            guard k >= 0, k < Double(lut.count), k == k.rounded(.down) else { return -1 }
            return lut[Int(k)]
        }
        return lookup[v] ?? -1
    }

    /// The same table with more NODATA values.
    func adding(nodata more: [Double]) -> ClassTable {
        ClassTable(values: values, names: names, nodata: nodata + more.filter { !nodata.contains($0) })
    }
}
