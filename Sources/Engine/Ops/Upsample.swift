/// Upsampling by integer factors per spatial dim. Shapes:
///   N×C×L → N×C×(sL)   N×C×H×W → N×C×(sH·H)×(sW·W)   N×C×D×H×W → N×C×(sD·D)×(sH·H)×(sW·W)
/// nearest: y[o] = x[⌊o / s⌋] in each dim.
/// linear (linear in 1D, bilinear in 2D, trilinear in 3D), align_corners = false as PyTorch's
/// default: output o samples input coordinate (o + ½)/s − ½, clamped to [0, n − 1], so pixel
/// centres (not corners) line up and a factor of 1 is the identity.
public struct Upsample: Layer {
    public enum Interpolation: Sendable, Equatable { case nearest, linear }

    public let scale: [Int]
    public let interpolation: Interpolation

    /// `scale`: one factor for every spatial dim, or one per dim (e.g. [1, 2, 2] keeps the
    /// dates of an N×C×D×H×W series and doubles H and W).
    public init(scale: [Int], _ interpolation: Interpolation = .nearest) {
        self.scale = scale; self.interpolation = interpolation
    }
    public init(scale: Int, _ interpolation: Interpolation = .nearest) {
        self.init(scale: [scale], interpolation)
    }

    public var kind: String { interpolation == .nearest ? "upsample_nearest" : "upsample_linear" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        let s = inputs[0]
        try Extent3.requireSpatial(s, layer: name)
        try Extent3.check(scale, for: s, min: 1, what: "scale", layer: name)
        let f = Extent3(setting: scale, rank: s.rank - 2, fill: 1), i = s.spatial3
        let o = [i.d * f.d, i.h * f.h, i.w * f.w]
        return Shape(Array(s.dims.prefix(2)) + o.suffix(s.rank - 2))
    }

    public func forward(_ c: LayerContext, mode: Mode) {
        let x = c.inputs[0].data, y = c.output.data
        let I = Extent3(spatialOf: c.inputs[0].shape), O = Extent3(spatialOf: c.output.shape)
        let f = Extent3(setting: scale, rank: c.inputs[0].shape.rank - 2, fill: 1)
        let planes = c.output.shape[0] * c.output.shape[1]
        switch interpolation {
        case .nearest:
            // y[od, oh, ow] = x[od/sd, oh/sh, ow/sw]
            for pl in 0..<planes {
                let xp = x + pl * I.count, yp = y + pl * O.count
                for od in 0..<O.d {
                    for oh in 0..<O.h {
                        let xr = xp + (od / f.d) * I.h * I.w + (oh / f.h) * I.w
                        let yr = yp + (od * O.h + oh) * O.w
                        for iw in 0..<I.w {
                            let v = xr[iw], yw = yr + iw * f.w
                            for k in 0..<f.w { yw[k] = v }
                        }
                    }
                }
            }
        case .linear:
            // y = Σ over the 2×2×2 neighbours of the source point, weighted by the corner lerps
            Self.linearWalk(I, O, f, planes) { xo, yo, n, r, a, w0, w1, lw in
                let l0 = 1 - lw
                var v: Float = 0
                for k in 0..<n { let row = x + xo + r[k]; v += a[k] * (l0 * row[w0] + lw * row[w1]) }
                y[yo] = v
            }
        }
    }

    // backward: the transpose of forward: each dy[o] is spread over the inputs it read, with the
    // same weights (nearest: summed over its s_d·s_h·s_w block).
    public func backward(_ c: LayerContext, mode: Mode) {
        guard let dxT = c.dInputs[0] else { return }
        let dx = dxT.data, dy = c.dOutput.data
        let I = Extent3(spatialOf: dxT.shape), O = Extent3(spatialOf: c.dOutput.shape)
        let f = Extent3(setting: scale, rank: dxT.shape.rank - 2, fill: 1)
        let planes = c.output.shape[0] * c.output.shape[1]
        switch interpolation {
        case .nearest:
            for pl in 0..<planes {
                let xp = dx + pl * I.count, yp = dy + pl * O.count
                for od in 0..<O.d {
                    for oh in 0..<O.h {
                        let xr = xp + (od / f.d) * I.h * I.w + (oh / f.h) * I.w
                        let yr = yp + (od * O.h + oh) * O.w
                        for iw in 0..<I.w {
                            let yw = yr + iw * f.w
                            var s: Float = 0
                            for k in 0..<f.w { s += yw[k] }
                            xr[iw] += s
                        }
                    }
                }
            }
        case .linear:
            Self.linearWalk(I, O, f, planes) { xo, yo, n, r, a, w0, w1, lw in
                let g = dy[yo], l0 = 1 - lw
                for k in 0..<n {
                    let row = dx + xo + r[k], ga = a[k] * g
                    row[w0] += l0 * ga
                    row[w1] += lw * ga
                }
            }
        }
    }

    /// Source of output index `o` along a dim of `n` inputs upsampled by `s` (align_corners =
    /// false): the two neighbours and the weight of the second.
    @inline(__always)
    static func source(_ o: Int, _ inv: Float, _ n: Int) -> (Int, Int, Float) {
        let t = max((Float(o) + 0.5) * inv - 0.5, 0)
        let i0 = Int(t)
        return (i0, i0 < n - 1 ? i0 + 1 : i0, t - Float(i0))
    }

    /// Calls `body(planeOffset, outputIndex, rowCount, rowOffsets, rowWeights, w0, w1, λw)` for
    /// every output: rows (d0,h0), (d0,h1), (d1,h0), (d1,h1) weigh (1−λd)(1−λh), (1−λd)λh,
    /// λd(1−λh), λd·λh; only the first `rowCount` (those with non-zero weight) are passed.
    @inline(__always)
    static func linearWalk(_ I: Extent3, _ O: Extent3, _ f: Extent3, _ planes: Int,
                           _ body: (Int, Int, Int, SIMD4<Int>, SIMD4<Float>, Int, Int, Float) -> Void) {
        let invD = 1 / Float(f.d), invH = 1 / Float(f.h), invW = 1 / Float(f.w)
        let hw = I.h * I.w
        var yo = 0
        for pl in 0..<planes {
            let xo = pl * I.count
            for od in 0..<O.d {
                let (d0, d1, ld) = source(od, invD, I.d)
                for oh in 0..<O.h {
                    let (h0, h1, lh) = source(oh, invH, I.h)
                    var r = SIMD4(d0 * hw + h0 * I.w, d0 * hw + h1 * I.w, d1 * hw + h0 * I.w, d1 * hw + h1 * I.w)
                    var a = SIMD4((1 - ld) * (1 - lh), (1 - ld) * lh, ld * (1 - lh), ld * lh)
                    // Pack the rows with non-zero weight first (2D has λd = 0 throughout, 1D
                    // also λh = 0), so lower ranks do not pay for trilinear.
                    var n = ld == 0 ? 2 : 4
                    if lh == 0 { r[1] = r[2]; a[1] = a[2]; n /= 2 }
                    for ow in 0..<O.w {
                        let (w0, w1, lw) = source(ow, invW, I.w)
                        body(xo, yo, n, r, a, w0, w1, lw)
                        yo += 1
                    }
                }
            }
        }
    }
}
