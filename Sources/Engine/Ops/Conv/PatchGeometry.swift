/// Patch extraction shared by `Conv` and `ConvTranspose`. Shapes (one sample):
///   image    C×D×H×W            (1D and 2D run as D = H = 1, see `Shape.spatial3`)
///   columns  K×P                K = C·kd·kh·kw rows ordered (c, kd, kh, kw), i.e. the trailing
///                               dims of a PyTorch weight [O, C, kd, kh, kw] flattened;
///                               P = oD·oH·oW output positions.
/// A "line" is one (od, oh) pair: oW consecutive columns. Work is cut into chunks of whole
/// lines (or of whole samples when a sample has few positions) so the columns stay in cache
/// between im2col and the GEMM that reads them.

/// Size of padded spatial dim `j` (0 = D, 1 = H, 2 = W) of an N×C×... shape (1 where absent).
/// Unlike `spatial3` this does not allocate, so ops can call it in forward/backward.
@inline(__always)
func spatialSize(_ s: Shape, _ j: Int) -> Int {
    let k = j - 3 + s.rank
    return k >= 2 ? s.dims[k] : 1
}

/// One convolution seen as im2col between an image and its columns (see the file header).
struct PatchGeometry {
    var channels: Int
    var d, h, w: Int
    var od, oh, ow: Int
    var kd, kh, kw: Int
    var sd, sh, sw: Int
    var pd, ph, pw: Int
    var dd, dh, dw: Int

    /// Geometry of a convolution reading `image` (N×C×...) with `settings` and producing
    /// positions of size `outSpatial` (the conv's output, or a transposed conv's input).
    init(image: Shape, outSpatial: Shape, settings s: ConvSettings) {
        let sr = image.rank - 2
        channels = image.dims[1]
        d = spatialSize(image, 0); h = spatialSize(image, 1); w = spatialSize(image, 2)
        od = spatialSize(outSpatial, 0); oh = spatialSize(outSpatial, 1); ow = spatialSize(outSpatial, 2)
        kd = ConvSettings.at(s.kernel, 0, spatialRank: sr, missing: 1)
        kh = ConvSettings.at(s.kernel, 1, spatialRank: sr, missing: 1)
        kw = ConvSettings.at(s.kernel, 2, spatialRank: sr, missing: 1)
        sd = ConvSettings.at(s.stride, 0, spatialRank: sr, missing: 1)
        sh = ConvSettings.at(s.stride, 1, spatialRank: sr, missing: 1)
        sw = ConvSettings.at(s.stride, 2, spatialRank: sr, missing: 1)
        pd = ConvSettings.at(s.padding, 0, spatialRank: sr, missing: 0)
        ph = ConvSettings.at(s.padding, 1, spatialRank: sr, missing: 0)
        pw = ConvSettings.at(s.padding, 2, spatialRank: sr, missing: 0)
        dd = ConvSettings.at(s.dilation, 0, spatialRank: sr, missing: 1)
        dh = ConvSettings.at(s.dilation, 1, spatialRank: sr, missing: 1)
        dw = ConvSettings.at(s.dilation, 2, spatialRank: sr, missing: 1)
    }

    /// K: rows of the columns (= C·kd·kh·kw).
    var rows: Int { channels * kd * kh * kw }
    /// P: columns per sample (output positions).
    var positions: Int { od * oh * ow }
    var lines: Int { od * oh }
    var imageCount: Int { channels * d * h * w }
    /// A 1×1(×1) kernel with stride 1 and no padding: the image already is its columns.
    var isPointwise: Bool {
        kd == 1 && kh == 1 && kw == 1 && sd == 1 && sh == 1 && sw == 1 && pd == 0 && ph == 0 && pw == 0
            && od == d && oh == h && ow == w
    }
    /// Pointwise with enough positions per sample for a GEMM of its own: the image is
    /// multiplied in place, without columns (with fewer, samples go side by side instead).
    var multipliesInPlace: Bool { isPointwise && positions >= ColumnChunks.minColumns }

    /// Columns (K × lines·oW, row stride `ld`) for output lines `first..<first+count` of one image.
    func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, ld: Int, first: Int, count: Int) {
        let hw = h * w, dhw = d * hw
        var row = col
        for c in 0..<channels {
            let xc = x + c * dhw
            for a in 0..<kd {
                for b in 0..<kh {
                    for e in 0..<kw {
                        let offW = e * dw - pw
                        let (lo, hi) = validRange(offW)
                        var dst = row
                        var zd = first / oh, zh = first % oh
                        for _ in 0..<count {
                            let id = zd * sd - pd + a * dd, ih = zh * sh - ph + b * dh
                            if UInt(bitPattern: id) < UInt(d) && UInt(bitPattern: ih) < UInt(h) {
                                // src[o·sw] is the input under output column o (o in lo..<hi).
                                let src = xc + (id * hw + ih * w + offW)
                                for o in 0..<lo { dst[o] = 0 }
                                if sw == 1 {
                                    (dst + lo).update(from: src + lo, count: hi - lo)
                                } else {
                                    for o in lo..<hi { dst[o] = src[o * sw] }
                                }
                                for o in hi..<ow { dst[o] = 0 }
                            } else {
                                dst.update(repeating: 0, count: ow)
                            }
                            dst += ow
                            zh += 1
                            if zh == oh { zh = 0; zd += 1 }
                        }
                        row += ld
                    }
                }
            }
        }
    }

    /// Adds columns (as laid out by `im2col`) back into the image: the adjoint of `im2col`.
    func col2im(_ col: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, ld: Int, first: Int, count: Int) {
        let hw = h * w, dhw = d * hw
        var row = col
        for c in 0..<channels {
            let xc = x + c * dhw
            for a in 0..<kd {
                for b in 0..<kh {
                    for e in 0..<kw {
                        let offW = e * dw - pw
                        let (lo, hi) = validRange(offW)
                        var src = row
                        var zd = first / oh, zh = first % oh
                        for _ in 0..<count {
                            let id = zd * sd - pd + a * dd, ih = zh * sh - ph + b * dh
                            if UInt(bitPattern: id) < UInt(d) && UInt(bitPattern: ih) < UInt(h) {
                                let dst = xc + (id * hw + ih * w + offW)
                                if sw == 1 {
                                    for o in lo..<hi { dst[o] += src[o] }
                                } else {
                                    for o in lo..<hi { dst[o * sw] += src[o] }
                                }
                            }
                            src += ow
                            zh += 1
                            if zh == oh { zh = 0; zd += 1 }
                        }
                        row += ld
                    }
                }
            }
        }
    }

    /// Windows that tile the image exactly: kernel = stride, no padding, no dilation, and the
    /// image is positions × kernel in every dim (a 2×2/2 transposed convolution). Then every
    /// image element is in exactly one window, and im2col/col2im are pure rearrangements.
    var isTiling: Bool {
        kd == sd && kh == sh && kw == sw && pd == 0 && ph == 0 && pw == 0 && dd == 1 && dh == 1 && dw == 1
            && d == od * kd && h == oh * kh && w == ow * kw
    }

    /// For a tiling geometry: writes (not adds) the image elements of output lines
    /// first..<first+count from columns as laid out by `im2col`, plus bias[c] per channel.
    func scatterTiles(_ col: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, ld: Int, first: Int, count: Int,
                      bias: UnsafePointer<Float>?) {
        forEachTileRow(first: first, count: count, ld: ld) { at, ch, to in
            let row = col + at, dst = x + to
            let b = bias?[ch] ?? 0
            if kw == 2 {
                let r1 = row + ld, bv = SIMD8<Float>(repeating: b)
                var o = 0
                while o + 8 <= ow {
                    let u = UnsafeRawPointer(row + o).loadUnaligned(as: SIMD8<Float>.self) + bv
                    let v = UnsafeRawPointer(r1 + o).loadUnaligned(as: SIMD8<Float>.self) + bv
                    UnsafeMutableRawPointer(dst + 2 * o).storeBytes(of: SIMD8<Float>(u[0], v[0], u[1], v[1], u[2], v[2], u[3], v[3]),
                                                                    as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(dst + 2 * o + 8).storeBytes(of: SIMD8<Float>(u[4], v[4], u[5], v[5], u[6], v[6], u[7], v[7]),
                                                                        as: SIMD8<Float>.self)
                    o += 8
                }
                while o < ow { dst[2 * o] = row[o] + b; dst[2 * o + 1] = r1[o] + b; o += 1 }
            } else {
                for e in 0..<kw {
                    let r = row + e * ld
                    for o in 0..<ow { dst[o * kw + e] = r[o] + b }
                }
            }
        }
    }

    /// For a tiling geometry: `im2col` of output lines first..<first+count (a rearrangement).
    func gatherTiles(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, ld: Int, first: Int, count: Int) {
        forEachTileRow(first: first, count: count, ld: ld) { at, _, from in
            let row = col + at, src = x + from
            if kw == 2 {
                let r1 = row + ld
                var o = 0
                while o + 8 <= ow {
                    let a = UnsafeRawPointer(src + 2 * o).loadUnaligned(as: SIMD8<Float>.self)
                    let b = UnsafeRawPointer(src + 2 * o + 8).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(row + o).storeBytes(of: SIMD8<Float>(a[0], a[2], a[4], a[6], b[0], b[2], b[4], b[6]),
                                                                as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(r1 + o).storeBytes(of: SIMD8<Float>(a[1], a[3], a[5], a[7], b[1], b[3], b[5], b[7]),
                                                               as: SIMD8<Float>.self)
                    o += 8
                }
                while o < ow { row[o] = src[2 * o]; r1[o] = src[2 * o + 1]; o += 1 }
            } else {
                for e in 0..<kw {
                    let r = row + e * ld
                    for o in 0..<ow { r[o] = src[o * kw + e] }
                }
            }
        }
    }

    /// For a tiling geometry: calls body(offset in the columns of the row of tap (c, a, b, 0)
    /// for the line, channel c, offset in the image of the line's window row) for each channel,
    /// kernel row (a, b) and output line first..<first+count. The rows of taps e = 1… follow at
    /// `ld` intervals; the image row holds the line's ow·kw elements.
    @inline(__always)
    private func forEachTileRow(first: Int, count: Int, ld: Int, _ body: (Int, Int, Int) -> Void) {
        let hw = h * w, dhw = d * hw
        var row = 0
        for c in 0..<channels {
            for a in 0..<kd {
                for b in 0..<kh {
                    var zd = first / oh, zh = first % oh
                    for l in 0..<count {
                        body(row + l * ow, c, c * dhw + (zd * kd + a) * hw + (zh * kh + b) * w)
                        zh += 1
                        if zh == oh { zh = 0; zd += 1 }
                    }
                    row += kw * ld
                }
            }
        }
    }

    /// Output columns o whose input o·sw + offW lies inside 0..<w.
    @inline(__always)
    private func validRange(_ offW: Int) -> (Int, Int) {
        let lo = offW >= 0 ? 0 : min(ow, (sw - 1 - offW) / sw)
        let last = w - 1 - offW // largest o·sw allowed
        let hi = last < 0 ? 0 : min(ow, last / sw + 1)
        return (lo, max(lo, hi))
    }
}
