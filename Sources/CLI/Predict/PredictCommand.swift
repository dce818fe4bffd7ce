import ArgumentParser
import DataIO
import Distributed
import Foundation
import Models
import Forest
import Prediction

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Map a tile (or every tile of a repository) with a trained dense, pixel or patch model or a random forest, or label windows or samples with a scene classifier.",
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
        valid pixel with the forest (probabilities: the trees' mean leaf frequencies). Under \
        mpirun, a repository's tiles are shared by the ranks (--input/--output may hold {host} \
        and {rank}: each rank reads its own disk) and one scene's window rows are split into \
        bands, rank 0 writing the files. See docs/predict.md and docs/baseline.md.
        """
    )

    @Option(help: "A final weights file: run_dir/final/<model>.h5.")
    var checkpoint: String

    @Option(help: "A tile folder (inside a tile repository) or a whole tile repository; may hold {host} and {rank}.")
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
        // DataError, WeightsMismatch, model errors: each names its file or key.
        let status = MPIJob.run("rstrain predict", describe: { named("\($0)") }) { world in
            try predict(world: world)
            return 0
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// An error text with a GeoTIFF scene's temporary tile link (`SceneFolder`) named as the user
    /// gave the scene.
    func named(_ text: String) -> String {
        text.replacingOccurrences(of: #"[^\s']*/rstrain-scene-[0-9]+-[0-9A-Fa-f]+/[^/\s]+/image\.tif"#, with: input,
                                  options: .regularExpression)
    }

    /// What maps a tile: a dense/pixel/patch model, a random forest, or a scene classifier.
    enum Mapper {
        case scene(ScenePredictor)
        case forest(ForestMapper)
        case labels(SceneLabeller)
    }

    func makeMapper() throws -> Mapper {
        if ForestWeights.isForest(checkpoint) {
            let m = try ForestMapper(path: checkpoint, window: window)
            m.outputOptions = outputs.options
            if outputs.stride != nil || outputs.raster != nil { throw DataError(path: checkpoint, "--stride and --raster apply to scene classifiers only") }
            return .forest(m)
        }
        let model = try PredictionModel(path: checkpoint)
        if model.isScene { return .labels(try outputs.labeller(model: model, batch: batch)) }
        let w = window ?? model.window
        let p = try ScenePredictor(model: model, window: w, overlap: overlap ?? w / 4, batch: batch)
        try outputs.apply(to: p)
        return .scene(p)
    }

    func predict(world: Communicator) throws {
        var built: Mapper?, problem = ""
        do { built = try makeMapper() } catch {
            problem = world.size > 1 ? "rank \(world.rank) (\(world.hostname)): \(error)" : "\(error)"
        }
        // Every rank learns whether any failed, so none is left waiting in a collective.
        if let first = try world.allgather(string: problem).first(where: { !$0.isEmpty }) {
            throw SharedFailure(["rstrain predict: \(named(first))"])
        }
        let mapper = built!
        // So2Sat files and chip folders have no tiles: rank 0 labels every sample.
        if case .labels(let l) = mapper, outputs.isSampleInput(input) {
            if world.rank == 0 { try outputs.labelSamples(l, input: input, output: output) }
            return
        }
        let tiles: DistributedTiles
        do { tiles = try DistributedTiles(input: input, output: output, world: world) } catch {
            throw SharedFailure(["rstrain predict: \(named("\(error)"))"])  // DistributedTiles agrees on its errors
        }
        func line(_ s: PredictionSummary, _ out: String, _ what: String) -> String {
            let share = 100 * Double(s.classified) / Double(max(s.width * s.height, 1))
            return String(format: "%@: %d×%d px, %d windows, %.1f%% %@ → %@", s.tile, s.width, s.height, s.windows, share, what, out)
        }
        // One tile folder named alike on every rank: the ranks share its window rows.
        let sharedScene = world.size > 1 && !input.contains("{rank}") && !input.contains("{host}")
            && tiles.ranksWithout.isEmpty && tiles.input?.isRepository == false
        if sharedScene, case .scene(let predictor) = mapper, let source = tiles.input {
            let s = try predictor.predict(repository: source.repository, tile: source.tiles[0], output: tiles.outputPath,
                                          probabilities: probabilities, world: world)
            if world.rank == 0 { print(line(s, tiles.outputPath, predictor.isRegression ? "with values" : "classified") + " (\(world.size) ranks)") }
            return
        }
        let repository = tiles.input?.isRepository ?? true
        let probs = probabilities.map { DistributedTiles.expand($0, world: world) }
        let raster = outputs.raster.map { DistributedTiles.expand($0, world: world) }
        if repository, !tiles.tiles.isEmpty {
            for dir in [tiles.outputPath] + (probs.map { [$0] } ?? []) + (raster.map { [$0] } ?? []) {
                do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                    throw DataError(path: dir, "cannot create the output directory: \(error.localizedDescription)")
                }
            }
        }
        let lines = try tiles.run { repo, tile in
            let ext = if case .labels = mapper { ".csv" } else { ".tif" }
            let out = repository ? tiles.outputPath + "/" + tile + ext : tiles.outputPath
            let prob = probs.map { repository ? $0 + "/" + tile + ".tif" : $0 }
            let text: String
            switch mapper {
            case .scene(let p):
                let s = try p.predict(repository: repo, tile: tile, output: out, probabilities: prob)
                text = line(s, out, p.isRegression ? "with values" : "classified")
            case .forest(let f):
                let s = try f.predict(repository: repo, tile: tile, output: out, probabilities: prob)
                text = line(s, out, "classified (random forest)")
            case .labels(let l):
                if probabilities != nil { throw DataError(path: checkpoint, "a scene classifier writes its probabilities into the CSV: no --probabilities") }
                let r = raster.map { repository ? $0 + "/" + tile + ".tif" : $0 }
                let s = try l.labelTile(repository: repo, tile: tile, stride: outputs.stride, csv: out, raster: r)
                text = "\(tile): \(s.columns)×\(s.rows) windows, \(s.labelled) labelled → \(out)"
            }
            guard world.size > 1 else { print(text); return "" }  // one process: as each tile is done
            return text + " (rank \(world.rank) \(world.hostname))"
        }
        guard let lines, world.size > 1, world.rank == 0 else { return }
        for l in lines { print(l) }
        print("\(lines.count) tile\(lines.count == 1 ? "" : "s") mapped by \(world.size) ranks")
    }
}
