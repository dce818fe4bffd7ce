import TestSupport
import XCTest
@testable import Engine

final class OptimizerTests: XCTestCase {
    /// A store with the given values split over two tensors (so offsets are exercised).
    private func store(_ values: [Float]) throws -> ParameterStore {
        let a = values.count / 2
        let s = try ParameterStore(parameters: [("a", TensorSpec("a", Shape(a), .zeros)),
                                                ("b", TensorSpec("b", Shape(values.count - a), .zeros))],
                                   state: [])
        s.values.base.update(from: values, count: values.count)
        return s
    }

    private func setGrads(_ s: ParameterStore, _ g: [Float]) { s.grads.base.update(from: g, count: g.count) }
    private func values(_ s: ParameterStore) -> [Float] { Array(s.values.buffer) }

    private func assertClose(_ got: [Float], _ want: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, file: file, line: line)
        for (g, w) in zip(got, want) { XCTAssertEqual(Double(g), w, accuracy: 1e-6, "\(got) vs \(want)", file: file, line: line) }
    }

    // MARK: SGD

    func testSGDWeightDecay() throws {
        // p = [1, -2, 0.5], lr 0.1, wd 0.1, g = [0.5, 1, -1] both steps.
        // 1: g' = g + 0.1p = [0.6, 0.8, -0.95];          p = p - 0.1g' = [0.94, -2.08, 0.595]
        // 2: g' = [0.5+0.094, 1-0.208, -1+0.0595]
        //       = [0.594, 0.792, -0.9405];               p = [0.8806, -2.1592, 0.68905]
        let s = try store([1, -2, 0.5])
        let opt = try SGD(for: s, weightDecay: 0.1)
        XCTAssertTrue(opt.stateTensors.isEmpty)
        setGrads(s, [0.5, 1, -1])
        try opt.update(s, learningRate: 0.1)
        assertClose(values(s), [0.94, -2.08, 0.595])
        try opt.update(s, learningRate: 0.1)
        assertClose(values(s), [0.8806, -2.1592, 0.68905])
        XCTAssertEqual(opt.step, 2)
    }

    func testSGDMomentumWithDampening() throws {
        // p = [1, -2], lr 0.1, μ 0.9, dampening 0.5.
        // 1: g = [1, 2];     b = g (first step: no dampening) = [1, 2];            p = [0.9, -2.2]
        // 2: g = [-1, 0.5];  b = 0.9b + 0.5g = [0.9-0.5, 1.8+0.25] = [0.4, 2.05];  p = [0.86, -2.405]
        // 3: g = [0.5, 0.5]; b = [0.36+0.25, 1.845+0.25] = [0.61, 2.095];          p = [0.799, -2.6145]
        let s = try store([1, -2])
        let opt = try SGD(for: s, momentum: 0.9, dampening: 0.5)
        for (g, want) in [([1, 2], [0.9, -2.2]), ([-1, 0.5], [0.86, -2.405]), ([0.5, 0.5], [0.799, -2.6145])]
            as [([Float], [Double])] {
            setGrads(s, g)
            try opt.update(s, learningRate: 0.1)
            assertClose(values(s), want)
        }
        assertClose(Array(opt.stateTensors[0].data), [0.61, 2.095])
        XCTAssertEqual(opt.stateTensors[0].name, "sgd.momentum")
    }

    func testSGDNesterovWithWeightDecay() throws {
        // p = [1, -2], lr 0.1, μ 0.9, wd 0.1, nesterov.
        // 1: g = [1, 2]:    g' = g + 0.1p = [1.1, 1.8]; b = g' = [1.1, 1.8]
        //                   d = g' + 0.9b = [2.09, 3.42];             p = [0.791, -2.342]
        // 2: g = [-1, 0.5]: g' = [-1+0.0791, 0.5-0.2342] = [-0.9209, 0.2658]
        //                   b = 0.9b + g' = [0.99-0.9209, 1.62+0.2658] = [0.0691, 1.8858]
        //                   d = g' + 0.9b = [-0.85871, 1.96302];     p = [0.876871, -2.538302]
        let s = try store([1, -2])
        let opt = try SGD(for: s, momentum: 0.9, nesterov: true, weightDecay: 0.1)
        setGrads(s, [1, 2])
        try opt.update(s, learningRate: 0.1)
        assertClose(values(s), [0.791, -2.342])
        setGrads(s, [-1, 0.5])
        try opt.update(s, learningRate: 0.1)
        assertClose(values(s), [0.876871, -2.538302])
        assertClose(Array(opt.stateTensors[0].data), [0.0691, 1.8858])
    }

    func testGradScaleEqualsScaledGradients() throws {
        // gradScale 0.5 (a power of two: exact) must give bitwise the run on halved gradients.
        let grads: [[Float]] = [[0.3, -1.7, 2.5], [1.1, 0.25, -0.6], [-0.9, 0.4, 0.05]]
        for make in optimizerMakers() {
            let a = try store([0.2, -0.4, 1.3]), b = try store([0.2, -0.4, 1.3])
            let oa = try make(3), ob = try make(3)
            for g in grads {
                setGrads(a, g); try oa.update(a, learningRate: 0.05, gradScale: 0.5)
                setGrads(b, g.map { $0 / 2 }); try ob.update(b, learningRate: 0.05)
            }
            XCTAssertEqual(values(a), values(b), oa.kind)
        }
    }

    // MARK: Adam / AdamW

    func testAdamBiasCorrection() throws {
        // p = [1, -2, 0.5], lr 0.1, β (0.9, 0.999), ε 1e-8.
        // 1: g = [0.5, -1, 2]: m = 0.1g, v = 0.001g²; m̂ = m/0.1 = g, v̂ = v/0.001 = g²
        //    p -= 0.1·g/|g| (ε negligible)                       → [0.9, -1.9, 0.4]
        //    (without bias correction the step would be 0.1·0.1g/(√0.001|g|) ≈ 0.316 instead.)
        // 2: g = [-0.5, 0.5, 1]: m = 0.9m + 0.1g = [-0.005, -0.04, 0.28]
        //    v = 0.999v + 0.001g² = [0.00049975, 0.001249, 0.004996]
        //    bc1 = 1-0.9² = 0.19, bc2 = 1-0.999² = 0.001999
        //    v̂ = [0.25, 0.6248124, 2.4992496], √v̂ = [0.5, 0.7904507, 1.5809015]
        //    p -= 0.1·(m/0.19)/√v̂ = [-0.0052632, -0.0266337, 0.0932180]
        //                                                       → [0.9052632, -1.8733663, 0.3067820]
        let s = try store([1, -2, 0.5])
        let opt = try Adam(for: s)
        setGrads(s, [0.5, -1, 2])
        try opt.update(s, learningRate: 0.1)
        assertClose(values(s), [0.900000002, -1.900000001, 0.4000000005])
        setGrads(s, [-0.5, 0.5, 1])
        try opt.update(s, learningRate: 0.1)
        assertClose(values(s), [0.9052631598, -1.8733662974, 0.3067820372])
        let st = opt.stateTensors
        XCTAssertEqual(st.map(\.name), ["adam.m", "adam.v"])
        assertClose(Array(st[0].data), [-0.005, -0.04, 0.28])
        assertClose(Array(st[1].data), [0.00049975, 0.001249, 0.004996])
    }

    func testAdamL2WeightDecay() throws {
        // p = [1, -2, 0.5], lr 0.1, wd 0.1 (added to the gradient, then through the moments).
        // 1: g = [-0.05, 0.1, 0.3]: g' = g + 0.1p = [0.05, -0.1, 0.35] (decay flips the sign of
        //    the first two) → p -= 0.1·sign(g')                  → [0.9, -1.9, 0.4]
        // 2: g = [0.2, -0.3, 0.1]: g' = g + 0.1p = [0.29, -0.49, 0.14]
        //    m = 0.9·0.1·g'₁ + 0.1g' = [0.0335, -0.058, 0.0455]
        //    v = 0.999·0.001·g'₁² + 0.001g'² = [8.65975e-5, 2.5009e-4, 1.419775e-4]
        //    m̂ = m/0.19 = [0.1763158, -0.3052632, 0.2394737]; √(v/0.001999) = [0.2081356, 0.3537055, 0.2665038]
        //    p -= 0.1·m̂/√v̂ = [0.0847120, -0.0863043, 0.0898575] → [0.8152880, -1.8136957, 0.3101425]
        let s = try store([1, -2, 0.5])
        let opt = try Adam(for: s, weightDecay: 0.1)
        setGrads(s, [-0.05, 0.1, 0.3])
        try opt.update(s, learningRate: 0.1)
        assertClose(values(s), [0.90000002, -1.90000001, 0.4000000029])
        setGrads(s, [0.2, -0.3, 0.1])
        try opt.update(s, learningRate: 0.1)
        assertClose(values(s), [0.815288026, -1.8136956743, 0.3101424857])
    }

    func testAdamWDecoupledDecay() throws {
        // p = [1, -2, 0.5], lr 0.1, wd 0.1: p *= 1 - 0.01 first, the moments see the raw gradient.
        // 1: p = 0.99p = [0.99, -1.98, 0.495]; g = [0.5, -1, 2] → -0.1·sign(g)   → [0.89, -1.88, 0.395]
        // 2: p = 0.99p = [0.8811, -1.8612, 0.39105]; g = [-0.5, 0.5, 1]: moments and step as in
        //    testAdamBiasCorrection, [-0.0052632, -0.0266337, 0.0932180]       → [0.8863632, -1.8345663, 0.2978320]
        let s = try store([1, -2, 0.5])
        let opt = try AdamW(for: s, weightDecay: 0.1)
        XCTAssertEqual(try AdamW(for: s).weightDecay, 0.01)
        setGrads(s, [0.5, -1, 2])
        try opt.update(s, learningRate: 0.1)
        assertClose(values(s), [0.890000002, -1.880000001, 0.3950000005])
        setGrads(s, [-0.5, 0.5, 1])
        try opt.update(s, learningRate: 0.1)
        assertClose(values(s), [0.8863631598, -1.8345662974, 0.2978320372])
        XCTAssertEqual(opt.stateTensors.map(\.name), ["adamw.m", "adamw.v"])
    }

    // MARK: Against plain references on odd sizes (vector body + tail)

    /// PyTorch's SGD written plainly in double.
    private func referenceSGD(_ p0: [Float], _ gs: [[Float]], lr: Double, mu: Double, damp: Double,
                              wd: Double, nesterov: Bool) -> [Double] {
        var p = p0.map(Double.init), b = [Double](repeating: 0, count: p.count)
        for (k, g) in gs.enumerated() {
            for i in p.indices {
                var d = Double(g[i]) + wd * p[i]
                if mu != 0 {
                    b[i] = k == 0 ? d : mu * b[i] + (1 - damp) * d
                    d = nesterov ? d + mu * b[i] : b[i]
                }
                p[i] -= lr * d
            }
        }
        return p
    }

    /// PyTorch's Adam / AdamW written plainly in double.
    private func referenceAdam(_ p0: [Float], _ gs: [[Float]], lr: Double, wd: Double, decoupled: Bool) -> [Double] {
        let b1 = 0.9, b2 = 0.999, eps = 1e-8
        var p = p0.map(Double.init), m = [Double](repeating: 0, count: p.count), v = m
        for (k, g) in gs.enumerated() {
            let t = Double(k + 1)
            for i in p.indices {
                if decoupled { p[i] *= 1 - lr * wd }
                let gi = Double(g[i]) + (decoupled ? 0 : wd * p[i])
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                let mHat = m[i] / (1 - pow(b1, t)), vHat = v[i] / (1 - pow(b2, t))
                p[i] -= lr * mHat / (vHat.squareRoot() + eps)
            }
        }
        return p
    }

    func testOddSizesAgainstReference() throws {
        for n in [1, 8, 19] {
            var rng = SplitMix64(seed: UInt64(n))
            let p0 = (0..<n).map { _ in rng.normal() }
            let gs = (0..<3).map { k in randomGrads(n, step: k) }
            func run(_ opt: any Optimizer, lr: Float) throws -> [Float] {
                let s = try store(p0)
                for g in gs { setGrads(s, g); try opt.update(s, learningRate: lr) }
                return values(s)
            }
            for (mu, damp, wd, nest) in [(0.0, 0.0, 0.01, false), (0.9, 0.2, 0.01, false), (0.9, 0, 0.05, true)] {
                let got = try run(try SGD(parameterCount: n, momentum: Float(mu), nesterov: nest,
                                          weightDecay: Float(wd), dampening: Float(damp)), lr: 0.1)
                assertClose(got, referenceSGD(p0, gs, lr: 0.1, mu: mu, damp: damp, wd: wd, nesterov: nest))
            }
            assertClose(try run(try Adam(parameterCount: n, weightDecay: 0.05), lr: 0.01),
                        referenceAdam(p0, gs, lr: 0.01, wd: 0.05, decoupled: false))
            assertClose(try run(try AdamW(parameterCount: n, weightDecay: 0.05), lr: 0.01),
                        referenceAdam(p0, gs, lr: 0.01, wd: 0.05, decoupled: true))
        }
    }

    /// Adam's 8-lane body (vector square roots) and its scalar tail round every element the
    /// same way: 19 parameters where the tail's three repeat lanes 0, 9 and 15 bit for bit.
    func testAdamLanesAndTailRoundAlike() throws {
        var rng = SplitMix64(seed: 11)
        var p0 = (0..<19).map { _ in rng.normal() }
        for (t, l) in [(16, 0), (17, 9), (18, 15)] { p0[t] = p0[l] }
        for make in [{ try Adam(parameterCount: 19, weightDecay: 0.01) }, { try AdamW(parameterCount: 19) }] as [() throws -> any Optimizer] {
            let s = try store(p0), opt = try make()
            for k in 0..<4 {
                var g = randomGrads(19, step: k)
                for (t, l) in [(16, 0), (17, 9), (18, 15)] { g[t] = g[l] }
                setGrads(s, g)
                try opt.update(s, learningRate: 0.01)
            }
            let v = values(s)
            for (t, l) in [(16, 0), (17, 9), (18, 15)] { XCTAssertEqual(v[t].bitPattern, v[l].bitPattern, "\(opt.kind) [\(t)] vs [\(l)]") }
        }
    }

    // MARK: State export / import

    private func optimizerMakers() -> [(Int) throws -> any Optimizer] {
        [{ try SGD(parameterCount: $0, momentum: 0.9, weightDecay: 1e-3, dampening: 0.1) },
         { try SGD(parameterCount: $0, momentum: 0.8, nesterov: true) },
         { try Adam(parameterCount: $0, weightDecay: 1e-2) },
         { try AdamW(parameterCount: $0) }]
    }

    /// Deterministic pseudo-gradients for step k.
    private func randomGrads(_ n: Int, step k: Int) -> [Float] {
        var rng = SplitMix64(seed: 1000 + UInt64(k))
        return (0..<n).map { _ in rng.normal() }
    }

    func testStateRoundTripContinuesBitwise() throws {
        let n = 37
        var rng = SplitMix64(seed: 7)
        let start = (0..<n).map { _ in rng.normal() }
        let schedule = LRSchedule.warmup(steps: 2, startFactor: 0.1, then: .cosine(lr: 0.05, totalSteps: 10, minLR: 0))
        for make in optimizerMakers() {
            // Uninterrupted: 6 steps.
            let a = try store(start), oa = try make(n)
            for k in 0..<6 { setGrads(a, randomGrads(n, step: k)); try oa.update(a, schedule: schedule) }
            // Interrupted after 3: export, import into a fresh optimizer, 3 more.
            let b = try store(start), ob = try make(n)
            for k in 0..<3 { setGrads(b, randomGrads(n, step: k)); try ob.update(b, schedule: schedule) }
            let saved = ob.exportState()
            let oc = try make(n)
            XCTAssertEqual(oc.stateTensors.map(\.name), saved.tensors.map(\.name))
            let copies = saved.tensors.map { t in (t.name, UnsafeMutableBufferPointer<Float>.allocate(capacity: n)) }
            defer { copies.forEach { $0.1.deallocate() } }
            for (c, t) in zip(copies, saved.tensors) { _ = c.1.initialize(from: t.data) }
            // Reverse order: import goes by name.
            try oc.importState(copies.reversed().map { ($0.0, UnsafeBufferPointer($0.1)) }, step: saved.step)
            XCTAssertEqual(oc.step, 3)
            for k in 3..<6 { setGrads(b, randomGrads(n, step: k)); try oc.update(b, schedule: schedule) }
            XCTAssertEqual(values(a), values(b), oa.kind)
            for (x, y) in zip(oa.stateTensors, oc.stateTensors) { XCTAssertEqual(Array(x.data), Array(y.data), x.name) }

            // Optimizer-to-optimizer copy (round-robin hand-over) gives the same.
            let od = try make(n)
            try od.importState(from: oa)
            XCTAssertEqual(od.step, 6)
            for (x, y) in zip(oa.stateTensors, od.stateTensors) { XCTAssertEqual(Array(x.data), Array(y.data)) }
        }
    }

    func testImportStateErrors() throws {
        let opt = try Adam(parameterCount: 3)
        let m = [Float](repeating: 1, count: 3), short = [Float](repeating: 1, count: 2)
        func attempt(_ tensors: [(String, [Float])], step: Int = 1) -> String {
            do {
                let bufs = tensors.map { t in (t.0, UnsafeMutableBufferPointer<Float>.allocate(capacity: t.1.count)) }
                defer { bufs.forEach { $0.1.deallocate() } }
                for (b, t) in zip(bufs, tensors) { _ = b.1.initialize(from: t.1) }
                try opt.importState(bufs.map { ($0.0, UnsafeBufferPointer($0.1)) }, step: step)
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(attempt([("adam.m", m)]).contains("lacks 'adam.v'"))
        XCTAssertTrue(attempt([("adam.m", m), ("adam.v", short)]).contains("'adam.v' has 2 values, expected 3"))
        XCTAssertTrue(attempt([("adam.m", m), ("adam.v", m), ("adam.x", m)]).contains("unknown state 'adam.x'"))
        XCTAssertTrue(attempt([("adam.m", m), ("adam.v", m)], step: -1).contains("negative step"))
        // Failed imports changed nothing.
        XCTAssertEqual(opt.step, 0)
        XCTAssertEqual(Array(opt.stateTensors[0].data), [0, 0, 0])
        XCTAssertThrowsError(try opt.importState(from: try AdamW(parameterCount: 3))) {
            XCTAssertTrue("\($0)".contains("cannot load adamw state into adam"))
        }
    }

    func testMismatchedStoreAndBadHyperparametersThrow() throws {
        let s = try store([1, 2, 3])
        XCTAssertThrowsError(try Adam(parameterCount: 4).update(s, learningRate: 0.1)) {
            XCTAssertEqual($0 as? EngineError, .mismatch("adam: optimizer built for 4 parameters, store has 3"))
        }
        XCTAssertEqual(values(s), [1, 2, 3])
        XCTAssertThrowsError(try SGD(for: s, nesterov: true)) {
            guard case .parameter(let layer, let message)? = $0 as? EngineError else { return XCTFail("\($0)") }
            XCTAssertEqual(layer, "sgd"); XCTAssertTrue(message.contains("nesterov"))
        }
        XCTAssertThrowsError(try Adam(for: s, beta1: 1)) {
            guard case .parameter(let layer, let message)? = $0 as? EngineError else { return XCTFail("\($0)") }
            XCTAssertEqual(layer, "adam"); XCTAssertTrue(message.contains("beta1"))
        }
        XCTAssertThrowsError(try AdamW(for: s, eps: -1)) {
            guard case .parameter(let layer, _)? = $0 as? EngineError else { return XCTFail("\($0)") }
            XCTAssertEqual(layer, "adamw")
        }
    }
}
