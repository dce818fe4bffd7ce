import DataIO
import Engine
import Foundation
import Models
import Settings

/// How a model is fed from dataset samples, chosen from the shapes (docs/config.md, "How a
/// model is fed"):
/// - `dense`: the model maps a window C×[T×]W×W to K×W×W (segmentation, regression): one model
///   row per window, per-pixel targets and mask;
/// - `patches`: the model classifies a P×P patch (output K): each window is cut into
///   ⌊W/P⌋² centred patches, each labelled by its centre pixel (masked if that pixel is);
/// - `pixels`: the model takes a C×T sequence (TempCNN, pixel classifiers): one row per pixel;
/// - `scene`: the dataset labels whole samples (So2Sat, chips): one row per sample.
public struct Feed: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case dense
        case patches(size: Int)
        case pixels
        case scene
    }

    public let kind: Kind
    /// Model rows per dataset sample.
    public let rowsPerSample: Int
    /// The model's per-row input shape.
    public let input: [Int]
    public let sample: SampleShapes
    /// Patches per window side and the offset of the first patch.
    public let perSide: Int, offset: Int
    /// The model's outputs per row (class scores or regression targets), as probed.
    public var outputs = 0

    /// The feed of `models[i]` on samples shaped `sample`, its loss checked against the targets.
    public static func choose(for m: ModelConfig, index i: Int, sample: SampleShapes, scene: Bool, file: String) throws -> Feed {
        if m.loss == .binaryCrossEntropy, sample.soft == nil {
            throw ConfigError(key: "models[\(i)].loss", "binary_cross_entropy needs class proportions as targets (data.labels \"proportions\", or So2Sat's soft labels)", context: file)
        }
        let feed = try choose(spec: m.model!, sample: sample, scene: scene, key: "models[\(i)].model", file: file)
        // Data without class labels (0 classes) is refused by what needs them, with its own words.
        if !m.loss.isRegression, sample.classes > 0, feed.outputs != sample.classes {
            throw ConfigError(key: "models[\(i)].model.classes", "is \(feed.outputs) but the data has \(sample.classes) classes (data.classes or the shards' class table): the model must output one score per class", context: file)
        }
        return feed
    }

    /// Picks the feed for a model (`spec`) on samples shaped `sample`; errors name models[i].
    public static func choose(spec: ModelSpec, sample: SampleShapes, scene: Bool, key: String, file: String) throws -> Feed {
        do { return try pick(spec: spec, sample: sample, scene: scene, key: key, file: file) } catch let e as ConfigError where e.context != file {
            // A builder's own error ("model unet: key 'bands' ..."): name it by its place in the config.
            throw ConfigError(key: "\(key).\(e.key)", "\(e.message) (\(e.context))", context: file)
        }
    }

    private static func pick(spec: ModelSpec, sample: SampleShapes, scene: Bool, key: String, file: String) throws -> Feed {
        let img = sample.image.dims, c = img[0]
        let fail = { (m: String) in ConfigError(key: key, m, context: file) }
        let w = img.last!, spatialRank = img.count == 4 ? 3 : 2
        // The model built for the data's window is a dense model's one probe. A model that takes
        // something else (a sequence, a patch) fails there or pools it to one output; its natural
        // input then says what to cut from the window.
        if !scene, let m = try? spec.build(input: img), !m.outputShape.spatial.isEmpty {
            guard m.outputShape.spatial == [w, w] || m.outputShape.spatial == Array(img.dropFirst()) else {
                throw fail("outputs \(m.outputShape.spatial.map(String.init).joined(separator: "×")) per \(img.map(String.init).joined(separator: "×")) window; a dense model must keep the window's \(w)×\(w) grid")
            }
            return Feed(kind: .dense, rowsPerSample: 1, input: img, sample: sample, perSide: 1, offset: 0, outputs: m.outputShape.channels)
        }
        let natural = try spec.build()
        let outSpatial = natural.outputShape.spatial, inDims = Array(natural.inputShape.dims.dropFirst())
        if scene {
            guard outSpatial.isEmpty else { throw fail("makes per-pixel outputs, but \(file)'s data labels whole samples (use a scene head)") }
            return Feed(kind: .scene, rowsPerSample: 1, input: img, sample: sample, perSide: 1, offset: 0,
                        outputs: natural.outputShape.channels)
        }
        if !outSpatial.isEmpty {
            // A dense model that cannot take the window: building it there says why.
            _ = try spec.build(input: img)
            throw fail("cannot be built for \(img.map(String.init).joined(separator: "×")) windows")
        }
        if inDims.count == 2 {
            // C×L sequences: L must be the number of dates.
            let t = img.count == 4 ? img[1] : 1
            guard inDims == [c, t] else {
                throw fail("takes \(inDims[0])×\(inDims[1]) (bands × dates) sequences, but the data has \(c) bands × \(t) date\(t == 1 ? "" : "s")")
            }
            return Feed(kind: .pixels, rowsPerSample: w * w, input: [c, t], sample: sample, perSide: 1, offset: 0,
                        outputs: natural.outputShape.channels)
        }
        guard inDims.count == spatialRank + 1, inDims[0] == c, let p = inDims.last, p <= w else {
            throw fail("takes \(inDims.map(String.init).joined(separator: "×")) inputs, which cannot be cut from \(img.map(String.init).joined(separator: "×")) windows")
        }
        if spatialRank == 3, inDims[1] != img[1] {
            throw fail("takes \(inDims[1]) dates, the data has \(img[1])")
        }
        let per = w / p
        return Feed(kind: .patches(size: p), rowsPerSample: per * per, input: inDims, sample: sample,
                    perSide: per, offset: (w - per * p) / 2, outputs: natural.outputShape.channels)
    }

    /// Copies rows 0..<batch.count of `batch` into the model input `x` (rows·rowsPerSample × input)
    /// and the targets; rows past `batch.count` are masked out.
    public func fill(_ batch: SampleBatch, input x: Tensor, targets t: FeedTargets) {
        let s = sample, n = batch.count, cap = x.shape.batch / rowsPerSample
        let imgN = s.image.count, hw = s.mask.count, k = s.classes
        t.mask.tensor.zero()
        if let h = t.hard { for i in 0..<h.shape.count { h.data[i] = -1 } }
        t.soft?.tensor.zero()
        t.regression?.tensor.zero()
        let img = batch.image.data, msk = batch.mask.data
        switch kind {
        case .dense:
            x.zero()
            memcpy(x.data, img, n * imgN * 4)
            memcpy(t.mask.data, msk, n * hw * 4)
            if let soft = t.soft, let b = batch.soft { memcpy(soft.data, b.data, n * k * hw * 4) }
            if let hard = t.hard, let b = batch.hard { memcpy(hard.data, b.data, n * hw * 4) }
            if let r = t.regression, let b = batch.target { memcpy(r.data, b.data, n * r.tensor.shape.count / cap * 4) }
        case .scene:
            x.zero()
            memcpy(x.data, img, n * imgN * 4)
            for i in 0..<n { t.mask.data[i] = 1 }
            if let soft = t.soft, let b = batch.soft { memcpy(soft.data, b.data, n * k * 4) }
            if let hard = t.hard, let b = batch.hard { memcpy(hard.data, b.data, n * 4) }
        case .pixels:
            // image i×C×T×HW → row (i·HW + p) × C×T.
            let ct = imgN / hw
            for i in 0..<n {
                let src = img + i * imgN, dst = x.data + i * hw * ct
                for q in 0..<ct { for p in 0..<hw { dst[p * ct + q] = src[q * hw + p] } }
                for p in 0..<hw { t.mask.data[i * hw + p] = msk[i * hw + p] }
                copyLabels(batch, sample: i, pixel: { $0 }, rows: i * hw, count: hw, t)
            }
            if n < cap { memset(x.data + n * hw * ct, 0, (cap - n) * hw * ct * 4) }
        case .patches(let p):
            let w = s.image.dims.last!, planes = imgN / hw, per = perSide, o = offset
            for i in 0..<n {
                let src = img + i * imgN
                for py in 0..<per {
                    for px in 0..<per {
                        let row = i * per * per + py * per + px, dst = x.data + row * planes * p * p
                        for q in 0..<planes {
                            for y in 0..<p {
                                memcpy(dst + (q * p + y) * p, src + q * hw + (o + py * p + y) * w + o + px * p, p * 4)
                            }
                        }
                        let centre = (o + py * p + p / 2) * w + o + px * p + p / 2
                        t.mask.data[row] = msk[i * hw + centre]
                        copyLabels(batch, sample: i, pixel: { _ in centre }, rows: row, count: 1, t)
                    }
                }
            }
            if n < cap { memset(x.data + n * rowsPerSample * planes * p * p, 0, (cap - n) * rowsPerSample * planes * p * p * 4) }
        }
    }

    /// Labels of `count` output rows starting at `rows`, from pixels pixel(0..<count) of sample i.
    private func copyLabels(_ batch: SampleBatch, sample i: Int, pixel: (Int) -> Int, rows: Int, count: Int, _ t: FeedTargets) {
        let hw = sample.mask.count, k = sample.classes
        if let hard = t.hard, let b = batch.hard {
            for j in 0..<count { hard.data[rows + j] = b.data[i * hw + pixel(j)] }
        }
        if let soft = t.soft, let b = batch.soft {
            for j in 0..<count { for c in 0..<k { soft.data[(rows + j) * k + c] = b.data[(i * k + c) * hw + pixel(j)] } }
        }
    }
}

/// The loss's inputs for one model batch: a mask per output pixel (1 counts), and soft targets
/// (N×K×spatial), hard labels (N×spatial) or regression targets (the output's shape).
public final class FeedTargets {
    public let mask: HostTensor
    public let soft: HostTensor?
    public let hard: HostLabelTensor?
    public let regression: HostTensor?

    public init(output: Shape, sample: SampleShapes, task: Task) {
        let pixels = Shape([output.batch] + output.spatial)
        mask = HostTensor(pixels)
        if task == .regression {
            regression = HostTensor(output); soft = nil; hard = nil
        } else if sample.soft != nil {
            soft = HostTensor(output); hard = nil; regression = nil
        } else {
            hard = HostLabelTensor(pixels); soft = nil; regression = nil
        }
    }
}
