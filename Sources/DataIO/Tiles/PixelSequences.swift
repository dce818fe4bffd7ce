import Engine

/// Per-pixel sequences of a window (TempCNN-style inputs): for each valid pixel, its C×T
/// values (bands outermost, then dates; rstrain's 1D layout N×C×L with L = dates), with its
/// labels and targets.
public struct PixelSequences: Sendable {
    /// N×C×T.
    public let shape: Shape
    public let values: [Float]
    /// Row-major pixel index (y·S + x) of each sequence within the window.
    public let pixels: [Int32]
    /// N class indices (label mode `.hard`).
    public let hardLabels: [Int32]?
    /// N×K class proportions (label mode `.proportions`).
    public let proportions: [Float]?
    /// N×R targets (when read).
    public let targets: [Float]?
    /// N×T: 1 where the pixel has the date, 0 where it is missing (its values are 0 there);
    /// with a date mask only (`maskAnyDate` false).
    public let dates: [Float]?

    public var count: Int { pixels.count }

    /// The valid pixels of `sample` (mask = 1), in row-major order.
    public init(_ sample: WindowSample) {
        let l = sample.layout
        let n = l.pixels, c = l.channels, t = l.dates
        var px: [Int32] = []
        for p in 0..<n where sample.mask.data[p] != 0 { px.append(Int32(p)) }
        let img = sample.image.data
        var v = [Float](repeating: 0, count: px.count * c * t)
        for (i, p) in px.enumerated() {
            for q in 0..<(c * t) { v[i * c * t + q] = img[q * n + Int(p)] }
        }
        shape = Shape(px.count, c, t)
        values = v
        pixels = px
        hardLabels = sample.hardLabels.map { h in px.map { h[Int($0)] } }
        proportions = sample.proportions.map { pr in
            var out = [Float](repeating: 0, count: px.count * l.classes)
            for (i, p) in px.enumerated() { for k in 0..<l.classes { out[i * l.classes + k] = pr.data[k * n + Int(p)] } }
            return out
        }
        targets = sample.target.map { tg in
            var out = [Float](repeating: 0, count: px.count * l.targetBands)
            for (i, p) in px.enumerated() { for b in 0..<l.targetBands { out[i * l.targetBands + b] = tg.data[b * n + Int(p)] } }
            return out
        }
        dates = sample.dateMask.map { dm in
            var out = [Float](repeating: 0, count: px.count * t)
            for (i, p) in px.enumerated() { for d in 0..<t { out[i * t + d] = dm.data[d * n + Int(p)] } }
            return out
        }
    }
}
