import ArgumentParser
import Distributed
import Engine
import Foundation
import Experiment

/// `rstrain bench reduce` options (an option group of `bench`).
struct ReduceBenchOptions: ParsableArguments {
    @Option(help: "bench reduce: floats per term; the default is ResNet-50's gradient.")
    var floats: Int = 23_500_000

    @Option(help: "bench reduce: terms (micro-batches) per rank; with --check, terms over all ranks.")
    var terms: Int = 4

    @Option(name: .customLong("bucket-mb"), help: "bench reduce: MB per all-reduce message (the run config's allreduce_bucket_mb).")
    var bucketMB: Double = Double(RunConfig.defaultBucketBytes) / Double(1 << 20)

    @Flag(help: "bench reduce: no timing; reduce a fixed set of terms spread over the ranks and print a hash of each mode's result (exact: the same for any number of ranks).")
    var check = false

    /// --check: the term (0-based, over all ranks) whose middle element is NaN.
    @Option(help: .hidden)
    var poison: Int?

    func validate() throws {
        guard floats >= 1 else { throw ValidationError("--floats must be at least 1") }
        guard bucketMB >= 1.0 / 64, bucketMB <= 1024 else { throw ValidationError("--bucket-mb must be between 1/64 and 1024") }
        guard terms >= 0 else { throw ValidationError("--terms must be at least 0") }
        guard check || terms >= 1 else { throw ValidationError("--terms must be at least 1") }
        if let p = poison, !check || p < 0 || p >= terms {
            throw ValidationError("--poison needs --check and a term index below --terms")
        }
    }
}

/// Fast vs exact reduction (`GradientReducer`) of one step's terms over `mpirun`'s ranks:
/// every rank adds K terms of N floats, then reduces, the two modes taking turns. Times per step
/// (max over ranks): the adds, the reduce, and its MPI part, for the fastest step (and the mean
/// step time); a barrier before each step keeps one rank's adds out of the other's
/// communication time. Buckets have ResNet-like tensor sizes.
enum ReduceBench {
    static func run(_ o: ReduceBenchOptions, seconds: Double, json: Bool) throws {
        try MPIRuntime.initialize(threadLevel: .funneled)
        let world = Communicator.world
        if o.check {
            try check(o, world, json: json)
        } else {
            try time(o, world, seconds: seconds, json: json)
        }
        try MPIRuntime.finalize()
    }

    /// Tensor sizes cycled through up to n floats (the last one cut): ResNet-50's convolution
    /// weights, each followed by its batch-norm scale and shift.
    static func segments(_ n: Int) -> [Int] {
        let cycle = [4096, 64, 64, 36864, 64, 64, 16384, 256, 256, 65536, 128, 128, 147456, 128, 128,
                     131072, 512, 512, 262144, 256, 256, 589824, 256, 256, 262144, 1024, 1024,
                     1048576, 512, 512, 2359296, 512, 512, 1048576, 2048, 2048]
        var out: [Int] = [], left = n
        while left > 0 {
            let s = min(cycle[out.count % cycle.count], left)
            out.append(s)
            left -= s
        }
        return out
    }

    // MARK: Timing

    static func time(_ o: ReduceBenchOptions, _ comm: Communicator, seconds: Double, json: Bool) throws {
        let n = o.floats, k = o.terms, segs = segments(n)
        let total = k * comm.size
        // Gradient-like terms: uniform noise, a magnitude per bucket.
        var rng = SplitMix64(seed: UInt64(comm.rank) &+ 1)
        let terms = (0..<k).map { _ in FloatBuffer(count: n) }
        for t in terms {
            var at = 0
            for (b, len) in segs.enumerated() {
                let mag = Float(sign: .plus, exponent: -(b % 20), significand: 1)
                for i in at..<(at + len) { t.base[i] = (rng.uniform() - 0.5) * mag }
                at += len
            }
        }
        let out = FloatBuffer(count: n)
        let report = BenchReport(json: json)
        let modes = ReductionMode.allCases
        let bytes = Int(o.bucketMB * Double(1 << 20))
        let reducers = modes.map { GradientReducer(mode: $0, segments: segs, chunk: max(1, bytes / 4)) }
        // One step: barrier, K adds, reduce. Returns (add, reduce, comm) seconds.
        func step(_ reducer: GradientReducer) throws -> [Double] {
            try comm.barrier()
            let t0 = DispatchTime.now().uptimeNanoseconds
            for t in terms { reducer.add(UnsafeBufferPointer(t.buffer)) }
            let t1 = DispatchTime.now().uptimeNanoseconds
            guard try reducer.reduce(over: comm, totalTerms: total, scale: 1 / Float(total), into: out.buffer) else {
                throw ValidationError("bench reduce: non-finite terms")
            }
            let t2 = DispatchTime.now().uptimeNanoseconds
            return [Double(t1 - t0) * 1e-9, Double(t2 - t1) * 1e-9, reducer.lastCommSeconds]
        }
        // Every rank must run as many steps: the count comes from the slowest warm-up.
        let warm = try reducers.map { try step($0).reduce(0, +) }.reduce(0, +)
        let slowest = try comm.allreduce(warm, op: .max)
        let reps = min(1000, max(5, Int((seconds / max(slowest, 1e-6)).rounded(.up))))
        // The modes take turns, so a busy spell on a shared host hits both alike. Per step, the
        // slowest rank's figures; the best step stands for the machine, the mean for the run.
        var best = [[Double]](repeating: [.infinity, .infinity, .infinity], count: modes.count)
        var sum = [[Double]](repeating: [0, 0, 0], count: modes.count)
        for _ in 0..<reps {
            for (m, r) in reducers.enumerated() {
                var t = try step(r)
                try t.withUnsafeMutableBufferPointer { try comm.allreduce($0, op: .max) }
                if t[0] + t[1] < best[m][0] + best[m][1] { best[m] = t }
                for i in 0..<3 { sum[m][i] += t[i] }
            }
        }
        guard comm.rank == 0 else { return }
        for (m, mode) in modes.enumerated() {
            let b = best[m], mean = sum[m].map { $0 / Double(reps) }
            report.emit([("bench", "reduce"), ("mode", mode.rawValue), ("ranks", comm.size), ("floats", n),
                         ("buckets", segs.count), ("bucket_mb", o.bucketMB), ("terms_per_rank", k), ("reps", reps),
                         ("add_ms", b[0] * 1e3), ("reduce_ms", b[1] * 1e3), ("comm_ms", b[2] * 1e3),
                         ("step_ms", (b[0] + b[1]) * 1e3), ("mean_step_ms", (mean[0] + mean[1]) * 1e3)])
        }
        // Per step is the fair ratio: fast sums in add(), exact in reduce().
        let f = modes.firstIndex(of: .fast)!, e = modes.firstIndex(of: .exact)!
        report.emit([("bench", "reduce"), ("exact_over_fast", (best[e][0] + best[e][1]) / (best[f][0] + best[f][1])),
                     ("exact_over_fast_reduce_only", best[e][1] / best[f][1])])
    }

    // MARK: --check

    /// Term j, element i of the check's fixed set, by bucket kind (b % 4): all zero; any
    /// magnitude from subnormal to 2^20; gradient-like (2^-12 to 1); mostly 2^-30 to 2^-10 with
    /// rare 2^20 outliers. One in eight elements is zero, signs are mixed.
    static func checkValue(term j: Int, element i: Int, bucket b: Int) -> Float {
        let h = SplitMix64.mix(CounterRandom.key(0xC4EC, UInt64(j)) ^ UInt64(i))
        let kind = b % 4
        if kind == 0 || h & 7 == 0 { return 0 }
        let sign: FloatingPointSign = (h >> 3) & 1 == 0 ? .plus : .minus
        let significand = 1 + Float((h >> 8) & 0xFF_FFFF) * 0x1p-24
        let r = Int((h >> 32) % 1024)
        let e: Int
        switch kind {
        case 1: e = -149 + r % 170
        case 2: e = -12 + r % 13
        default: e = r < 16 ? 20 : -30 + r % 21
        }
        return Float(sign: sign, exponent: e, significand: significand)
    }

    /// FNV-1a over the bit patterns (little-endian bytes).
    static func hash(_ v: UnsafeBufferPointer<Float>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for x in v {
            var bits = x.bitPattern
            for _ in 0..<4 { h = (h ^ UInt64(bits & 0xFF)) &* 0x100_0000_01B3; bits >>= 8 }
        }
        return h
    }

    static func check(_ o: ReduceBenchOptions, _ comm: Communicator, json: Bool) throws {
        // Buckets: the timing layout's sizes plus an empty one, on a smaller cycle.
        let n = o.floats, m = o.terms
        var segs = segments(n).map { min($0, 4099) }
        var left = n - segs.reduce(0, +)
        while left > 0 { let s = min(4099, left); segs.append(s); left -= s }
        segs.insert(0, at: min(3, segs.count))
        func fill(_ j: Int, _ buf: FloatBuffer) {
            var at = 0
            for (b, len) in segs.enumerated() {
                for i in 0..<len { buf.base[at + i] = checkValue(term: j, element: at + i, bucket: b) }
                at += len
            }
            if j == o.poison { buf.base[n / 2] = .nan }
        }
        // A scrambled owner per term; odd ranks add theirs in reverse order.
        let owner = { (j: Int) in Int(SplitMix64.mix(UInt64(j) &+ 0x5EED) % UInt64(comm.size)) }
        var mine = (0..<m).filter { owner($0) == comm.rank }
        if comm.rank % 2 == 1 { mine.reverse() }
        let term = FloatBuffer(count: n), out = FloatBuffer(count: n), scale = 1 / Float(max(m, 1))

        var hashes: [Int64] = [], finite: [Int64] = []   // exact, fast
        var exactOut: [Float] = []
        for mode in [ReductionMode.exact, .fast] {
            let reducer = GradientReducer(mode: mode, segments: segs)
            for j in mine { fill(j, term); reducer.add(UnsafeBufferPointer(term.buffer)) }
            let ok = try reducer.reduce(over: comm, totalTerms: m, scale: scale, into: out.buffer)
            hashes.append(Int64(bitPattern: hash(UnsafeBufferPointer(out.buffer))))
            finite.append(ok ? 1 : 0)
            if mode == .exact { exactOut = Array(out.buffer) }
        }
        // The same terms, all on this rank, in index order, reduced alone.
        let local = GradientReducer(mode: .exact, segments: segs)
        for j in 0..<m { fill(j, term); local.add(UnsafeBufferPointer(term.buffer)) }
        let localOK = try local.reduce(over: nil, totalTerms: m, scale: scale, into: out.buffer)
        let matchesLocal = localOK == (finite[0] == 1) && (!localOK || out.buffer.map(\.bitPattern) == exactOut.map(\.bitPattern))

        let all = try comm.allgather(array: hashes + finite + [Int64(mine.count), matchesLocal ? 1 : 0])
        guard comm.rank == 0 else { return }
        func hex(_ h: Int64) -> String { "0x" + String(UInt64(bitPattern: h), radix: 16) }
        // Bools and arrays print as JSON literals (BenchReport quotes only strings).
        let fields: [(String, Any)] = [
            ("bench", "reduce"), ("check", true), ("ranks", comm.size), ("floats", n), ("buckets", segs.count),
            ("terms", m), ("exact_hash", hex(all[0][0])), ("fast_hash", hex(all[0][1])),
            ("ranks_agree", all.allSatisfy { $0[0] == all[0][0] }),
            ("matches_local", all.allSatisfy { $0[5] == 1 }),
            ("exact_finite", all.map { $0[2] == 1 }), ("fast_finite", all.map { $0[3] == 1 }),
            ("local_terms", all.map { Int($0[4]) }), ("nonzero", exactOut.filter { $0 != 0 }.count),
        ]
        BenchReport(json: json).emit(fields)
    }
}
