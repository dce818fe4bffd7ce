import DataIO
import Foundation
import Settings

/// What a weights file says of how its model saw the data: the one record the trainer writes
/// into `final/<model>.h5` (root attributes `rstrain_model`, `rstrain_data`,
/// `rstrain_normalization`, JSON texts) and predict, eval and every later reader load.
public struct WeightsMetadata: @unchecked Sendable {
    /// The model spec (as in the run config's `models[i].model`).
    public var spec: [String: Any]
    /// The training data's kind: "tiles", "so2sat" or "chips" (the last two label whole samples).
    public var dataKind: String
    /// Classes (0 for regression data).
    public var classes: Int
    /// Class names and map colours ("#rrggbb") in class order, from the training data's class
    /// table; nil when it had none.
    public var classNames: [String]?
    public var classColors: [String]?
    /// The training sample's image shape, C×W×W or C×T×W×W.
    public var sample: [Int]
    /// Training window side (tiles), label mode, resampling, target resolution (nil: the finest
    /// band's), band names in channel order (nil: the data had none; every band is read).
    public var window: Int
    public var labels: String
    public var resampling: TileOptions.Resampling
    public var resolution: Double?
    public var bands: [String]?
    /// So2Sat modality (sen1, sen2, both).
    public var modality: String?
    /// Time series: whether a pixel missing at any date was masked (strict; files written before
    /// this was recorded were strict).
    public var maskAnyDate: Bool
    public var normalization: Normalization

    public init(spec: [String: Any], dataKind: String, classes: Int, classNames: [String]?, classColors: [String]?,
                sample: [Int], window: Int, labels: String, resampling: TileOptions.Resampling, resolution: Double?,
                bands: [String]?, modality: String?, maskAnyDate: Bool, normalization: Normalization) {
        (self.spec, self.dataKind, self.classes, self.classNames, self.classColors) = (spec, dataKind, classes, classNames, classColors)
        (self.sample, self.window, self.labels, self.resampling, self.resolution) = (sample, window, labels, resampling, resolution)
        (self.bands, self.modality, self.maskAnyDate, self.normalization) = (bands, modality, maskAnyDate, normalization)
    }

    public var arch: String { spec["arch"] as? String ?? "?" }

    /// The root attributes of a weights file.
    public func attributes() throws -> [String: String] {
        func json(_ v: Any) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
        }
        var data: [String: Any] = [
            "kind": dataKind, "classes": classes, "sample": sample, "window": window, "labels": labels,
            "resampling": resampling.rawValue, "resolution": resolution ?? NSNull(), "bands": bands ?? NSNull(),
            "modality": modality ?? NSNull(), "mask_any_date": maskAnyDate,
        ]
        if let classNames { data["class_names"] = classNames }
        if let classColors { data["class_colors"] = classColors }
        let norm: [String: Any]
        switch normalization {
        case .identity: norm = ["type": "none"]
        case .affine(let scale, let offset): norm = ["type": "affine", "scale": scale, "offset": offset]
        case .statistics(let s): norm = ["type": "statistics", "mean": s.mean, "std": s.std, "count": s.count]
        }
        return ["rstrain_model": try json(spec), "rstrain_data": try json(data), "rstrain_normalization": try json(norm)]
    }

    /// The attribute names this record is written under.
    public static let attributeNames = ["rstrain_model", "rstrain_data", "rstrain_normalization"]

    /// Reads the weights file `path`'s root attributes.
    public init(path: String) throws {
        let file = try HDF5File(path, mode: .readOnly)
        defer { try? file.close() }
        var attributes: [String: String] = [:]
        for k in Self.attributeNames { attributes[k] = try file.stringAttribute(k) }
        try self.init(attributes: attributes, path: path)
    }

    /// Reads the attributes of `path`; errors name the file and the attribute at fault.
    public init(attributes: [String: String], path: String) throws {
        func object(_ key: String) throws -> [String: Any] {
            guard let text = attributes[key] else {
                throw DataError(path: path, object: "attribute \(key)", "missing: not a final weights file written by rstrain train (run_dir/final/<model>.h5)")
            }
            guard let o = JSONValue.foundationObject(Data(text.utf8)) else {
                throw DataError(path: path, object: "attribute \(key)", "is not a JSON object")
            }
            return o
        }
        spec = try object("rstrain_model")
        let data = try object("rstrain_data"), norm = try object("rstrain_normalization")
        func fail(_ m: String) -> DataError { DataError(path: path, object: "attribute rstrain_data", m) }
        let kind = data["kind"] as? String ?? "tiles"
        guard ["tiles", "so2sat", "chips"].contains(kind) else { throw fail("unknown data \"kind\" '\(kind)' (tiles, so2sat or chips)") }
        dataKind = kind
        modality = data["modality"] as? String
        maskAnyDate = data["mask_any_date"] as? Bool ?? true
        labels = data["labels"] as? String ?? "hard"
        guard let w = (data["window"] as? NSNumber)?.intValue, w > 0 else { throw fail("has no positive \"window\"") }
        // Regression data may have no classes (0); classifiers are checked against it when built.
        guard let k = (data["classes"] as? NSNumber)?.intValue, k >= 0 else { throw fail("has no \"classes\" count") }
        guard let s = data["sample"] as? [NSNumber], s.count == 3 || s.count == 4 else { throw fail("has no C×W×W or C×T×W×W \"sample\"") }
        classes = k
        sample = s.map(\.intValue)
        window = w
        for key in ["class_names", "class_colors"] where data[key] != nil {
            guard let v = data[key] as? [String], v.count == k else { throw fail("\"\(key)\" must list \(k) strings") }
        }
        classNames = data["class_names"] as? [String]
        classColors = data["class_colors"] as? [String]
        bands = data["bands"] as? [String]
        resolution = (data["resolution"] as? NSNumber)?.doubleValue
        guard let r = TileOptions.Resampling(rawValue: data["resampling"] as? String ?? "bilinear") else {
            throw fail("unknown \"resampling\" '\(data["resampling"] ?? "")'")
        }
        resampling = r
        normalization = try Self.normalization(norm, path: path, bands: sample[0])
    }

    static func normalization(_ o: [String: Any], path: String, bands c: Int) throws -> Normalization {
        func fail(_ m: String) -> DataError { DataError(path: path, object: "attribute rstrain_normalization", m) }
        func numbers(_ key: String) throws -> [Double] {
            guard let v = o[key] as? [NSNumber], v.count == 1 || v.count == c else {
                throw fail("\"\(key)\" must list 1 or \(c) numbers")
            }
            return v.map(\.doubleValue)
        }
        switch o["type"] as? String {
        case "none": return .identity
        case "affine":
            return .affine(scale: try numbers("scale").map(Float.init), offset: try numbers("offset").map(Float.init))
        case "statistics":
            let mean = try numbers("mean"), std = try numbers("std")
            guard mean.count == c, std.count == c else { throw fail("\"mean\" and \"std\" must list \(c) numbers") }
            // Rebuild the statistics from mean and std (one "sample" each: m2 = std²).
            var s = BandStatistics(bands: c)
            s.count = [Double](repeating: 1, count: c)
            s.mean = mean
            s.m2 = std.map { $0 * $0 }
            return .statistics(s)
        default: throw fail("unknown \"type\" '\(o["type"] ?? "")' (statistics, affine or none)")
        }
    }
}
