import DataIO
import Engine
import Foundation
import Models
import Experiment

/// A trained model as `rstrain predict` loads it: a final weights file (`FinalWeights`) with
/// the root attributes the trainer writes (`rstrain_model`, `rstrain_data`,
/// `rstrain_normalization`, JSON texts) that say how the model saw its data.
public struct PredictionModel: @unchecked Sendable {
    public let path: String
    /// What the weights file says of the data the model was trained on.
    public let metadata: WeightsMetadata
    /// The training window side (a scene model's: its sample's).
    public let window: Int
    /// The neural model's spec, parsed once (nil for a random forest's file).
    public let modelSpec: ModelSpec?

    public var spec: [String: Any] { metadata.spec }
    public var arch: String { metadata.arch }
    public var bands: [String]? { metadata.bands }
    public var resolution: Double? { metadata.resolution }
    public var resampling: TileOptions.Resampling { metadata.resampling }
    public var classes: Int { metadata.classes }
    public var sample: [Int] { metadata.sample }
    public var normalization: Normalization { metadata.normalization }
    public var dataKind: String { metadata.dataKind }
    public var modality: String? { metadata.modality }
    public var maskAnyDate: Bool { metadata.maskAnyDate }
    /// A scene classifier: one class vector per sample (trained on So2Sat or chips), applied by
    /// `SceneLabeller` to windows or chips rather than by `ScenePredictor` to pixels.
    public var isScene: Bool { dataKind != "tiles" }

    /// Class names for maps and reports: the tile's class table where it has one, else the
    /// names training recorded, else numbers.
    public func classNames(table: ClassTable?) -> [String] {
        table?.names ?? metadata.classNames ?? (0..<classes).map { "class \($0)" }
    }

    /// The colour table for a map of classes `names`: the colours training recorded for these
    /// names, else the palette's (ISPRS colours for its six classes).
    public func palette(names: [String]) -> [(UInt8, UInt8, UInt8, UInt8)] {
        if names == metadata.classNames, let hex = metadata.classColors, let t = ClassPalette.table(hex: hex) { return t }
        return ClassPalette.table(names: names)
    }

    public init(path: String) throws {
        self.path = path
        metadata = try WeightsMetadata(path: path)
        window = metadata.dataKind == "tiles" ? metadata.window : metadata.sample.last!
        modelSpec = metadata.arch == "random_forest" ? nil : try Self.parse(metadata.spec, path: path)
    }

    static func parse(_ spec: [String: Any], path: String) throws -> ModelSpec {
        do { return try ModelSpec(spec) } catch {
            throw DataError(path: path, object: "attribute rstrain_model", "is not a model rstrain can build: \(error)")
        }
    }

    /// The parsed spec; a forest's file has none.
    func neuralSpec() throws -> ModelSpec {
        guard let modelSpec else { throw DataError(path: path, "holds a random forest, not a neural model") }
        return modelSpec
    }

    /// How a model maps the tile to its output (docs/config.md, "How a model is fed").
    public enum Kind: Sendable, Equatable {
        /// A W×W window → C×(s·W)×(s·W) (classes: C = K, s = 1; regression: any s ≥ 1).
        case dense(factor: Int)
        /// One C×T sequence per pixel → K class scores (TempCNN, pixel_twobranch).
        case pixels
        /// One C×[T×]P×P patch centred on each pixel → K class scores (ResNet on tiles).
        case patches(size: Int)
    }

    /// The model for `batch` windows of side `window`, with the trained weights, ready for
    /// inference, and how it is fed: dense classifiers (K×W×W class scores per window), dense
    /// regression models (R×(s·W)×(s·W) values), pixel classifiers (K scores per C×T sequence)
    /// and patch classifiers (K scores per P×P patch), the last two run on every pixel of
    /// `batch` windows at once (B·W² rows); the rest is refused.
    public func build(window w: Int, batch: Int) throws -> (model: Model, executor: Executor, kind: Kind) {
        guard !isScene else {
            throw DataError(path: path, "\(arch) is a scene classifier trained on \(dataKind) data (one label per sample): it labels windows or chips (SceneLabeller, docs/predict.md), not pixels")
        }
        let image = Array(sample.dropLast(2)) + [w, w], (c, t) = (sample[0], sample.count == 4 ? sample[1] : 1)
        var input = image, rows = batch, patch: Int?
        let spec = try neuralSpec()
        if let natural = try? spec.build(), natural.outputShape.spatial.isEmpty {
            // One output per model row: on tiles, training fed it a row per pixel (Feed).
            let dims = Array(natural.inputShape.dims.dropFirst()), shown = dims.map(String.init).joined(separator: "×")
            if dims.count == 2 {
                // A sequence model: every pixel of the windows is a C×T row.
                guard dims == [c, t] else {
                    throw DataError(path: path, "\(arch) takes \(shown) (bands × dates) sequences, but it was trained on \(c)×\(t)")
                }
            } else {
                // A patch model: every pixel's centred P×P patch is a row.
                guard dims.count == image.count, dims[0] == c, image.count == 3 || dims[1] == t, let p = dims.last, p <= w, dims[dims.count - 2] == p else {
                    throw DataError(path: path, "\(arch) takes \(shown) inputs, which cannot be cut from \(image.map(String.init).joined(separator: "×")) windows")
                }
                patch = p
            }
            (input, rows) = (dims, batch * w * w)
        }
        let model: Model
        do { model = try spec.build(batch: rows, input: input) } catch {
            throw DataError(path: path, object: "attribute rstrain_model", "cannot build \(arch) for \(input.map(String.init).joined(separator: "×")) inputs: \(error)")
        }
        let out = model.outputShape
        let what = out.spatial.isEmpty ? "a scene \(model.task == .regression ? "regressor" : "classifier") (one output per sample)"
            : "a model whose output is \(out.dims.dropFirst().map(String.init).joined(separator: "×")) per window"
        let kind: Kind
        if rows != batch {
            guard model.task == .classification, out.spatial.isEmpty, out.channels == classes else {
                throw DataError(path: path, "predict supports pixel and patch classifiers with \(classes) class scores per pixel; \(arch) outputs \(out.dims.dropFirst().map(String.init).joined(separator: "×"))")
            }
            kind = patch.map { .patches(size: $0) } ?? .pixels
        } else if model.task == .regression {
            guard out.spatial.count == 2, out.spatial[0] == out.spatial[1], out.spatial[0] >= w, out.spatial[0] % w == 0 else {
                throw DataError(path: path, "predict supports dense regression models (R×(s·W)×(s·W) output per W×W window); \(arch) is \(what)")
            }
            kind = .dense(factor: out.spatial[0] / w)
        } else {
            guard out.spatial == [w, w], out.channels == classes else {
                throw DataError(path: path, "predict supports dense, pixel and patch classifiers (K×W×W output per window); \(arch) is \(what)")
            }
            kind = .dense(factor: 1)
        }
        let ex = try model.plan()
        try WeightsFile.load(ex.parameters, from: path)
        return (model, ex, kind)
    }

    /// A scene classifier for `batch` samples shaped as in training (`sample`), with the
    /// trained weights: K class scores per sample.
    public func buildScene(batch: Int) throws -> (model: Model, executor: Executor) {
        guard isScene else { throw DataError(path: path, "\(arch) was trained on tiles: it maps pixels (ScenePredictor), not scenes") }
        let model: Model
        do { model = try neuralSpec().build(batch: batch, input: sample) } catch {
            throw DataError(path: path, object: "attribute rstrain_model", "cannot build \(arch) for \(sample.map(String.init).joined(separator: "×")) inputs: \(error)")
        }
        guard model.task == .classification, model.outputShape.spatial.isEmpty, model.outputShape.channels == classes else {
            throw DataError(path: path, "a scene classifier must output \(classes) class scores per sample; \(arch) outputs \(model.outputShape.dims.dropFirst().map(String.init).joined(separator: "×"))")
        }
        let ex = try model.plan()
        try WeightsFile.load(ex.parameters, from: path)
        return (model, ex)
    }

    /// Tile `tile` of `repository` in windows read with `options` (its index in the grid's
    /// plans), checked to give the model's C×[T×]W×W samples.
    func windows(of tile: String, in repository: TileRepository, options: TileOptions) throws -> (grid: WindowGrid, tile: Int) {
        let grid = try WindowGrid(repository, options: options)
        guard let ti = grid.plans.firstIndex(where: { $0.tile.name == tile }) else {
            throw DataError(path: repository.path, "has no tile '\(tile)'")
        }
        let want = Array(sample.dropLast(2)) + [options.windowSize, options.windowSize]
        guard grid.layout.imageShape.dims == want else {
            throw DataError(path: grid.plans[ti].tile.path, "gives \(grid.layout.imageShape) windows but \(path) takes \(want.map(String.init).joined(separator: "×")) (bands \(grid.bandNames.joined(separator: ", ")))")
        }
        return (grid, ti)
    }
}
