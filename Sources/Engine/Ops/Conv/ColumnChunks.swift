/// How a batch is cut into column chunks: `lines` output lines of one sample at a time, or
/// `group` whole samples at a time when one sample has fewer columns than a chunk should.
struct ColumnChunks {
    /// Floats of columns a chunk aims for: the columns are written by im2col and read straight
    /// back by the GEMM, so they should stay in L2.
    static let budget = 1 << 18
    /// Fewest columns worth a GEMM call.
    static let minColumns = 256

    let lines: Int
    let group: Int
    let columns: Int

    init(_ g: PatchGeometry, batch: Int) {
        let want = max(Self.minColumns, Self.budget / max(g.rows, 1))
        let p = g.positions
        if p >= want || batch == 1 {
            lines = min(g.lines, max(1, want / max(g.ow, 1)))
            group = 1
            columns = lines * g.ow
        } else {
            lines = g.lines
            group = min(batch, max(1, want / max(p, 1)))
            columns = group * p
        }
    }

    /// Calls body(sample, firstLine, lineCount) for each chunk, when chunks hold lines of one sample.
    @inline(__always)
    func forEachLineChunk(_ g: PatchGeometry, batch: Int, _ body: (Int, Int, Int) -> Void) {
        for n in 0..<batch {
            var l = 0
            while l < g.lines {
                let cnt = min(lines, g.lines - l)
                body(n, l, cnt)
                l += cnt
            }
        }
    }
}

extension ColumnChunks {
    /// Whole samples, `group` at a time, whatever the budget says (tests: several groups on
    /// small inputs).
    init(samples g: PatchGeometry, group: Int) {
        lines = g.lines
        self.group = group
        columns = group * g.positions
    }
}

/// body(first, count) over 0..<total in runs of `size` (the last one shorter): the chunks of
/// lines, or the groups of samples, of one pass.
@inline(__always)
func forEachRun(total: Int, size: Int, _ body: (Int, Int) -> Void) {
    var first = 0
    while first < total {
        let count = min(size, total - first)
        body(first, count)
        first += count
    }
}
