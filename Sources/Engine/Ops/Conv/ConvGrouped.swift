/// The grouped im2col of `Conv` ("im2col" in `ConvAlgorithm`; see `ColumnChunks.group`): when a sample has few output
/// positions (ResNet's 7×7, 4×4, 2×2 stages), `nb` samples are laid side by side so one GEMM
/// sees nb·P columns. Shapes (one group of samples n0..<n0+nb):
///   x        N×C×D×H×W                        (the whole input)
///   columns  K×(nb·P), K = C·T rows (c, tap), column s·P + q = sample n0+s, position q
///   product  O×(nb·P)                         (W·columns, or dY gathered the same way)
///   y, dy    N×O×P
/// A tap table (T×P Int32, T = kd·kh·kw) holds, for tap t and output position q, the offset of
/// the input under it in a channel volume (D·H·W), or −1 in padding. It depends only on the
/// geometry, so every channel and sample reuses it: the per-row bounds arithmetic of the
/// line-wise `im2col` (two divisions per row, a short copy per line) is paid once per call.
/// Loops run row by row over the group (c, t, then samples), so each column row is written
/// as one contiguous run of nb·P floats (T rows written at once, per channel and sample over
/// all taps, was slower: docs/engine.md). With unit W stride and lines of at least 8 positions
/// (TempCNN's 24 dates), a line table instead gives per tap and output line the valid run and
/// its input offset, and whole runs are copied in lanes (`usesLineRuns`).
extension PatchGeometry {
    /// Whether im2col/col2im copy whole line runs (unit W stride, lines ≥ 8) rather than
    /// single elements through the tap table.
    var usesLineRuns: Bool { sw == 1 && ow >= 8 }

    /// Int32s of the table `groupIm2col` needs: T×P, or T×lines×3 with line runs.
    var groupTableCount: Int { usesLineRuns ? 3 * taps * lines : taps * positions }

    /// The table of `groupIm2col`: `fillLineTable` with line runs, else `fillTapTable`.
    func fillGroupTable(_ table: UnsafeMutablePointer<Int32>) {
        if usesLineRuns { fillLineTable(table) } else { fillTapTable(table) }
    }

    /// Fills table[(t·lines + l)·3 ..< +3] = (lo, hi, offset): output columns lo..<hi of line l
    /// read the input under tap t at offset (of column lo) in a channel volume; lo = hi = 0
    /// where the whole line is padding. Unit W stride only.
    func fillLineTable(_ table: UnsafeMutablePointer<Int32>) {
        var i = 0
        for a in 0..<kd {
            for b in 0..<kh {
                for e in 0..<kw {
                    let fw = e * dw - pw
                    let lo = max(0, -fw), hi = max(lo, min(ow, w - fw))
                    for zd in 0..<od {
                        let id = zd * sd - pd + a * dd
                        for zh in 0..<oh {
                            let ih = zh * sh - ph + b * dh
                            let inside = UInt(bitPattern: id) < UInt(d) && UInt(bitPattern: ih) < UInt(h) && lo < hi
                            table[i] = inside ? Int32(lo) : 0
                            table[i + 1] = inside ? Int32(hi) : 0
                            table[i + 2] = inside ? Int32(truncatingIfNeeded: (id * h + ih) * w + lo + fw) : 0
                            i += 3
                        }
                    }
                }
            }
        }
    }

    /// Fills table[t·P + q] (T×P): the input offset in a channel volume under tap t of output
    /// position q, or −1 where the tap reads padding.
    func fillTapTable(_ table: UnsafeMutablePointer<Int32>) {
        var i = 0
        for a in 0..<kd {
            for b in 0..<kh {
                for e in 0..<kw {
                    for zd in 0..<od {
                        let id = zd * sd - pd + a * dd
                        for zh in 0..<oh {
                            let ih = zh * sh - ph + b * dh
                            for zw in 0..<ow {
                                let iw = zw * sw - pw + e * dw
                                let inside = UInt(bitPattern: id) < UInt(d) && UInt(bitPattern: ih) < UInt(h) && UInt(bitPattern: iw) < UInt(w)
                                table[i] = inside ? Int32(truncatingIfNeeded: (id * h + ih) * w + iw) : -1
                                i += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// columns[c·T + t, s·P + q] = x[n0 + s, c, table[t, q]] (0 in padding), for s in 0..<nb;
    /// row stride nb·P. A pointwise kernel (`isPointwise`) copies channel rows and ignores the
    /// table; with line runs `table` is the line table.
    func groupIm2col(_ x: UnsafePointer<Float>, n0: Int, nb: Int, table: UnsafePointer<Int32>,
                     into col: UnsafeMutablePointer<Float>) {
        let p = positions, xs = imageCount, vol = d * h * w, t = taps, ld = nb * p
        let x0 = x + n0 * xs
        if isPointwise {
            for c in 0..<channels {
                let row = col + c * ld, src = x0 + c * vol
                for s in 0..<nb { Runs.copy(src + s * xs, row + s * p, p) }
            }
            return
        }
        if usesLineRuns {
            let nl = lines
            for c in 0..<channels {
                let xc = x0 + c * vol
                for k in 0..<t {
                    let lk = table + 3 * k * nl
                    var dst = col + (c * t + k) * ld
                    for s in 0..<nb {
                        let src = xc + s * xs
                        for l in 0..<nl {
                            let lo = Int(lk[3 * l]), hi = Int(lk[3 * l + 1]), off = Int(lk[3 * l + 2])
                            let dl = dst + l * ow
                            for q in 0..<lo { dl[q] = 0 }
                            Runs.copy(src + off, dl + lo, hi - lo)
                            for q in hi..<ow { dl[q] = 0 }
                        }
                        dst += p
                    }
                }
            }
            return
        }
        for c in 0..<channels {
            let xc = x0 + c * vol
            for k in 0..<t {
                let tk = table + k * p
                var dst = col + (c * t + k) * ld
                for s in 0..<nb {
                    let src = xc + s * xs
                    for q in 0..<p {
                        let o = Int(tk[q])
                        dst[q] = o >= 0 ? src[o] : 0
                    }
                    dst += p
                }
            }
        }
    }

    /// The adjoint of `groupIm2col`: dx[n0 + s, c, table[t, q]] += columns[c·T + t, s·P + q].
    /// A pointwise kernel writes (fresh) or adds its channel rows.
    func groupCol2im(_ col: UnsafePointer<Float>, n0: Int, nb: Int, table: UnsafePointer<Int32>,
                     into dx: UnsafeMutablePointer<Float>, fresh: Bool) {
        let p = positions, xs = imageCount, vol = d * h * w, t = taps, ld = nb * p
        let x0 = dx + n0 * xs
        if isPointwise {
            for c in 0..<channels {
                let row = col + c * ld, dst = x0 + c * vol
                for s in 0..<nb {
                    if fresh { Runs.copy(row + s * p, dst + s * xs, p) } else { Runs.add(row + s * p, dst + s * xs, p) }
                }
            }
            return
        }
        precondition(!fresh, "groupCol2im adds; zero a fresh gradient first")
        if usesLineRuns {
            let nl = lines
            for c in 0..<channels {
                let xc = x0 + c * vol
                for k in 0..<t {
                    let lk = table + 3 * k * nl
                    var src = col + (c * t + k) * ld
                    for s in 0..<nb {
                        let dst = xc + s * xs
                        for l in 0..<nl {
                            let lo = Int(lk[3 * l]), hi = Int(lk[3 * l + 1]), off = Int(lk[3 * l + 2])
                            Runs.add(src + l * ow + lo, dst + off, hi - lo)
                        }
                        src += p
                    }
                }
            }
            return
        }
        for c in 0..<channels {
            let xc = x0 + c * vol
            for k in 0..<t {
                let tk = table + k * p
                var src = col + (c * t + k) * ld
                for s in 0..<nb {
                    let dst = xc + s * xs
                    for q in 0..<p {
                        let o = Int(tk[q])
                        if o >= 0 { dst[o] += src[q] }
                    }
                    src += p
                }
            }
        }
    }
}

/// Moves between per-sample blocks (N×rows×P) and a group's side-by-side rows (rows×(nb·P)).
enum GroupRows {
    /// dst[r, s·P + i] = src[n0 + s][r, i]
    static func gather(_ src: UnsafePointer<Float>, rows: Int, p: Int, n0: Int, nb: Int, into dst: UnsafeMutablePointer<Float>) {
        let ld = nb * p, ss = rows * p, s0 = src + n0 * ss
        for r in 0..<rows {
            let d = dst + r * ld, sr = s0 + r * p
            for s in 0..<nb { Runs.copy(sr + s * ss, d + s * p, p) }
        }
    }

    /// dst[n0 + s][r, i] = src[r, s·P + i] + (bias?[r] ?? 0)
    static func scatter(_ src: UnsafePointer<Float>, rows: Int, p: Int, n0: Int, nb: Int,
                        bias: UnsafePointer<Float>?, into dst: UnsafeMutablePointer<Float>) {
        let ld = nb * p, ds = rows * p, d0 = dst + n0 * ds
        for r in 0..<rows {
            let a = src + r * ld, dr = d0 + r * p, b = bias?[r] ?? 0
            for s in 0..<nb { Runs.copy(a + s * p, dr + s * ds, p, plus: b) }
        }
    }

    /// db[r] += Σ src[r, 0..<cols] (a gathered dY: the bias gradient of one group).
    static func rowSums(_ src: UnsafePointer<Float>, rows: Int, cols: Int, into db: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { db[r] += Runs.sum(src + r * cols, cols) }
    }
}
