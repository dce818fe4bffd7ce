import DataIO
import Engine
import Foundation

/// A run's end product: `run_dir/final/<model>.h5`, each model's weights as a plain weights
/// file (`WeightsFile`: one dataset per tensor at the root), what `rstrain predict` and h5py
/// users load. No optimizer state: that lives in the checkpoints.
public enum FinalWeights {
    /// "run_dir/final/unet-small.h5".
    public static func path(model: String, runDir: String) -> String {
        ((runDir as NSString).appendingPathComponent("final") as NSString).appendingPathComponent(model + ".h5")
    }

    /// Saves `store` atomically as `path(model:runDir:)`, creating `final/` if needed, with
    /// `attributes` as string attributes of the root (what prediction needs to read a scene as
    /// training did: the model spec, bands, resolution, normalisation — JSON texts).
    /// - Returns: the file's path.
    @discardableResult
    public static func write(_ store: ParameterStore, model: String, runDir: String, attributes: [String: String] = [:]) throws -> String {
        let path = Self.path(model: model, runDir: runDir)
        guard !model.isEmpty, !model.contains("/"), !model.hasPrefix(".") else {
            throw DataError(path: path, "model name '\(model)' cannot be a file name (empty, '/', or leading '.')")
        }
        let dir = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw DataError(path: dir, "cannot create the final weights directory: \(error.localizedDescription)")
        }
        try HDF5File.writeAtomically(path) { f in
            try WeightsFile.write(store, into: f)
            for (k, v) in attributes.sorted(by: { $0.key < $1.key }) { try f.setAttribute(k, v) }
        }
        return path
    }
}
