/// How one scene's window rows are shared by the ranks of a distributed `rstrain predict`:
/// contiguous bands of window rows, rank r the r-th. A rank owns the output rows its windows
/// finish (from the first row the previous band's last window row leaves open to the first
/// row the next band needs), so every output row is written by exactly one rank.
///
/// Rows where two window rows' kept parts meet (an odd overlap keeps one row of both; the
/// window flush with the bottom edge keeps many) get contributions from the previous band's
/// last window row too. The rank runs that row again (its "lead" row) and adds only its share,
/// before its own: the sums see the same terms in the same order as in one process, so the
/// result is bit-identical, at the cost of one window row per rank when it happens.
struct SceneBands {
    /// Window row origins (y), top to bottom.
    let origins: [Int]
    let height: Int, window: Int, half: Int, ranks: Int

    init(origins: [Int], height: Int, window: Int, overlap: Int, ranks: Int) {
        (self.origins, self.height, self.window, self.half, self.ranks) = (origins, height, window, overlap / 2, ranks)
    }

    struct Band {
        /// Window rows whose windows this rank counts as its own.
        let owned: Range<Int>
        /// Window rows it runs: `owned`, or the lead row before them too.
        let computed: Range<Int>
        /// The first output row it holds (input pixels).
        let firstRow: Int
    }

    /// Rows above this one are final once window row `j` is added: the next window row's
    /// first kept row (the scene's height after the last).
    func finalRow(after j: Int) -> Int {
        j + 1 < origins.count ? min(origins[j + 1] + half, height) : height
    }

    /// The end of window row `j`'s kept part (its bottom border left out unless on the edge).
    func keptEnd(_ j: Int) -> Int {
        let y = origins[j]
        return y + min(y + window >= height ? window : window - half, height - y)
    }

    func band(_ rank: Int) -> Band {
        let rows = origins.count, a = rank * rows / ranks, b = (rank + 1) * rows / ranks
        let first = a > 0 ? finalRow(after: a - 1) : 0
        let lead = a > 0 && a < b && keptEnd(a - 1) > first
        return Band(owned: a..<b, computed: (lead ? a - 1 : a)..<b, firstRow: first)
    }
}
