import Engine

/// 2048×2048×2048 sgemm through the engine's BLAS: the machine's ceiling for conv layers.
enum SgemmBench {
    static func run(seconds: Double, report: BenchReport) {
        let n = 2048
        let a = HostTensor(Shape(n, n)), b = HostTensor(Shape(n, n)), c = HostTensor(Shape(n, n))
        var rng = SplitMix64(seed: 1)
        for i in 0..<(n * n) { a.data[i] = rng.uniform() - 0.5; b.data[i] = rng.uniform() - 0.5 }
        let t = timePerCall(seconds: seconds) {
            BLAS.sgemm(m: n, n: n, k: n, a: a.data, lda: n, b: b.data, ldb: n, beta: 0, c: c.data, ldc: n)
        }
        let gflops = 2 * Double(n) * Double(n) * Double(n) / t / 1e9
        report.emit([("kernel", "sgemm"), ("m", n), ("n", n), ("k", n), ("gflops", gflops),
                     ("threads", BLAS.threads), ("blas_core", BLAS.coreName), ("ms", t * 1e3)])
    }
}
