import ArgumentParser
import DataIO
import Foundation
import Prediction

extension RasterOutputOptions.ProbabilityType: ExpressibleByArgument {}

/// predict's output choices (COG, probability storage, time-series mask) and scene
/// classifiers' labelling (`--stride`, `--raster`).
struct PredictOutputOptions: ParsableArguments {
    @Flag(help: "Write Cloud-Optimised GeoTIFFs (GDAL's COG driver).")
    var cog = false

    @Option(name: .customLong("probabilities-type"), help: "float32 (NODATA NaN) or uint8: round(p·254), band scale 1/254, NODATA 255.")
    var probabilitiesType: RasterOutputOptions.ProbabilityType = .float32

    @Flag(inversion: .prefixedNo, help: "Time series: --mask-any-date masks a pixel missing at any date (strict); --no-mask-any-date keeps it when some date has it (default: as the model was trained; older weights files: strict).")
    var maskAnyDate: Bool?

    @Option(help: "Scene classifiers on tiles: distance between window origins in pixels (default: the window, one label per window).")
    var stride: Int?

    @Option(help: "Scene classifiers on tiles: also write a coarse class GeoTIFF, one pixel per window (for a repository, a directory).")
    var raster: String?

    var options: RasterOutputOptions { RasterOutputOptions(cog: cog, probabilities: probabilitiesType) }

    func apply(to p: ScenePredictor) throws {
        p.outputOptions = options
        if let maskAnyDate { p.maskAnyDate = maskAnyDate }
        if stride != nil || raster != nil { throw DataError(path: p.model.path, "--stride and --raster apply to scene classifiers only") }
    }

    /// A scene classifier's labeller with these options.
    func labeller(model: PredictionModel, batch: Int) throws -> SceneLabeller {
        let l = try SceneLabeller(model: model, batch: batch)
        l.outputOptions = options
        if let maskAnyDate { l.maskAnyDate = maskAnyDate }
        return l
    }

    /// A So2Sat HDF5 file or a chip folder (samples without a common grid), not tiles.
    func isSampleInput(_ input: String) -> Bool {
        let lower = input.lowercased()
        return lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") || ChipFolder.looksLike(input)
    }

    /// Every sample of a So2Sat file or chip folder → one CSV row each.
    func labelSamples(_ l: SceneLabeller, input: String, output: String) throws {
        if raster != nil { throw DataError(path: input, "--raster: So2Sat files and chips carry no common grid; only the CSV is written") }
        let s = try l.labelSamples(path: input, csv: output)
        print("\(input): \(s.samples) samples labelled → \(output)")
    }
}

/// A chip folder: sub-folders of GeoTIFF chips and no tile files or shard.json of its own.
enum ChipFolder {
    static func looksLike(_ path: String) -> Bool {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: path), !entries.contains(TileRepository.manifestName) else { return false }
        return entries.contains { e in
            guard let files = try? fm.contentsOfDirectory(atPath: path + "/" + e) else { return false }
            return files.contains { ChipFolderDataset.extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                && !files.contains(TileRepository.manifestName)
        } && !entries.contains { $0.lowercased().hasSuffix(".tif") }
    }
}
