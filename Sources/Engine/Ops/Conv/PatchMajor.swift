/// Patch-major convolution pieces, used by `Conv`. Shapes (a batch of N images):
///   channels-last images  N × D × H × W × C     (`Transpose.toChannelsLast` of N×C×D×H×W)
///   patch-major columns   cols × K               one row per output position, K = C·kd·kh·kw
///                                                in (kd, kh, kw, c) order: a tap's C channels
///                                                are contiguous, so im2col is a few copies of
///                                                C (or kw·C) floats per position
///   reordered weights     O × K                  W'[o][(a, b, e, c)] = W[o][c][a][b][e]
/// With the positions as GEMM rows, OpenBLAS runs the few-channel convolutions of a U-Net far
/// faster than with channels as rows, and the transposes in and out of channels-last cost
/// little beside the GEMMs (figures: docs/engine.md).
///
/// Lines are global over the batch: line l = (n, od, oh) with l = (n·oD + od)·oH + oh; a line
/// holds oW positions, and the positions of lines first..<first+count are consecutive rows.

/// Blocked 4×4 transposes between channel-major (C × P) and channels-last (P × C) layouts.
enum Transpose {
    typealias F4 = SIMD4<Float>

    @inline(__always) private static func ld(_ p: UnsafePointer<Float>) -> F4 { UnsafeRawPointer(p).loadUnaligned(as: F4.self) }
    @inline(__always) private static func st(_ v: F4, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: F4.self)
    }

    /// dst[j·ldd + i] = src[i·lds + j] (+ dst[j·ldd + i] if `add`) (+ bias[j] if given),
    /// for i < rows, j < cols. The long dimension runs in the inner loop over a tile, the
    /// short one fully, in 4×4 register blocks.
    @inline(__always)
    static func run(_ src: UnsafePointer<Float>, rows: Int, cols: Int, lds: Int,
                    _ dst: UnsafeMutablePointer<Float>, ldd: Int, add: Bool, bias: UnsafePointer<Float>?) {
        @inline(__always) func out(_ v: F4, _ j: Int, _ p: UnsafeMutablePointer<Float>) {
            var r = v
            if let bias { r += F4(repeating: bias[j]) }
            if add { r += ld(p) }
            st(r, p)
        }
        @inline(__always) func one(_ i: Int, _ j: Int) {
            var v = src[i * lds + j]
            if let bias { v += bias[j] }
            if add { v += dst[j * ldd + i] }
            dst[j * ldd + i] = v
        }
        @inline(__always) func block(_ i: Int, _ j: Int) {
            let a = ld(src + i * lds + j), b = ld(src + (i + 1) * lds + j)
            let c = ld(src + (i + 2) * lds + j), e = ld(src + (i + 3) * lds + j)
            let t0 = F4(a[0], b[0], a[1], b[1]), t1 = F4(a[2], b[2], a[3], b[3])
            let t2 = F4(c[0], e[0], c[1], e[1]), t3 = F4(c[2], e[2], c[3], e[3])
            out(F4(t0[0], t0[1], t2[0], t2[1]), j, dst + j * ldd + i)
            out(F4(t0[2], t0[3], t2[2], t2[3]), j + 1, dst + (j + 1) * ldd + i)
            out(F4(t1[0], t1[1], t3[0], t3[1]), j + 2, dst + (j + 2) * ldd + i)
            out(F4(t1[2], t1[3], t3[2], t3[3]), j + 3, dst + (j + 3) * ldd + i)
        }
        if rows <= cols {
            // Short rows (C × P → P × C): tiles of 64 columns, all rows.
            var j0 = 0
            while j0 < cols {
                let j1 = min(cols, j0 + 64)
                var i = 0
                while i + 4 <= rows {
                    var j = j0
                    while j + 4 <= j1 { block(i, j); j += 4 }
                    while j < j1 { for ii in i..<(i + 4) { one(ii, j) }; j += 1 }
                    i += 4
                }
                while i < rows { for j in j0..<j1 { one(i, j) }; i += 1 }
                j0 = j1
            }
        } else {
            // Short columns (P × C → C × P): tiles of 256 rows, all columns.
            var i0 = 0
            while i0 < rows {
                let i1 = min(rows, i0 + 256)
                var j = 0
                while j + 4 <= cols {
                    var i = i0
                    while i + 4 <= i1 { block(i, j); i += 4 }
                    while i < i1 { for jj in j..<(j + 4) { one(i, jj) }; i += 1 }
                    j += 4
                }
                while j < cols { for i in i0..<i1 { one(i, j) }; j += 1 }
                i0 = i1
            }
        }
    }

    /// N images C × P (channel-major) → N × P × C (channels-last).
    static func toChannelsLast(_ x: UnsafePointer<Float>, batch: Int, channels: Int, positions: Int,
                               into t: UnsafeMutablePointer<Float>) {
        let s = channels * positions
        for n in 0..<batch {
            run(x + n * s, rows: channels, cols: positions, lds: positions, t + n * s, ldd: channels, add: false, bias: nil)
        }
    }

    /// Rows first..<first+count of a batch's positions (P per image, global row r = n·P + p),
    /// `cols` channels each (row stride ld) → their places in N × cols × P channel-major
    /// images: written (plus bias per channel) or added.
    static func positionsToImages(_ src: UnsafePointer<Float>, ld: Int, first: Int, count: Int, channels: Int,
                                  positions p: Int, into y: UnsafeMutablePointer<Float>, add: Bool, bias: UnsafePointer<Float>?) {
        var r = first, s = src
        let end = first + count
        while r < end {
            let n = r / p, q = r % p, len = min(end - r, p - q)
            run(s, rows: len, cols: channels, lds: ld, y + n * channels * p + q, ldd: p, add: add, bias: bias)
            r += len
            s += len * ld
        }
    }
}

extension PatchGeometry {
    /// The convolution whose output is this one's input gradient, for stride 1: it reads the
    /// output-sized gradient (`outChannels` channels) with the same kernel and dilation,
    /// padding d·(k − 1) − p, and the flipped kernel (see `Conv.backward`).
    func flippedForInputGradient(outChannels: Int) -> PatchGeometry {
        var f = self
        f.channels = outChannels
        (f.d, f.h, f.w) = (od, oh, ow)
        (f.od, f.oh, f.ow) = (d, h, w)
        (f.pd, f.ph, f.pw) = (dd * (kd - 1) - pd, dh * (kh - 1) - ph, dw * (kw - 1) - pw)
        return f
    }

    var hasUnitStride: Bool { sd == 1 && sh == 1 && sw == 1 }
    var taps: Int { kd * kh * kw }

    /// Patch-major columns for global lines first..<first+count of channels-last images `xT`
    /// (N × D × H × W × C): `count·oW` rows of K floats (see the file header).
    func im2colPM(_ xT: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, first: Int, count: Int) {
        let c = channels, k = rows, run = kw * c
        let rowStride = w * c, planeStride = h * rowStride, imageStride = d * planeStride
        let contiguous = dw == 1
        var n = first / lines, z = first % lines
        var zd = z / oh, zh = z % oh
        var dst = col
        for _ in 0..<count {
            let image = xT + n * imageStride
            for o in 0..<ow {
                var t = dst
                let iw0 = o * sw - pw
                for a in 0..<kd {
                    let id = zd * sd - pd + a * dd
                    for b in 0..<kh {
                        let ih = zh * sh - ph + b * dh
                        if UInt(bitPattern: id) < UInt(d) && UInt(bitPattern: ih) < UInt(h) {
                            let src = image + id * planeStride + ih * rowStride
                            if contiguous && iw0 >= 0 && iw0 + kw <= w {
                                Runs.copy(src + iw0 * c, t, run)
                            } else {
                                for e in 0..<kw {
                                    let iw = iw0 + e * dw
                                    if UInt(bitPattern: iw) < UInt(w) { Runs.copy(src + iw * c, t + e * c, c) } else { Runs.zero(t + e * c, c) }
                                }
                            }
                        } else {
                            Runs.zero(t, run)
                        }
                        t += run
                    }
                }
                dst += k
            }
            zh += 1
            if zh == oh { zh = 0; zd += 1; if zd == od { zd = 0; n += 1 } }
        }
    }

    /// Adds patch-major columns back into channels-last images: the adjoint of `im2colPM`.
    func col2imPM(_ col: UnsafePointer<Float>, _ xT: UnsafeMutablePointer<Float>, first: Int, count: Int) {
        let c = channels, k = rows, run = kw * c
        let rowStride = w * c, planeStride = h * rowStride, imageStride = d * planeStride
        var n = first / lines, z = first % lines
        var zd = z / oh, zh = z % oh
        var src = col
        for _ in 0..<count {
            let image = xT + n * imageStride
            for o in 0..<ow {
                var t = src
                let iw0 = o * sw - pw
                for a in 0..<kd {
                    let id = zd * sd - pd + a * dd
                    for b in 0..<kh {
                        let ih = zh * sh - ph + b * dh
                        if UInt(bitPattern: id) < UInt(d) && UInt(bitPattern: ih) < UInt(h) {
                            let dst = image + id * planeStride + ih * rowStride
                            for e in 0..<kw {
                                let iw = iw0 + e * dw
                                if UInt(bitPattern: iw) < UInt(w) { Runs.add(t + e * c, dst + iw * c, c) }
                            }
                        }
                        t += run
                    }
                }
                src += k
            }
            zh += 1
            if zh == oh { zh = 0; zd += 1; if zd == od { zd = 0; n += 1 } }
        }
    }
}

/// How a batch's global lines are cut into chunks whose patch-major columns stay in L2.
struct PatchChunks {
    /// Floats of columns a chunk aims for.
    static let budget = 1 << 18
    /// Fewest rows (positions) worth a GEMM call.
    static let minColumns = 512

    let lines: Int
    let columns: Int

    /// `k`: floats per column row (the largest K of the passes that share the chunking).
    init(_ g: PatchGeometry, batch: Int, k: Int) {
        let want = max(Self.minColumns, Self.budget / max(k, 1))
        let total = batch * g.lines
        lines = min(total, max(1, (want + g.ow - 1) / max(g.ow, 1)))
        columns = lines * g.ow
    }

    /// body(firstLine, lineCount) over all lines of the batch.
    @inline(__always)
    func forEach(_ g: PatchGeometry, batch: Int, _ body: (Int, Int) -> Void) { forEachRun(total: batch * g.lines, size: lines, body) }
}

extension Conv {
    /// Workspace layout of the patch-major passes (see the file header), in floats:
    ///   xT   N·D·H·W·C  the input channels-last (backward: then dX channels-last, if strided)
    ///   dyT  N·P·O      backward: dY channels-last
    ///   wr   O·K        reordered weights (forward, dW, strided dX) or flipped ones (C × T·O)
    ///   dwt  K·O        backward: dW in (tap, c) × o order
    ///   col  columns × max(K, T·O)
    ///   tmp  columns × max(O, C): a chunk's output rows before they go back channel-major
    struct PatchPlan {
        let g: PatchGeometry
        let flipped: PatchGeometry?
        let forward: PatchChunks, inputGradient: PatchChunks
        let xT, dyT, wr, dwt, col, tmp, workspace: Int

        init(_ g: PatchGeometry, batch: Int, outChannels o: Int) {
            self.g = g
            let k = g.rows, k2 = g.taps * o
            flipped = g.hasUnitStride ? g.flippedForInputGradient(outChannels: o) : nil
            forward = PatchChunks(g, batch: batch, k: k)
            inputGradient = flipped.map { PatchChunks($0, batch: batch, k: k2) } ?? forward
            let columns = max(forward.columns, inputGradient.columns)
            var at = 0
            func take(_ n: Int) -> Int { defer { at += (n + 15) & ~15 }; return at }
            xT = take(batch * g.imageCount)
            dyT = take(batch * g.positions * o)
            wr = take(o * k)
            dwt = take(k * o)
            col = take(columns * max(k, k2))
            tmp = take(columns * max(o, g.channels))
            workspace = at
        }
    }
}
