import TestSupport
import XCTest
@testable import Engine

final class LossTests: XCTestCase {
    // MARK: softmax cross-entropy, by hand

    // logits (1, 2, 3): e + e² + e³ = 30.192874850, log = 3.407605964;
    // softmax = (0.090030573, 0.244728471, 0.665240956).
    let lse123 = 3.407605964
    let sm123: [Float] = [0.090030573, 0.244728471, 0.665240956]

    func testHardLabelOnePixelByHand() throws {
        let z = HostTensor(Shape(1, 3), [1, 2, 3])
        let g = HostTensor(Shape(1, 3), [9, 9, 9]) // must be overwritten
        let y = HostLabelTensor(Shape(1), [0])
        let loss = try SoftmaxCrossEntropy().compute(logits: z.tensor, target: .hard(y.labels), gradient: g.tensor)
        XCTAssertEqual(Double(loss), lse123 - 1, accuracy: 1e-6)
        XCTAssertEqual(g.array[0], sm123[0] - 1, accuracy: 1e-6)
        XCTAssertEqual(g.array[1], sm123[1], accuracy: 1e-6)
        XCTAssertEqual(g.array[2], sm123[2], accuracy: 1e-6)
    }

    func testSoftTargetOnePixelByHand() throws {
        // t = (0.5, 0.5, 0): loss = 0.5·(lse − 1) + 0.5·(lse − 2); gradient softmax − t.
        let z = HostTensor(Shape(1, 3, 1, 1), [1, 2, 3])
        let t = HostTensor(Shape(1, 3, 1, 1), [0.5, 0.5, 0])
        let g = HostTensor(Shape(1, 3, 1, 1))
        let loss = try SoftmaxCrossEntropy().compute(logits: z.tensor, target: .soft(t.tensor), gradient: g.tensor)
        XCTAssertEqual(Double(loss), lse123 - 1.5, accuracy: 1e-6)
        for c in 0..<3 { XCTAssertEqual(g.array[c], sm123[c] - t.array[c], accuracy: 1e-6) }
    }

    func testLargeLogitsStayFinite() throws {
        let z = HostTensor(Shape(2, 2), [1000, -1000, -5e4, 5e4])
        let y = HostLabelTensor(Shape(2), [1, 0])
        let g = HostTensor(Shape(2, 2))
        let loss = try SoftmaxCrossEntropy().compute(logits: z.tensor, target: .hard(y.labels), gradient: g.tensor)
        XCTAssertEqual(loss, (2000 + 1e5) / 2)
        XCTAssertEqual(g.array, [0.5, -0.5, -0.5, 0.5])
    }

    /// Two pixels of N×C×H×W = 1×3×1×2; the mask drops pixel 1 (whose logits are NaN garbage):
    /// the result is exactly the one-pixel case, only the count differs from the unmasked mean.
    func testMaskExcludesPixel() throws {
        let z = HostTensor(Shape(1, 3, 1, 2), [1, .nan, 2, .nan, 3, .nan])
        let y = HostLabelTensor(Shape(1, 1, 2), [0, 2])
        let mask = HostTensor(Shape(1, 1, 2), [1, 0])
        let g = HostTensor(Shape(1, 3, 1, 2), [Float](repeating: 7, count: 6))
        let ce = SoftmaxCrossEntropy()
        let loss = try ce.compute(logits: z.tensor, target: .hard(y.labels), mask: mask.tensor, gradient: g.tensor)
        XCTAssertEqual(Double(loss), lse123 - 1, accuracy: 1e-6)
        XCTAssertEqual(g.array[0], sm123[0] - 1, accuracy: 1e-6)
        XCTAssertEqual(g.array[2], sm123[1], accuracy: 1e-6)
        XCTAssertEqual(g.array[4], sm123[2], accuracy: 1e-6)
        XCTAssertEqual([g.array[1], g.array[3], g.array[5]], [0, 0, 0])

        // Same pixel pair with finite logits: unmasked mean = (l0 + l1)/2; masked = l0/1.
        let z2 = HostTensor(Shape(1, 3, 1, 2), [1, 0, 2, 0, 3, 0]) // pixel 1 uniform: l1 = log 3
        let unmasked = try ce.computeSum(logits: z2.tensor, target: .hard(y.labels))
        let masked = try ce.computeSum(logits: z2.tensor, target: .hard(y.labels), mask: mask.tensor)
        XCTAssertEqual(unmasked.weight, 2)
        XCTAssertEqual(masked.weight, 1)
        XCTAssertEqual(unmasked.sum, lse123 - 1 + log(3), accuracy: 1e-6)
        XCTAssertEqual(masked.sum, lse123 - 1, accuracy: 1e-6)

        // Negative labels and ignoreIndex mask the same way; soft targets honour the mask too.
        let yNeg = HostLabelTensor(Shape(1, 1, 2), [0, -1])
        XCTAssertEqual(try ce.computeSum(logits: z.tensor, target: .hard(yNeg.labels)), masked)
        let yIgn = HostLabelTensor(Shape(1, 1, 2), [0, 4])
        XCTAssertEqual(try SoftmaxCrossEntropy(ignoreIndex: 4).computeSum(logits: z.tensor, target: .hard(yIgn.labels)), masked)
        let t = HostTensor(Shape(1, 3, 1, 2), [1, .nan, 0, .nan, 0, .nan])
        XCTAssertEqual(try ce.computeSum(logits: z.tensor, target: .soft(t.tensor), mask: mask.tensor).sum, lse123 - 1, accuracy: 1e-6)
    }

    func testNothingCountsGivesZeroNotNaN() throws {
        let z = HostTensor(Shape(2, 3, 2), [Float](repeating: 1, count: 12))
        let y = HostLabelTensor(Shape(2, 2), [-1, -1, 1, 2])
        let mask = HostTensor(Shape(2, 2), [1, 1, 0, 0])
        let g = HostTensor(Shape(2, 3, 2), [Float](repeating: 3, count: 12))
        let loss = try SoftmaxCrossEntropy().compute(logits: z.tensor, target: .hard(y.labels), mask: mask.tensor, gradient: g.tensor)
        XCTAssertEqual(loss, 0)
        XCTAssertEqual(g.array, [Float](repeating: 0, count: 12))
        // All class weights of present labels zero: same.
        let y2 = HostLabelTensor(Shape(2, 2), [0, 0, 0, 0])
        g.tensor.fill(3)
        let l2 = try SoftmaxCrossEntropy(classWeights: [0, 1, 1]).compute(logits: z.tensor, target: .hard(y2.labels), gradient: g.tensor)
        XCTAssertEqual(l2, 0)
        XCTAssertEqual(g.array, [Float](repeating: 0, count: 12))
    }

    func testClassWeightsPyTorchConvention() throws {
        // Pixels: (1, 2, 3) labelled 0 and (0, 0, 0) labelled 2; weights (2, 1, 0.5).
        // loss = (2·(lse123 − 1) + 0.5·log 3) / (2 + 0.5)
        let z = HostTensor(Shape(2, 3), [1, 2, 3, 0, 0, 0])
        let y = HostLabelTensor(Shape(2), [0, 2])
        let g = HostTensor(Shape(2, 3))
        let ce = SoftmaxCrossEntropy(classWeights: [2, 1, 0.5])
        let loss = try ce.compute(logits: z.tensor, target: .hard(y.labels), gradient: g.tensor)
        XCTAssertEqual(Double(loss), (2 * (lse123 - 1) + 0.5 * log(3)) / 2.5, accuracy: 1e-6)
        // d/dz = w_y·(softmax − onehot)/Σw
        let expected: [Float] = [2 * (sm123[0] - 1), 2 * sm123[1], 2 * sm123[2],
                                 0.5 / 3, 0.5 / 3, 0.5 * (1.0 / 3 - 1)].map { $0 / 2.5 }
        for i in 0..<6 { XCTAssertEqual(g.array[i], expected[i], accuracy: 1e-6) }
    }

    func testOneHotSoftTargetsEqualHardLabels() throws {
        let shape = Shape(2, 4, 3, 5)
        let z = GradCheck.random(shape, seed: 21)
        let y = HostLabelTensor(Shape(2, 3, 5))
        let t = HostTensor(shape)
        for b in 0..<2 {
            for p in 0..<15 {
                let label = Int32((b * 7 + p * 3) % 4)
                y.data[b * 15 + p] = label
                t.data[(b * 4 + Int(label)) * 15 + p] = 1
            }
        }
        let ce = SoftmaxCrossEntropy(classWeights: [0.5, 2, 1, 3])
        let gh = HostTensor(shape), gs = HostTensor(shape)
        let lh = try ce.compute(logits: z.tensor, target: .hard(y.labels), gradient: gh.tensor)
        let ls = try ce.compute(logits: z.tensor, target: .soft(t.tensor), gradient: gs.tensor)
        XCTAssertEqual(lh, ls, accuracy: 1e-6)
        for i in 0..<shape.count { XCTAssertEqual(gh.array[i], gs.array[i], accuracy: 1e-6) }
    }

    /// The 8-lane hard-label loop against a plain Double reference: 37 pixels per image (four
    /// full lane groups and a tail), masked, ignored and negative labels mixed inside groups,
    /// class weights, logits offset by a large constant.
    func testHardLabelsAgainstDoubleReference() throws {
        let shape = Shape(3, 6, 37)
        let z = GradCheck.random(shape, seed: 51)
        for i in 0..<shape.count { z.data[i] = 4 * z.data[i] + 300 }
        let y = HostLabelTensor(Shape(3, 37)), mask = HostTensor(Shape(3, 37))
        for p in 0..<111 {
            y.data[p] = p % 11 == 4 ? -1 : (p % 13 == 6 ? 5 : Int32((p * 7 + 2) % 6))
            mask.data[p] = p % 9 == 1 ? 0 : 1
        }
        let w: [Float] = [1, 0.5, 2, 0, 1.25, 3]
        let ce = SoftmaxCrossEntropy(classWeights: w, ignoreIndex: 5)
        let g = HostTensor(shape)
        g.tensor.fill(.nan) // every element is written
        let r = try ce.computeSum(logits: z.tensor, target: .hard(y.labels), mask: mask.tensor, gradient: g.tensor)
        var sum = 0.0, weight = 0.0
        for b in 0..<3 {
            for i in 0..<37 {
                let p = b * 37 + i, label = Int(y.data[p])
                let zs = (0..<6).map { Double(z.data[(b * 6 + $0) * 37 + i]) }
                let counted = label >= 0 && label != 5 && mask.data[p] > 0
                let wy = counted ? Double(w[label]) : 0
                let m = zs.max()!, se = zs.reduce(0) { $0 + exp($1 - m) }
                if counted && wy > 0 {
                    sum += wy * (m - zs[label] + log(se))
                    weight += wy
                }
                for c in 0..<6 {
                    let e = counted && wy > 0 ? wy * (exp(zs[c] - m) / se - (c == label ? 1 : 0)) : 0
                    XCTAssertEqual(Double(g.data[(b * 6 + c) * 37 + i]), e, accuracy: 1e-6, "pixel \(p) class \(c)")
                }
            }
        }
        XCTAssertEqual(r.sum, sum, accuracy: 1e-5 * sum)
        XCTAssertEqual(r.weight, weight)
    }

    /// `Lanes.exp` against libm over the range softmax uses and beyond.
    func testLaneExpMatchesLibm() {
        var worst: Float = 0
        var x: Float = -100
        while x < 90 {
            var v = SIMD8<Float>()
            for j in 0..<8 { v[j] = x + Float(j) * 0.0137 }
            let e = Lanes.exp(v)
            for j in 0..<8 {
                let ref = expf(v[j])
                if ref == 0 || v[j] < -87.3 { XCTAssertLessThan(e[j], 1e-37); continue }
                if ref.isInfinite || v[j] > 88.7 { XCTAssertGreaterThan(e[j], 1e38); continue }
                worst = max(worst, abs(e[j] - ref) / ref)
            }
            x += 0.1
        }
        XCTAssertLessThan(worst, 4e-7) // ~3 ulp
        let special = Lanes.exp(SIMD8<Float>(0, -.infinity, .infinity, .nan, -0.0, 1, -1, -1000))
        XCTAssertEqual(special[0], 1)
        XCTAssertEqual(special[1], 0)
        XCTAssertEqual(special[2], .infinity)
        XCTAssertTrue(special[3].isNaN)
        XCTAssertEqual(special[4], 1)
        XCTAssertEqual(special[5], expf(1), accuracy: 1e-6)
        XCTAssertEqual(special[6], expf(-1), accuracy: 1e-7)
        XCTAssertEqual(special[7], 0)
    }

    // MARK: gradients against central differences of the loss itself

    /// Checks `analytic` (d sum / d values) against (L(v+h) − L(v−h)) / 2h for every element.
    private func numericCheck(_ values: Tensor, _ analytic: [Float], h: Float = 1e-2, tolerance: Double = 1e-3,
                              _ what: String, file: StaticString = #filePath, line: UInt = #line,
                              loss: () throws -> Double) rethrows {
        for i in 0..<values.count {
            let v = values.data[i]
            values.data[i] = v + h
            let lp = try loss()
            values.data[i] = v - h
            let lm = try loss()
            values.data[i] = v
            let numeric = (lp - lm) / Double(2 * h)
            let a = Double(analytic[i])
            if abs(a - numeric) > tolerance * max(1, abs(a), abs(numeric)) {
                XCTFail("\(what)[\(i)]: analytic \(a) vs numeric \(numeric)", file: file, line: line)
                return
            }
        }
    }

    /// d(mean) must be d(sum)/weight.
    private func assertMeanGradient(_ mean: [Float], _ sum: [Float], weight: Double, file: StaticString = #filePath, line: UInt = #line) {
        for i in 0..<sum.count {
            XCTAssertEqual(Double(mean[i]), Double(sum[i]) / weight, accuracy: 1e-6 * max(1, abs(Double(sum[i]))), file: file, line: line)
        }
    }

    func testSoftmaxCrossEntropyGradientsHard() throws {
        let shape = Shape(2, 5, 3, 3)
        let z = GradCheck.random(shape, seed: 31)
        let y = HostLabelTensor(Shape(2, 3, 3))
        let mask = HostTensor(Shape(2, 1, 3, 3))
        for p in 0..<18 {
            y.data[p] = p % 7 == 3 ? -1 : Int32((p * 5 + 1) % 5)
            mask.data[p] = p % 5 == 2 ? 0 : 1
        }
        for ce in [SoftmaxCrossEntropy(), SoftmaxCrossEntropy(classWeights: [1, 0.2, 3, 0, 1.5], ignoreIndex: 4)] {
            let g = HostTensor(shape), gm = HostTensor(shape)
            let r = try ce.computeSum(logits: z.tensor, target: .hard(y.labels), mask: mask.tensor, gradient: g.tensor)
            XCTAssertGreaterThan(r.weight, 0)
            try numericCheck(z.tensor, g.array, "ce hard") {
                try ce.computeSum(logits: z.tensor, target: .hard(y.labels), mask: mask.tensor).sum
            }
            let mean = try ce.compute(logits: z.tensor, target: .hard(y.labels), mask: mask.tensor, gradient: gm.tensor)
            XCTAssertEqual(Double(mean), r.sum / r.weight, accuracy: 1e-6)
            assertMeanGradient(gm.array, g.array, weight: r.weight)
        }
    }

    func testSoftmaxCrossEntropyGradientsSoft() throws {
        let shape = Shape(3, 4, 7)
        let z = GradCheck.random(shape, seed: 41)
        let t = HostTensor(shape)
        var rng = SplitMix64(seed: 42)
        for b in 0..<3 {
            for p in 0..<7 {
                let raw = (0..<4).map { _ in rng.uniform() }
                let s = raw.reduce(0, +)
                for c in 0..<4 { t.data[(b * 4 + c) * 7 + p] = raw[c] / s }
            }
        }
        let mask = HostTensor(Shape(3, 7))
        for p in 0..<21 { mask.data[p] = p % 4 == 1 ? 0 : 1 }
        for ce in [SoftmaxCrossEntropy(), SoftmaxCrossEntropy(classWeights: [0.5, 1, 2, 4])] {
            let g = HostTensor(shape), gm = HostTensor(shape)
            let r = try ce.computeSum(logits: z.tensor, target: .soft(t.tensor), mask: mask.tensor, gradient: g.tensor)
            if ce.classWeights == nil { XCTAssertEqual(r.weight, 16, accuracy: 1e-5) } // 21 pixels, 5 masked
            try numericCheck(z.tensor, g.array, "ce soft") {
                try ce.computeSum(logits: z.tensor, target: .soft(t.tensor), mask: mask.tensor).sum
            }
            _ = try ce.compute(logits: z.tensor, target: .soft(t.tensor), mask: mask.tensor, gradient: gm.tensor)
            assertMeanGradient(gm.array, g.array, weight: r.weight)
        }
    }

    // MARK: binary cross-entropy

    func testBinaryCrossEntropyByHand() throws {
        // z = (0, 2, −3), t = (1, 0, 1): losses log 2, 2 + log(1 + e⁻²), 3 + log(1 + e⁻³).
        let z = HostTensor(Shape(1, 3), [0, 2, -3])
        let t = HostTensor(Shape(1, 3), [1, 0, 1])
        let g = HostTensor(Shape(1, 3))
        let loss = try BinaryCrossEntropy().compute(logits: z.tensor, target: t.tensor, gradient: g.tensor)
        let e = (log(2.0) + 2 + log(1 + exp(-2.0)) + 3 + log(1 + exp(-3.0))) / 3
        XCTAssertEqual(Double(loss), e, accuracy: 1e-6)
        let sig = { (x: Double) in 1 / (1 + exp(-x)) }
        XCTAssertEqual(Double(g.array[0]), (0.5 - 1) / 3, accuracy: 1e-7)
        XCTAssertEqual(Double(g.array[1]), sig(2) / 3, accuracy: 1e-7)
        XCTAssertEqual(Double(g.array[2]), (sig(-3) - 1) / 3, accuracy: 1e-7)
        // Extreme logits: finite, with the exact limits.
        let z2 = HostTensor(Shape(2, 1), [100, -100])
        let t2 = HostTensor(Shape(2, 1), [0, 0])
        let g2 = HostTensor(Shape(2, 1))
        let r = try BinaryCrossEntropy().computeSum(logits: z2.tensor, target: t2.tensor, gradient: g2.tensor)
        XCTAssertEqual(r.sum, 100, accuracy: 1e-5)
        XCTAssertEqual(g2.array[0], 1)
        XCTAssertEqual(g2.array[1], 0, accuracy: 1e-40)
    }

    func testBinaryCrossEntropyMaskAndGradients() throws {
        let shape = Shape(2, 3, 4, 2)
        let z = GradCheck.random(shape, seed: 51)
        let t = HostTensor(shape)
        var rng = SplitMix64(seed: 52)
        for i in 0..<shape.count { t.data[i] = rng.uniform() < 0.4 ? 1 : (i % 5 == 0 ? 0.3 : 0) }
        let pixelMask = HostTensor(Shape(2, 4, 2))
        for p in 0..<16 { pixelMask.data[p] = p % 3 == 0 ? 0 : 1 }
        let bce = BinaryCrossEntropy()
        let g = HostTensor(shape)
        let r = try bce.computeSum(logits: z.tensor, target: t.tensor, mask: pixelMask.tensor, gradient: g.tensor)
        XCTAssertEqual(r.weight, 10 * 3) // 10 counted pixels × 3 channels
        // Reference: plain −t·log σ − (1−t)·log(1−σ) over counted elements; masked gradient 0.
        var ref = 0.0
        for b in 0..<2 { for c in 0..<3 { for p in 0..<8 {
            let j = (b * 3 + c) * 8 + p
            if pixelMask.data[b * 8 + p] == 0 { XCTAssertEqual(g.data[j], 0); continue }
            let s = 1 / (1 + exp(-Double(z.data[j]))), tt = Double(t.data[j])
            ref += -tt * log(s) - (1 - tt) * log(1 - s)
        } } }
        XCTAssertEqual(r.sum, ref, accuracy: 1e-5)
        try numericCheck(z.tensor, g.array, "bce") {
            try bce.computeSum(logits: z.tensor, target: t.tensor, mask: pixelMask.tensor).sum
        }
        let gm = HostTensor(shape)
        _ = try bce.compute(logits: z.tensor, target: t.tensor, mask: pixelMask.tensor, gradient: gm.tensor)
        assertMeanGradient(gm.array, g.array, weight: r.weight)
    }

    // MARK: regression

    func testRegressionByHandWithPixelAndElementMasks() throws {
        // N×C×L = 1×2×3; pixel 1 masked for both channels.
        let p = HostTensor(Shape(1, 2, 3), [1, 5, 2, 0, 5, -1])
        let t = HostTensor(Shape(1, 2, 3), [0, .nan, 4, 0.5, .nan, 1])
        let pm = HostTensor(Shape(1, 3), [1, 0, 1])
        let g = HostTensor(Shape(1, 2, 3), [Float](repeating: 8, count: 6))
        // d = (1, −, −2, −0.5, −, −2): squared 1, 4, 0.25, 4 → mean 9.25/4; |d| → 5.5/4.
        let mse = try MeanSquaredError().compute(prediction: p.tensor, target: t.tensor, mask: pm.tensor, gradient: g.tensor)
        XCTAssertEqual(mse, 9.25 / 4)
        XCTAssertEqual(g.array, [0.5, 0, -1, -0.25, 0, -1] as [Float]) // 2·d/4
        let l1 = try L1Loss().compute(prediction: p.tensor, target: t.tensor, mask: pm.tensor, gradient: g.tensor)
        XCTAssertEqual(l1, 5.5 / 4)
        XCTAssertEqual(g.array, [0.25, 0, -0.25, -0.25, 0, -0.25])
        // Per-element mask: drop only channel 1 of pixel 2 (and the NaN targets).
        let em = HostTensor(Shape(1, 2, 3), [1, 0, 1, 1, 0, 0])
        let r = try MeanSquaredError().computeSum(prediction: p.tensor, target: t.tensor, mask: em.tensor, gradient: g.tensor)
        XCTAssertEqual(r, LossSum(sum: 5.25, weight: 3))
        XCTAssertEqual(g.array, [2, 0, -4, -1, 0, 0])
        // L1 at p = t has gradient 0.
        let same = HostTensor(Shape(1, 1), [3]), g1 = HostTensor(Shape(1, 1), [8])
        XCTAssertEqual(try L1Loss().compute(prediction: same.tensor, target: same.tensor, gradient: g1.tensor), 0)
        XCTAssertEqual(g1.array, [0])
    }

    func testRegressionGradients() throws {
        let shape = Shape(2, 3, 5)
        let p = GradCheck.random(shape, seed: 61)
        let t = GradCheck.random(shape, seed: 62)
        // Keep |p − t| ≥ 0.1 so L1's kink is outside the ±h stencil.
        for i in 0..<shape.count where abs(p.data[i] - t.data[i]) < 0.1 { p.data[i] = t.data[i] + 0.3 }
        let mask = HostTensor(Shape(2, 5))
        for i in 0..<10 { mask.data[i] = i % 4 == 0 ? 0 : 1 }
        let g = HostTensor(shape), gm = HostTensor(shape)
        let mse = MeanSquaredError()
        let r = try mse.computeSum(prediction: p.tensor, target: t.tensor, mask: mask.tensor, gradient: g.tensor)
        try numericCheck(p.tensor, g.array, "mse") { try mse.computeSum(prediction: p.tensor, target: t.tensor, mask: mask.tensor).sum }
        _ = try mse.compute(prediction: p.tensor, target: t.tensor, mask: mask.tensor, gradient: gm.tensor)
        assertMeanGradient(gm.array, g.array, weight: r.weight)
        let l1 = L1Loss()
        let r1 = try l1.computeSum(prediction: p.tensor, target: t.tensor, mask: mask.tensor, gradient: g.tensor)
        XCTAssertEqual(r1.weight, 7 * 3)
        try numericCheck(p.tensor, g.array, "l1") { try l1.computeSum(prediction: p.tensor, target: t.tensor, mask: mask.tensor).sum }
        _ = try l1.compute(prediction: p.tensor, target: t.tensor, mask: mask.tensor, gradient: gm.tensor)
        assertMeanGradient(gm.array, g.array, weight: r1.weight)
    }

    // MARK: errors name the loss

    private func assertShapeError(_ loss: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Any) {
        XCTAssertThrowsError(try body(), file: file, line: line) { e in
            guard case .shape(let l, let expected, let got) = e as? EngineError else { return XCTFail("\(e)", file: file, line: line) }
            XCTAssertEqual(l, loss, file: file, line: line)
            XCTAssertFalse(expected.isEmpty || got.isEmpty, file: file, line: line)
        }
    }

    func testMismatchedShapesThrowNamingTheLoss() {
        let z = HostTensor(Shape(2, 3, 4))
        let y = HostLabelTensor(Shape(2, 5))
        let yOK = HostLabelTensor(Shape(2, 4))
        let t = HostTensor(Shape(2, 3, 5))
        let m = HostTensor(Shape(2, 3))
        let g = HostTensor(Shape(2, 4, 3))
        let ce = SoftmaxCrossEntropy()
        assertShapeError("softmax_cross_entropy") { try ce.compute(logits: z.tensor, target: .hard(y.labels)) }
        assertShapeError("softmax_cross_entropy") { try ce.compute(logits: z.tensor, target: .soft(t.tensor)) }
        assertShapeError("softmax_cross_entropy") { try ce.compute(logits: z.tensor, target: .hard(yOK.labels), mask: m.tensor) }
        assertShapeError("softmax_cross_entropy") { try ce.compute(logits: z.tensor, target: .hard(yOK.labels), gradient: g.tensor) }
        assertShapeError("softmax_cross_entropy") { try SoftmaxCrossEntropy(classWeights: [1, 1]).compute(logits: z.tensor, target: .hard(yOK.labels)) }
        assertShapeError("softmax_cross_entropy") { try ce.compute(logits: HostTensor(Shape(6)).tensor, target: .hard(yOK.labels)) }
        assertShapeError("binary_cross_entropy") { try BinaryCrossEntropy().compute(logits: z.tensor, target: t.tensor) }
        assertShapeError("binary_cross_entropy") { try BinaryCrossEntropy().compute(logits: z.tensor, target: z.tensor, mask: m.tensor) }
        assertShapeError("mse") { try MeanSquaredError().compute(prediction: z.tensor, target: z.tensor, gradient: g.tensor) }
        assertShapeError("l1") { try L1Loss().compute(prediction: z.tensor, target: t.tensor) }
    }

    func testBadLabelsAndWeightsThrowNamingTheLoss() {
        let z = HostTensor(Shape(1, 3))
        let g = HostTensor(Shape(1, 3), [5, 5, 5])
        let y = HostLabelTensor(Shape(1), [3])
        XCTAssertThrowsError(try SoftmaxCrossEntropy().compute(logits: z.tensor, target: .hard(y.labels), gradient: g.tensor)) { e in
            guard case .parameter(let l, _) = e as? EngineError else { return XCTFail("\(e)") }
            XCTAssertEqual(l, "softmax_cross_entropy")
        }
        XCTAssertEqual(g.array, [5, 5, 5]) // validated before anything is written
        // An out-of-range label under the mask is NODATA, not an error.
        let m = HostTensor(Shape(1), [0])
        XCTAssertEqual(try SoftmaxCrossEntropy().compute(logits: z.tensor, target: .hard(y.labels), mask: m.tensor), 0)
        let y0 = HostLabelTensor(Shape(1), [0])
        XCTAssertThrowsError(try SoftmaxCrossEntropy(classWeights: [1, -1, 1]).compute(logits: z.tensor, target: .hard(y0.labels))) { e in
            guard case .parameter(let l, _) = e as? EngineError else { return XCTFail("\(e)") }
            XCTAssertEqual(l, "softmax_cross_entropy")
        }
    }
}
