import DataIO
import Engine
import Foundation
import Models

/// A trained model as `rstrain predict` loads it: a final weights file (`FinalWeights`) with
/// the root attributes the trainer writes (`rstrain_model`, `rstrain_data`,
/// `rstrain_normalization`, JSON texts) that say how the model saw its data.
public struct PredictionModel: @unchecked Sendable {
    public let path: String
    /// The model spec (as in the run config's `models[i].model`).
    public let spec: [String: Any]
    public let arch: String
    /// Band names in channel order (nil: the training data had none; every tile band is read).
    public let bands: [String]?
    /// Training window side, target resolution (nil: the finest band's), resampling.
    public let window: Int
    public let resolution: Double?
    public let resampling: TileOptions.Resampling
    public let classes: Int
    /// The training sample's image shape, C×W×W or C×T×W×W.
    public let sample: [Int]
    public let normalization: Normalization

    public init(path: String) throws {
        self.path = path
        let file = try HDF5File(path, mode: .readOnly)
        defer { try? file.close() }
        func object(_ key: String) throws -> [String: Any] {
            guard let text = try file.stringAttribute(key) else {
                throw DataError(path: path, object: "attribute \(key)", "missing: not a final weights file written by rstrain train (run_dir/final/<model>.h5)")
            }
            guard let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw DataError(path: path, object: "attribute \(key)", "is not a JSON object")
            }
            return o
        }
        spec = try object("rstrain_model")
        let data = try object("rstrain_data"), norm = try object("rstrain_normalization")
        arch = spec["arch"] as? String ?? "?"
        func fail(_ m: String) -> DataError { DataError(path: path, object: "attribute rstrain_data", m) }
        let kind = data["kind"] as? String ?? "tiles"
        guard kind == "tiles" else {
            throw fail("the model was trained on \(kind) data: predict reads tile repositories (dense classification models)")
        }
        guard let w = (data["window"] as? NSNumber)?.intValue, w > 0 else { throw fail("has no positive \"window\"") }
        guard let k = (data["classes"] as? NSNumber)?.intValue, k > 0 else { throw fail("has no positive \"classes\"") }
        guard let s = data["sample"] as? [NSNumber], s.count == 3 || s.count == 4 else { throw fail("has no C×W×W or C×T×W×W \"sample\"") }
        window = w
        classes = k
        sample = s.map(\.intValue)
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

    /// The model for `batch` windows of side `window`, with the trained weights, ready for
    /// inference. Refuses models that do not map a window to K class scores per pixel.
    public func build(window w: Int, batch: Int) throws -> (model: Model, executor: Executor) {
        let input = Array(sample.dropLast(2)) + [w, w]
        let model: Model
        do { model = try ModelZoo.build(spec, batch: batch, input: input) } catch {
            throw DataError(path: path, object: "attribute rstrain_model", "cannot build \(arch) for \(input.map(String.init).joined(separator: "×")) windows: \(error)")
        }
        guard model.task == .classification else {
            throw DataError(path: path, "predict supports dense classification models; \(arch) is a regression model")
        }
        let out = model.outputShape
        guard out.spatial == [w, w], out.channels == classes else {
            let what = out.spatial.isEmpty ? "a scene/patch/pixel classifier (one output per sample)"
                : "a model whose output is \(out.dims.dropFirst().map(String.init).joined(separator: "×")) per window"
            throw DataError(path: path, "predict supports dense classification models (K×W×W output per window); \(arch) is \(what)")
        }
        let ex = try model.plan()
        try WeightsFile.load(ex.parameters, from: path)
        return (model, ex)
    }
}
