import TestSupport
import XCTest
@testable import Engine

final class ConvTransposeTests: XCTestCase {
    /// Transposed convolution as a scatter, written out: every input element adds x·w[c,o,·]
    /// at output position i·s − p + kernel offset·d.
    func naiveScatter(_ x: Tensor, _ w: Tensor, _ b: Tensor?, k: [Int], s: [Int], p: [Int], d: [Int], out: Shape) -> [Float] {
        let n = x.shape[0], c = x.shape[1], o = out[1]
        let i3 = ConvCheck.pad3(Array(x.shape.dims[2...]), 1), q3 = ConvCheck.pad3(Array(out.dims[2...]), 1)
        let k3 = ConvCheck.pad3(k, 1), s3 = ConvCheck.pad3(s, 1), p3 = ConvCheck.pad3(p, 0), d3 = ConvCheck.pad3(d, 1)
        let plane = q3[0] * q3[1] * q3[2]
        var y = [Double](repeating: 0, count: out.count)
        for bn in 0..<n { for oc in 0..<o { for i in 0..<plane { y[(bn * o + oc) * plane + i] = b.map { Double($0.data[oc]) } ?? 0 } } }
        for bn in 0..<n { for ic in 0..<c { for z in 0..<i3[0] { for u in 0..<i3[1] { for v in 0..<i3[2] {
            let xv = Double(x.data[(((bn * c + ic) * i3[0] + z) * i3[1] + u) * i3[2] + v])
            for oc in 0..<o { for a in 0..<k3[0] { for e in 0..<k3[1] { for f in 0..<k3[2] {
                let oz = z * s3[0] - p3[0] + a * d3[0], ou = u * s3[1] - p3[1] + e * d3[1], ov = v * s3[2] - p3[2] + f * d3[2]
                guard oz >= 0, oz < q3[0], ou >= 0, ou < q3[1], ov >= 0, ov < q3[2] else { continue }
                let wi = (((ic * o + oc) * k3[0] + a) * k3[1] + e) * k3[2] + f
                y[(((bn * o + oc) * q3[0] + oz) * q3[1] + ou) * q3[2] + ov] += xv * Double(w.data[wi])
            }}}}
        }}}}}
        return y.map { Float($0) }
    }

    struct Case {
        var input: [Int]                       // N, C, spatial...
        var out: Int
        var k: [Int], s: [Int], p: [Int], d: [Int], op: [Int]
        var bias = true
        var layer: ConvTranspose {
            ConvTranspose(outChannels: out, kernel: k, stride: s, padding: p, outputPadding: op, dilation: d, bias: bias)
        }
    }

    static let cases: [Case] = [
        // 1D
        Case(input: [3, 2, 6], out: 3, k: [3], s: [2], p: [1], d: [1], op: [1]),
        Case(input: [1, 3, 5], out: 2, k: [4], s: [3], p: [0], d: [2], op: [2], bias: false),
        // 2D
        Case(input: [2, 3, 4, 5], out: 2, k: [3, 2], s: [2, 1], p: [1, 0], d: [1, 2], op: [1, 0]),
        Case(input: [1, 2, 5, 3], out: 3, k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], op: [0, 0]),
        Case(input: [2, 2, 3, 4], out: 2, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1], op: [0, 0]),
        // 3D
        Case(input: [2, 2, 3, 4, 3], out: 2, k: [2, 3, 2], s: [2, 1, 2], p: [0, 1, 1], d: [1, 1, 2], op: [1, 0, 1]),
        // pointwise: direct GEMM (≥ 256 positions) and grouped
        Case(input: [2, 3, 16, 17], out: 4, k: [1, 1], s: [1, 1], p: [0, 0], d: [1, 1], op: [0, 0]),
        Case(input: [3, 2, 7], out: 3, k: [1], s: [1], p: [0], d: [1], op: [0]),
        // stride 2 pointwise is not the direct path (output larger than input)
        Case(input: [2, 2, 3, 3], out: 2, k: [1, 1], s: [2, 2], p: [0, 0], d: [1, 1], op: [1, 1]),
        // Tiling windows (kernel = stride, no padding): written once, im2col as a rearrangement;
        // rows of ≥ 8 inputs take the eight-lane zip, with tails; kernel 3 the plain loop.
        Case(input: [2, 3, 5, 11], out: 2, k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], op: [0, 0]),
        Case(input: [1, 2, 3, 4, 9], out: 3, k: [2, 2, 2], s: [2, 2, 2], p: [0, 0, 0], d: [1, 1, 1], op: [0, 0, 0]),
        Case(input: [2, 3, 17], out: 2, k: [2], s: [2], p: [0], d: [1], op: [0], bias: false),
        Case(input: [1, 2, 4, 5], out: 2, k: [3, 2], s: [3, 2], p: [0, 0], d: [1, 1], op: [0, 0]),
        Case(input: [1, 2, 40, 40], out: 3, k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], op: [0, 0]), // line chunks
    ]

    func testForwardMatchesScatter() throws {
        for (i, cs) in Self.cases.enumerated() {
            let (ex, x, y) = try ConvCheck.runLayer(cs.layer, input: Shape(cs.input), seed: UInt64(i))
            let ref = naiveScatter(ex.value(x), ex.parameters.value("op.weight")!, ex.parameters.value("op.bias"),
                                   k: cs.k, s: cs.s, p: cs.p, d: cs.d, out: ex.value(y).shape)
            ConvCheck.assertClose(ex.value(y).array, ref, "case \(i) \(cs.input)")
        }
    }

    /// K = 32·9 = 288: a 2×40×40 input's positions are cut into several line chunks.
    func testSeveralChunksPerSample() throws {
        let cs = Case(input: [2, 2, 40, 40], out: 32, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1], op: [0, 0])
        let out = try cs.layer.outputShape([Shape(cs.input)], name: "t")
        let g = PatchGeometry(image: out, outSpatial: Shape(cs.input), settings: cs.layer.settings)
        let ch = ColumnChunks(g, batch: 2)
        XCTAssertEqual(ch.group, 1)
        XCTAssertLessThan(ch.lines, g.lines, "test meant to span several chunks")
        let (ex, x, y) = try ConvCheck.runLayer(cs.layer, input: Shape(cs.input), seed: 5)
        let ref = naiveScatter(ex.value(x), ex.parameters.value("op.weight")!, ex.parameters.value("op.bias"),
                               k: cs.k, s: cs.s, p: cs.p, d: cs.d, out: ex.value(y).shape)
        ConvCheck.assertClose(ex.value(y).array, ref, "chunked")
        try GradCheck.check(cs.layer, inputs: [Shape(cs.input)], maxPerTensor: 40)
    }

    func testOutputShapeParametersAndKind() throws {
        // (i − 1)·s − 2p + d·(k − 1) + op + 1 = 4·2 − 2 + 2 + 1 + 1 = 10 (as in PyTorch)
        let t = ConvTranspose(outChannels: 6, kernel: 3, stride: 2, padding: 1, outputPadding: 1)
        XCTAssertEqual(try t.outputShape([Shape(2, 4, 5, 5)], name: "t"), Shape(2, 6, 10, 10))
        XCTAssertEqual(try t.outputShape([Shape(2, 4, 5)], name: "t"), Shape(2, 6, 10))
        XCTAssertEqual(t.kind, "conv_transpose")
        XCTAssertEqual(t.kind(for: [Shape(2, 4, 5)]), "conv_transpose1d")
        XCTAssertEqual(ConvTranspose(outChannels: 6, kernel: [2, 2, 2]).kind, "conv_transpose3d")
        let p = t.parameters([Shape(2, 4, 5, 5)])
        XCTAssertEqual(p.map(\.shape), [Shape(4, 6, 3, 3), Shape(6)])
    }

    func testGradients() throws {
        for cs in Self.cases {
            try GradCheck.check(cs.layer, inputs: [Shape(cs.input)])
        }
    }

    func testShapeErrorsNameTheLayer() {
        let g = Graph()
        let x2 = g.input("x", Shape(2, 5, 4, 4)), x1 = g.input("x1", Shape(2, 5, 4)), flat = g.input("f", Shape(2, 5))
        ConvCheck.assertThrowsNaming("t1") { try g.add("t1", ConvTranspose(outChannels: 4, kernel: 3, inChannels: 3), x2) }
        ConvCheck.assertThrowsNaming("t2") { try g.add("t2", ConvTranspose(outChannels: 4, kernel: [2, 2]), x1) }
        ConvCheck.assertThrowsNaming("t3") { try g.add("t3", ConvTranspose(outChannels: 4, kernel: 2), flat) }
        // output padding must stay below max(stride, dilation)
        ConvCheck.assertThrowsNaming("t4") { try g.add("t4", ConvTranspose(outChannels: 4, kernel: 3, stride: 2, outputPadding: 2), x2) }
        // padding eats the whole output: (4 − 1) − 2·3 + 0 + 1 < 1
        ConvCheck.assertThrowsNaming("t5") { try g.add("t5", ConvTranspose(outChannels: 4, kernel: 1, padding: 3), x2) }
        ConvCheck.assertThrowsNaming("t6") { try g.add("t6", ConvTranspose(outChannels: 4, kernel: 0), x2) }
        ConvCheck.assertThrowsNaming("t7") { try g.add("t7", ConvTranspose(outChannels: 4, kernel: [2, 2], outputPadding: [0, 0, 0]), x2) }
        XCTAssertTrue(g.nodes.isEmpty)
    }

    func testBackwardAccumulates() throws {
        for cs in [Self.cases[0], Self.cases[2], Self.cases[3], Self.cases[6]] {
            try ConvCheck.checkAccumulates(cs.layer, input: Shape(cs.input))
        }
    }

    /// ConvTranspose is the adjoint of Conv with the same weight: ⟨conv(x), y⟩ = ⟨x, convT(y)⟩.
    func testAdjointOfConv() throws {
        let conv = Conv(outChannels: 3, kernel: [3, 2], stride: [2, 2], padding: [1, 0], dilation: [1, 2], bias: false)
        let xs = Shape(2, 4, 9, 8)
        let ys = try conv.outputShape([xs], name: "c")
        let t = ConvTranspose(outChannels: 4, kernel: [3, 2], stride: [2, 2], padding: [1, 0], outputPadding: [0, 1],
                              dilation: [1, 2], bias: false)
        XCTAssertEqual(try t.outputShape([ys], name: "t"), xs)
        let (ec, cx, cy) = try ConvCheck.runLayer(conv, input: xs, seed: 1)
        let (et, tx, ty) = try ConvCheck.runLayer(t, input: ys, seed: 2)
        et.parameters.value("op.weight")!.copy(from: ec.parameters.value("op.weight")!.data)
        et.forward(mode: .inference)
        var lhs = 0.0, rhs = 0.0
        for i in 0..<ys.count { lhs += Double(ec.value(cy).data[i]) * Double(et.value(tx).data[i]) }
        for i in 0..<xs.count { rhs += Double(ec.value(cx).data[i]) * Double(et.value(ty).data[i]) }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * max(1, abs(lhs)))
    }
}
