import ArgumentParser
import DataIO
import Foundation
import Training

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Map a tile (or every tile of a repository) with a trained dense, pixel or patch model, or label windows or samples with a scene classifier.",
        discussion: """
        Reads the tile as training did (the model's bands by name, resolution, resampling and \
        normalisation, from the final weights file), slides W×W windows with overlap O over the \
        tile's grid, averages the softmax scores where windows overlap (leaving out O/2 px at \
        inner window borders) and writes the arg-max class: a uint8 GeoTIFF on the tile's grid, \
        NODATA 255 where the input is masked, with a colour table, class names and overviews. \
        A regression model's outputs are averaged as they are and written as float32, one band \
        per output, NODATA NaN (a super-resolution model's on its finer grid). Pixel models \
        (TempCNN) classify every pixel's C×T series; patch models (ResNet, "head": "pixel") the \
        P×P patch centred on every pixel. Scene classifiers (trained on So2Sat files or chip \
        folders) label windows of a tile (CSV, --raster for a coarse map) or every sample of a \
        So2Sat file or chip folder (CSV). A random_forest entry's final/<name>.h5 maps every \
        valid pixel with the forest (probabilities: the trees' mean leaf frequencies). See \
        docs/predict.md and docs/baseline.md.
        """
    )

    @Option(help: "A final weights file: run_dir/final/<model>.h5.")
    var checkpoint: String

    @Option(help: "A tile folder (inside a tile repository) or a whole tile repository.")
    var input: String

    @Option(help: "The class map (regression: the values), a GeoTIFF (scene classifiers: a CSV); for a repository, a directory receiving <tile>.tif (.csv) per tile.")
    var output: String

    @Option(help: "Also write class probabilities (float32, one band per class); for a repository, a directory.")
    var probabilities: String?

    @Option(help: "Window side in pixels (default: the training window).")
    var window: Int?

    @Option(help: "Overlap between neighbouring windows in pixels (default: a quarter of the window; pixel models: 0; patch models: at least 2·⌊P/2⌋).")
    var overlap: Int?

    @Option(help: "Windows per forward pass.")
    var batch: Int = 4

    @OptionGroup var outputs: PredictOutputOptions

    func run() throws {
        do {
            if ForestWeights.isForest(checkpoint) { return try runForest() }
            let model = try PredictionModel(path: checkpoint)
            if model.isScene { return try outputs.labelScenes(model: model, input: input, output: output, batch: batch) }
            let w = window ?? model.window
            let predictor = try ScenePredictor(model: model, window: w, overlap: overlap ?? w / 4, batch: batch)
            try outputs.apply(to: predictor)
            let source = try PredictInput(path: input)
            if source.isRepository {
                for dir in [output] + (probabilities.map { [$0] } ?? []) {
                    do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                        throw DataError(path: dir, "cannot create the output directory: \(error.localizedDescription)")
                    }
                }
            }
            for tile in source.tiles {
                let out = source.isRepository ? output + "/" + tile + ".tif" : output
                let prob = probabilities.map { source.isRepository ? $0 + "/" + tile + ".tif" : $0 }
                let s = try predictor.predict(repository: source.repository, tile: tile, output: out, probabilities: prob)
                let share = 100 * Double(s.classified) / Double(max(s.width * s.height, 1))
                print(String(format: "%@: %d×%d px, %d windows, %.1f%% %@ → %@", tile, s.width, s.height, s.windows, share,
                             predictor.isRegression ? "with values" : "classified", out))
            }
        } catch {
            // DataError, WeightsMismatch, model errors: each names its file or key.
            FileHandle.standardError.write(Data("rstrain predict: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// A random forest's file (rstrain_model arch "random_forest"): `ForestMapper`.
    private func runForest() throws {
        let mapper = try ForestMapper(path: checkpoint, window: window)
        let source = try PredictInput(path: input)
        if source.isRepository {
            for dir in [output] + (probabilities.map { [$0] } ?? []) {
                do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                    throw DataError(path: dir, "cannot create the output directory: \(error.localizedDescription)")
                }
            }
        }
        for tile in source.tiles {
            let out = source.isRepository ? output + "/" + tile + ".tif" : output
            let prob = probabilities.map { source.isRepository ? $0 + "/" + tile + ".tif" : $0 }
            let s = try mapper.predict(repository: source.repository, tile: tile, output: out, probabilities: prob)
            let share = 100 * Double(s.classified) / Double(max(s.width * s.height, 1))
            print(String(format: "%@: %d×%d px, %d windows, %.1f%% classified (random forest) → %@", tile, s.width, s.height, s.windows, share, out))
        }
    }
}
