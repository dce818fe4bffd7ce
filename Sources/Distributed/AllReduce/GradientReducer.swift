import Dispatch
import Engine

/// Sums per-micro-batch float vectors over the ranks of a group: out = scale × Σ of every term
/// of every rank. Gradients, batch-norm running statistics and loss sums are all just floats here.
///
/// The vector is cut into buckets (`segments`, e.g. one per parameter tensor, in order); exact
/// mode gives each bucket its own fixed-point grid, so a small bias gradient keeps its precision
/// next to a large weight gradient.
///
/// - fast: `add` sums local terms into one float accumulator; `reduce` all-reduces floats (SUM).
///   Two slots ride along at the end: a non-finite flag and the local term count.
///   reduce() moves the vector in chunks (`chunk`), each one finished while it is in cache.
/// - exact: `add` keeps a copy of each term and the largest |x| per bucket; `reduce`
///   1. all-reduces (MAX, Int32) the buckets' largest |x| bit patterns, plus ±totalTerms;
///   2. puts every term on its bucket's `FixedPointGrid` and sums them as Int64 (associative);
///   3. all-reduces (SUM, Int64) the sums, plus the local term count;
///   4. out = Float(Double(sum) · 2^−shift · scale);
///   2–4 chunk by chunk, so only one chunk of Int64 exists.
///   Each step is exact or a function of values every rank shares, so the result is
///   bit-identical whatever the number of ranks, whichever rank added which term, in any order.
///
/// Memory: fast keeps `length` floats; exact keeps a copy of every local term (a pool reused
/// from step to step) and one chunk of Int64. Not thread-safe. `reduce` is collective over `comm`.
/// A term or output of the wrong length is a programming error (precondition); what `reduce`
/// throws is detected identically on every rank.
public final class GradientReducer {
    public let mode: ReductionMode
    /// Bucket lengths, in order.
    public let segments: [Int]
    /// Floats per term: the sum of `segments`.
    public let length: Int
    /// Terms added since the last `reduce`.
    public private(set) var addedTerms = 0
    /// Seconds spent in MPI calls by the last `reduce` (for bench and timeline).
    public private(set) var lastCommSeconds: Double = 0

    private let starts: [Int]                     // first element of each bucket
    // fast: [length] sum, then the non-finite flag and the term count
    private var accumulator: FloatBuffer?
    private var maxBits: Int32 = 0                // largest |x| bits of the added terms
    // exact
    private var terms: [FloatBuffer] = []         // pool; the first `copiedTerms` hold this step's copies
    private var copiedTerms = 0
    private var borrowed: [UnsafeMutablePointer<Float>] = [] // terms added without a copy
    private var bucketMaxBits: [Int32]            // [segments.count] largest |x| bits per bucket
    private var header: [Int32]                   // [segments.count + 2] bucket maxima, T, −T
    private var sums: UnsafeMutableBufferPointer<Int64>? // [1 + chunk] term count, fixed-point sums

    /// Elements per all-reduce (the run config's `allreduce_bucket_mb`): through shared memory
    /// MPI runs far faster on pieces that stay in cache than on one large buffer (2 ranks of one
    /// host: several times faster than one call on ResNet-50's 188 MB of Int64 sums), while
    /// across hosts every message pays the network's latency on each ring step (docs/scaling.md).
    public let chunk: Int
    public static let defaultChunk = 1 << 16
    /// Elements per quantisation pass: a piece of Int64 sums stays in L1 while the terms are
    /// added to it.
    public static let piece = 2048

    public init(mode: ReductionMode, segments: [Int], chunk: Int = GradientReducer.defaultChunk) {
        precondition(segments.allSatisfy { $0 >= 0 }, "GradientReducer: negative segment length in \(segments)")
        precondition(chunk >= 1, "GradientReducer: chunk must be positive")
        self.chunk = chunk
        self.mode = mode
        self.segments = segments
        var s: [Int] = [], n = 0
        for len in segments { s.append(n); n += len }
        starts = s
        length = n
        bucketMaxBits = [Int32](repeating: 0, count: segments.count)
        header = [Int32](repeating: 0, count: segments.count + 2)
        switch mode {
        case .fast:
            accumulator = FloatBuffer(count: n + 2)
        case .exact:
            let b = UnsafeMutableBufferPointer<Int64>.allocate(capacity: 1 + min(chunk, n))
            b.initialize(repeating: 0)
            sums = b
        }
    }

    deinit { sums?.deallocate() }

    /// Adds one local term: a micro-batch's vector of `length` floats.
    public func add(_ term: UnsafeBufferPointer<Float>) {
        precondition(term.count == length, "GradientReducer.add: term of \(term.count) floats, expected \(length)")
        guard length > 0, let src = term.baseAddress else { addedTerms += 1; return }
        switch mode {
        case .fast:
            let acc = accumulator!.base
            let m = addedTerms == 0 ? ReduceKernels.copy(src, to: acc, count: length)
                                    : ReduceKernels.accumulate(src, into: acc, count: length)
            maxBits = max(maxBits, m)
        case .exact:
            if copiedTerms == terms.count { terms.append(FloatBuffer(count: length)) }
            let dst = terms[copiedTerms].base
            copiedTerms += 1
            for b in 0..<segments.count where segments[b] > 0 {
                let m = ReduceKernels.copy(src + starts[b], to: dst + starts[b], count: segments[b])
                bucketMaxBits[b] = max(bucketMaxBits[b], m)
            }
        }
        addedTerms += 1
    }

    /// Adds a local term without copying it (exact mode; fast mode sums it at once as `add`):
    /// `term` must stay unchanged until `reduce` returns — except that it may be `reduce`'s
    /// own output, which is written chunk by chunk only after that chunk was read. Saves a pass
    /// over the vector and its copy: the trainer lends the gradient buffer of its last micro-batch.
    public func add(borrowing term: UnsafeMutableBufferPointer<Float>) {
        guard mode == .exact else { return add(UnsafeBufferPointer(term)) }
        precondition(term.count == length, "GradientReducer.add: term of \(term.count) floats, expected \(length)")
        guard length > 0, let src = term.baseAddress else { addedTerms += 1; return }
        for b in 0..<segments.count where segments[b] > 0 {
            bucketMaxBits[b] = max(bucketMaxBits[b], ReduceKernels.maxMagnitudeBits(src + starts[b], count: segments[b]))
        }
        borrowed.append(src)
        addedTerms += 1
    }

    /// out = scale × Σ(all terms of all ranks of `comm`); `totalTerms` = number of terms over all
    /// ranks (the same on every rank; some ranks may have added none). comm nil = this process
    /// alone. Returns false (on every rank) if any term anywhere was not finite; `out` is then
    /// unspecified. Where the true scaled sum exceeds Float's range, out holds ±Inf (exact mode)
    /// or whatever the float sums give (fast mode). Clears the local terms afterwards, also when
    /// it throws. Fast mode counts terms in a float slot: exact up to 2^24 terms.
    public func reduce(over comm: Communicator?, totalTerms: Int, scale: Float,
                       into out: UnsafeMutableBufferPointer<Float>) throws -> Bool {
        precondition(out.count == length, "GradientReducer.reduce: output of \(out.count) floats, expected \(length)")
        defer { clear() }
        lastCommSeconds = 0
        guard totalTerms >= 0, totalTerms <= Int(Int32.max) else { throw ReductionError.invalidTotalTerms(totalTerms) }
        switch mode {
        case .fast: return try reduceFast(comm, totalTerms, scale, out)
        case .exact: return try reduceExact(comm, totalTerms, scale, out)
        }
    }

    private func reduceFast(_ comm: Communicator?, _ total: Int, _ scale: Float,
                            _ out: UnsafeMutableBufferPointer<Float>) throws -> Bool {
        let a = accumulator!.base, n = length
        if addedTerms == 0 { a.update(repeating: 0, count: n) }
        a[n] = maxBits >= ReduceKernels.nonFiniteBits ? 1 : 0
        a[n + 1] = Float(addedTerms)
        // Chunk by chunk: each one is scaled while MPI has just left it in cache.
        var at = 0
        repeat {
            let c = min(chunk, n + 2 - at)
            if let comm { try timed { try comm.allreduceSum(UnsafeMutableBufferPointer(start: a + at, count: c)) } }
            let m = min(c, n - at)
            if m > 0 { ReduceKernels.scale(a + at, by: scale, count: m, into: out.baseAddress! + at) }
            at += c
        } while at < n + 2
        guard Int(a[n + 1]) == total else { throw ReductionError.termCountMismatch(expected: total, added: Int(a[n + 1])) }
        return a[n] == 0
    }

    private func reduceExact(_ comm: Communicator?, _ total: Int, _ scale: Float,
                             _ out: UnsafeMutableBufferPointer<Float>) throws -> Bool {
        let nb = segments.count
        // 1. Grids: the largest |x| per bucket over all ranks; ±T checks every rank passed the same T.
        for b in 0..<nb { header[b] = bucketMaxBits[b] }
        header[nb] = Int32(total)
        header[nb + 1] = -Int32(total)
        if let comm { try timed { try header.withUnsafeMutableBufferPointer { try comm.allreduce($0, op: .max) } } }
        let hi = Int(header[nb]), lo = -Int(header[nb + 1])
        guard lo == hi else { throw ReductionError.totalTermsDisagree(min: lo, max: hi) }
        if header.prefix(nb).contains(where: { $0 >= ReduceKernels.nonFiniteBits }) { return false }
        let grids = (0..<nb).map { FixedPointGrid(maxBits: header[$0], terms: total) }

        // 2–4 chunk by chunk, so that the chunk's Int64 sums stay in cache from the quantisation
        // through MPI to the conversion. Slot 0 carries the local term count.
        let s = sums!.baseAddress!, o = out.baseAddress
        let termBases = terms.prefix(copiedTerms).map(\.base) + borrowed
        var at = 0
        repeat {
            let n = min(chunk, length - at)
            // 2. Local fixed-point sums, in L1-sized pieces; terms go in four at a time.
            forEachBucketPiece(at, n) { b, lo, hi in
                let f = grids[b].toGrid
                var i = lo
                while i < hi {
                    let m = min(Self.piece, hi - i), dst = s + 1 + (i - at)
                    dst.update(repeating: 0, count: m)
                    termBases.withUnsafeBufferPointer { tb in
                        var t = 0
                        while t < tb.count {
                            let group = min(4, tb.count - t)
                            ReduceKernels.quantise(UnsafeBufferPointer(rebasing: tb[t..<(t + group)]), offset: i,
                                                   count: m, toGrid: f, into: dst)
                            t += group
                        }
                    }
                    i += m
                }
            }
            s[0] = Int64(addedTerms)
            // 3. Integer sums over the ranks: exact, in any order.
            if let comm { try timed { try comm.allreduceSum(UnsafeMutableBufferPointer(start: s, count: n + 1)) } }
            guard s[0] == Int64(total) else { throw ReductionError.termCountMismatch(expected: total, added: Int(s[0])) }
            // 4. Back to floats.
            forEachBucketPiece(at, n) { b, lo, hi in
                ReduceKernels.convert(s + 1 + (lo - at), count: hi - lo, fromGrid: grids[b].fromGrid(scale: scale), into: o! + lo)
            }
            at += n
        } while at < length
        return true
    }

    /// Calls body(bucket, lo, hi) for the non-empty parts [lo, hi) of every bucket that meets
    /// [at, at + n), in order.
    @inline(__always)
    private func forEachBucketPiece(_ at: Int, _ n: Int, _ body: (Int, Int, Int) -> Void) {
        guard n > 0 else { return }
        var b = 0, i = at
        while i < at + n {
            while starts[b] + segments[b] <= i { b += 1 }
            let hi = min(at + n, starts[b] + segments[b])
            body(b, i, hi)
            i = hi
        }
    }

    private func clear() {
        addedTerms = 0
        copiedTerms = 0
        borrowed = []
        maxBits = 0
        for b in 0..<bucketMaxBits.count { bucketMaxBits[b] = 0 }
    }

    private func timed(_ body: () throws -> Void) rethrows {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { lastCommSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9 }
        try body()
    }
}
