import TestSupport
import XCTest
@testable import Engine

/// Nearest and (bi/tri)linear upsampling: hand-computed values, plain references, gradients.
final class UpsampleTests: XCTestCase {
    func testNearest2DByHand() throws {
        let run = try LayerRun(Upsample(scale: 2), [HostTensor(Shape(1, 1, 2, 2), [1, 2, 3, 4])])
        run.forward()
        XCTAssertEqual(run.output.shape, Shape(1, 1, 4, 4))
        XCTAssertEqual(run.output.array, [1, 1, 2, 2,
                                          1, 1, 2, 2,
                                          3, 3, 4, 4,
                                          3, 3, 4, 4])
        // Backward sums each 2×2 block.
        run.backward((1...16).map(Float.init))
        let blockSums: [Float] = [1 + 2 + 5 + 6, 3 + 4 + 7 + 8, 9 + 10 + 13 + 14, 11 + 12 + 15 + 16]
        XCTAssertEqual(run.inputGradient(0), blockSums)
    }

    /// align_corners = false, factor 2: output o reads input (o + ½)/2 − ½ = −¼ (clamped to 0),
    /// ¼, ¾, 1¼ (clamped to the last input). Along a row [1, 2]: 1, 1.25, 1.75, 2; rows mix the
    /// same way: row 1 = ¾·row₀ + ¼·row₁, row 2 = ¼·row₀ + ¾·row₁.
    func testBilinear2x2To4x4ByHand() throws {
        let run = try LayerRun(Upsample(scale: 2, .linear), [HostTensor(Shape(1, 1, 2, 2), [1, 2, 3, 4])])
        run.forward()
        XCTAssertEqual(run.output.array, [1.0, 1.25, 1.75, 2.0,
                                          1.5, 1.75, 2.25, 2.5,
                                          2.5, 2.75, 3.25, 3.5,
                                          3.0, 3.25, 3.75, 4.0])
    }

    /// Factor 3 on [0, 3]: sources −⅓→0, 0, ⅓, ⅔, 1, 1⅓→1 give 0, 0, 1, 2, 3, 3.
    func testLinear1DByHand() throws {
        let run = try LayerRun(Upsample(scale: 3, .linear), [HostTensor(Shape(1, 1, 2), [0, 3])])
        run.forward()
        XCTAssertEqual(run.output.shape, Shape(1, 1, 6))
        for (a, b) in zip(run.output.array, [0, 0, 1, 2, 3, 3] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    /// A ramp stays a ramp: away from the clamped borders, linear upsampling of f(i) = a·i + b
    /// gives f((o + ½)/s − ½) exactly, in every dim at once.
    func testTrilinearReproducesARamp() throws {
        let shape = Shape(1, 1, 3, 4, 5), f: [Float] = [2, 3, 2]
        let x = HostTensor(shape)
        for d in 0..<3 { for h in 0..<4 { for w in 0..<5 { x.data[(d * 4 + h) * 5 + w] = 0.5 * Float(d) - 0.25 * Float(h) + Float(w) + 1 } } }
        let run = try LayerRun(Upsample(scale: [2, 3, 2], .linear), [x])
        run.forward()
        XCTAssertEqual(run.output.shape, Shape(1, 1, 6, 12, 10))
        let src = { (o: Int, k: Int) -> Float in (Float(o) + 0.5) / f[k] - 0.5 }
        var checked = 0
        for od in 0..<6 { for oh in 0..<12 { for ow in 0..<10 {
            let sd = src(od, 0), sh = src(oh, 1), sw = src(ow, 2)
            guard sd >= 0, sd <= 2, sh >= 0, sh <= 3, sw >= 0, sw <= 4 else { continue }
            XCTAssertEqual(run.output.array[(od * 12 + oh) * 10 + ow], 0.5 * sd - 0.25 * sh + sw + 1, accuracy: 1e-5)
            checked += 1
        } } }
        XCTAssertGreaterThan(checked, 300)
    }

    func testMatchesReference() throws {
        let cases: [(Shape, [Int])] = [
            (Shape(2, 3, 5), [3]),
            (Shape(2, 2, 3, 5), [2, 3]),
            (Shape(1, 2, 1, 4), [2, 2]),
            (Shape(2, 1, 3, 2, 3), [2, 1, 3]),
            (Shape(1, 2, 2, 3, 3), [1, 2, 2]),
        ]
        for (k, (shape, scale)) in cases.enumerated() {
            let x = GradCheck.random(shape, seed: UInt64(k))
            for mode in [Upsample.Interpolation.nearest, .linear] {
                let run = try LayerRun(Upsample(scale: scale, mode), [x])
                run.forward()
                let ref = referenceUpsample(x.array, shape, scale, linear: mode == .linear)
                XCTAssertEqual(run.output.shape, ref.shape, "case \(k) \(mode)")
                for (a, b) in zip(run.output.array, ref.y) { XCTAssertEqual(a, b, accuracy: 1e-5, "case \(k) \(mode)") }
            }
        }
    }

    func testScaleOneIsIdentity() throws {
        let x = GradCheck.random(Shape(2, 2, 3, 4, 5), seed: 9)
        for mode in [Upsample.Interpolation.nearest, .linear] {
            let run = try LayerRun(Upsample(scale: 1, mode), [x])
            run.forward()
            XCTAssertEqual(run.output.array, x.array)
        }
    }

    func testGradients() throws {
        for (shape, scale) in [(Shape(2, 3, 5), [3]), (Shape(2, 2, 3, 5), [2, 3]), (Shape(2, 1, 3, 2, 3), [2, 1, 3]),
                               (Shape(1, 2, 2, 3, 3), [2])] {
            try GradCheck.check(Upsample(scale: scale), inputs: [shape])
            try GradCheck.check(Upsample(scale: scale, .linear), inputs: [shape])
        }
    }

    func testShapeErrorsNameTheLayer() {
        func fails(_ layer: any Layer, _ shape: Shape, mentions: [String], line: UInt = #line) {
            assertEngineError(layer: "up3", mentions: mentions, line: line) {
                let g = Graph()
                try g.add("up3", layer, g.input("x", shape))
            }
        }
        fails(Upsample(scale: 2), Shape(4, 8), mentions: ["4×8"])
        fails(Upsample(scale: 0), Shape(1, 2, 4, 4), mentions: ["scale"])
        fails(Upsample(scale: [2, 2], .linear), Shape(1, 2, 4, 4, 4), mentions: ["scale", "1×2×4×4×4"])
    }
}

/// Upsampling done the obvious way, per output element in Double: nearest reads x[⌊o/s⌋];
/// linear sums the 8 corners around ((o + ½)/s − ½ clamped to [0, n − 1]) with trilinear weights.
func referenceUpsample(_ x: [Float], _ shape: Shape, _ scale: [Int], linear: Bool) -> (shape: Shape, y: [Float]) {
    let r = shape.rank - 2, lead = 3 - r
    let I = [Int](repeating: 1, count: lead) + shape.spatial
    let F = [Int](repeating: 1, count: lead) + (scale.count == 1 ? [Int](repeating: scale[0], count: r) : scale)
    let O: [Int] = (0..<3).map { (k: Int) -> Int in I[k] * F[k] }
    var y: [Float] = []
    for pl in 0..<(shape[0] * shape[1]) {
        func at(_ d: Int, _ h: Int, _ w: Int) -> Double { Double(x[pl * I[0] * I[1] * I[2] + (d * I[1] + h) * I[2] + w]) }
        for od in 0..<O[0] { for oh in 0..<O[1] { for ow in 0..<O[2] {
            let o = [od, oh, ow]
            if !linear { y.append(Float(at(od / F[0], oh / F[1], ow / F[2]))); continue }
            var lo = [Int](), hi = [Int](), t = [Double]()
            for k in 0..<3 {
                let s = min(max((Double(o[k]) + 0.5) / Double(F[k]) - 0.5, 0), Double(I[k] - 1))
                lo.append(Int(s.rounded(.down))); hi.append(min(lo[k] + 1, I[k] - 1)); t.append(s - Double(lo[k]))
            }
            var v = 0.0
            for cd in 0..<2 { for ch in 0..<2 { for cw in 0..<2 {
                let wgt = (cd == 0 ? 1 - t[0] : t[0]) * (ch == 0 ? 1 - t[1] : t[1]) * (cw == 0 ? 1 - t[2] : t[2])
                v += wgt * at(cd == 0 ? lo[0] : hi[0], ch == 0 ? lo[1] : hi[1], cw == 0 ? lo[2] : hi[2])
            } } }
            y.append(Float(v))
        } } }
    }
    return (Shape([shape[0], shape[1]] + O.suffix(r)), y)
}
