import Engine

/// Convolution layers as the trainer runs them: a planned one-layer graph (input gradients
/// on, as for any layer but the first), timed forward, backward and both.
/// FLOPs: 2·N·O·C·∏k·∏out per forward; backward is twice that (weight and input gradients).
enum ConvBench {
    struct Case {
        let input: Shape
        let outChannels: Int
        let kernel: Int
        var padding: Int { kernel / 2 }
    }

    static let cases = [
        Case(input: Shape(4, 10, 256, 256), outChannels: 16, kernel: 3),
        Case(input: Shape(4, 64, 128, 128), outChannels: 64, kernel: 3),
        Case(input: Shape(16, 256, 32, 32), outChannels: 256, kernel: 3),
        Case(input: Shape(512, 64, 24), outChannels: 64, kernel: 5),
        Case(input: Shape(2, 16, 8, 64, 64), outChannels: 16, kernel: 3),
    ]

    static func run(seconds: Double, report: BenchReport) throws {
        for c in cases {
            let layer = Conv(outChannels: c.outChannels, kernel: c.kernel, padding: c.padding)
            let g = Graph()
            let x = g.input("x", c.input)
            let y = try g.add("conv", layer, x)
            let ex = try g.plan(outputs: [y], inputGradients: true)
            ex.parameters.initialize(seed: 1)
            var rng = SplitMix64(seed: 2)
            let xt = ex.value(x), dy = ex.gradient(y)!
            for i in 0..<xt.count { xt.data[i] = rng.uniform() - 0.5 }
            for i in 0..<dy.count { dy.data[i] = rng.uniform() - 0.5 }

            let sr = c.input.rank - 2
            let out = g.shape(y)
            let kvol = (0..<sr).reduce(1) { acc, _ in acc * c.kernel }
            let forwardFlops = 2 * Double(c.input.batch) * Double(c.outChannels) * Double(c.input.channels)
                * Double(kvol) * Double(out.spatial.reduce(1, *))
            let name = "\(layer.kind(for: [c.input])) \(c.input.channels)->\(c.outChannels) k\(c.kernel) "
                + c.input.spatial.map(String.init).joined(separator: "x")
            let mode = Mode.training(seed: 1)
            let passes: [(String, Double, () -> Void)] = [
                ("forward", 1, { ex.forward(mode: mode) }),
                ("backward", 2, { ex.backward(mode: mode) }),
                ("forward+backward", 3, { ex.forward(mode: mode); ex.backward(mode: mode) }),
            ]
            for (pass, factor, body) in passes {
                let t = timePerCall(seconds: seconds, body)
                report.emit([("kernel", name), ("batch", c.input.batch), ("pass", pass),
                             ("gflops", factor * forwardFlops / t / 1e9), ("threads", BLAS.threads),
                             ("blas_core", BLAS.coreName), ("ms", t * 1e3)])
            }
        }
    }
}
