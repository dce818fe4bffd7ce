import TestSupport
import XCTest
@testable import Engine

/// Helpers shared by the Conv and ConvTranspose tests.
enum ConvCheck {
    /// Lists padded on the left to (D, H, W).
    static func pad3(_ a: [Int], _ fill: Int) -> [Int] { [Int](repeating: fill, count: 3 - a.count) + a }

    /// Runs one layer on a random input through a planned graph; parameters (biases included)
    /// are random. Returns the executor, the input and output values.
    static func runLayer(_ layer: any Layer, input: Shape, seed: UInt64) throws -> (Executor, Value, Value) {
        let g = Graph()
        let x = g.input("x", input)
        let y = try g.add("op", layer, x)
        let ex = try g.plan(outputs: [y], inputGradients: true)
        ex.parameters.initialize(seed: seed)
        var rng = SplitMix64(seed: seed &+ 7)
        for e in ex.parameters.entries where e.name.hasSuffix("bias") {
            let t = ex.parameters.value(e.name)!
            for i in 0..<t.count { t.data[i] = rng.normal() }
        }
        let xt = ex.value(x)
        for i in 0..<xt.count { xt.data[i] = rng.normal() }
        ex.forward(mode: .inference)
        return (ex, x, y)
    }

    /// Asserts |a − b| ≤ 1e-4 · (1 + |b|) elementwise.
    static func assertClose(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        for i in 0..<min(a.count, b.count) where abs(a[i] - b[i]) > 1e-4 * (1 + abs(b[i])) {
            XCTFail("\(what)[\(i)]: \(a[i]) vs reference \(b[i])", file: file, line: line)
            return
        }
    }

    /// Asserts `body` throws an `EngineError` naming layer `name`.
    static func assertThrowsNaming(_ name: String, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("no error thrown", file: file, line: line)
        } catch let e as EngineError {
            switch e {
            case .shape(let layer, _, _), .parameter(let layer, _): XCTAssertEqual(layer, name, "\(e)", file: file, line: line)
            case .mismatch: XCTFail("unexpected \(e)", file: file, line: line)
            }
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
    }

    /// Calls forward then backward twice on hand-made contexts; dX starts at 1.
    static func checkAccumulates(_ layer: any Layer, input: Shape, file: StaticString = #filePath, line: UInt = #line) throws {
        let out = try layer.outputShape([input], name: "op")
        let specs = layer.parameters([input])
        let x = GradCheck.random(input, seed: 3), dy = GradCheck.random(out, seed: 4)
        let params = specs.enumerated().map { GradCheck.random($0.element.shape, seed: 10 + UInt64($0.offset)) }
        let grads = specs.map { HostTensor($0.shape) }
        let y = HostTensor(out), dx = HostTensor(input)
        dx.tensor.fill(1)
        let plan = layer.plan([input], output: out)
        let ws = HostTensor(Shape(max(1, plan.workspaceCount))), saved = HostTensor(Shape(max(1, plan.savedCount)))
        // The context holds raw pointers into these two: keep them alive to the end.
        defer { withExtendedLifetime((ws, saved)) {} }
        let c = LayerContext(name: "op", inputs: [x.tensor], output: y.tensor, dInputs: [dx.tensor], dOutput: dy.tensor,
                             params: params.map(\.tensor), grads: grads.map(\.tensor), state: [],
                             saved: saved.data, workspace: ws.data, algorithm: plan.algorithm)
        layer.forward(c, mode: .training(seed: 1))
        layer.backward(c, mode: .training(seed: 1))
        let once = grads.map(\.array), dxOnce = dx.array
        XCTAssertTrue(once.contains { $0.contains { $0 != 0 } }, "no gradient at all", file: file, line: line)
        layer.backward(c, mode: .training(seed: 1))
        for (k, g) in grads.enumerated() {
            ConvCheck.assertClose(g.array, once[k].map { 2 * $0 }, "\(layer.kind) grad \(specs[k].suffix) twice", file: file, line: line)
        }
        // dX after two passes = 1 + 2·(dX after one pass − 1)
        ConvCheck.assertClose(dx.array, dxOnce.map { 1 + 2 * ($0 - 1) }, "\(layer.kind) dX twice", file: file, line: line)
    }
}

final class ConvTests: XCTestCase {
    /// Direct convolution, written out: y[n,o,z,u,v] = b[o] + Σ x[n,c,iz,iu,iv]·w[o,c,a,e,f].
    static func naiveConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, k: [Int], s: [Int], p: [Int], d: [Int], out: Shape) -> [Float] {
        let n = x.shape[0], c = x.shape[1], o = out[1]
        let i3 = ConvCheck.pad3(Array(x.shape.dims[2...]), 1), q3 = ConvCheck.pad3(Array(out.dims[2...]), 1)
        let k3 = ConvCheck.pad3(k, 1), s3 = ConvCheck.pad3(s, 1), p3 = ConvCheck.pad3(p, 0), d3 = ConvCheck.pad3(d, 1)
        var y = [Float](repeating: 0, count: out.count)
        var at = 0
        for bn in 0..<n { for oc in 0..<o { for z in 0..<q3[0] { for u in 0..<q3[1] { for v in 0..<q3[2] {
            var acc: Double = b.map { Double($0.data[oc]) } ?? 0
            for ic in 0..<c { for a in 0..<k3[0] { for e in 0..<k3[1] { for f in 0..<k3[2] {
                let iz = z * s3[0] - p3[0] + a * d3[0], iu = u * s3[1] - p3[1] + e * d3[1], iv = v * s3[2] - p3[2] + f * d3[2]
                guard iz >= 0, iz < i3[0], iu >= 0, iu < i3[1], iv >= 0, iv < i3[2] else { continue }
                let xi = (((bn * c + ic) * i3[0] + iz) * i3[1] + iu) * i3[2] + iv
                let wi = (((oc * c + ic) * k3[0] + a) * k3[1] + e) * k3[2] + f
                acc += Double(x.data[xi]) * Double(w.data[wi])
            }}}}
            y[at] = Float(acc)
            at += 1
        }}}}}
        return y
    }

    struct Case {
        var input: [Int]                       // N, C, spatial...
        var out: Int
        var k: [Int], s: [Int], p: [Int], d: [Int]
        var bias = true
        var layer: Conv { Conv(outChannels: out, kernel: k, stride: s, padding: p, dilation: d, bias: bias) }
    }

    // Each path: grouped samples (small positions, batch > 1), line chunks (batch 1, or many
    // positions), several chunks per sample (large K), and the pointwise GEMM.
    static let cases: [Case] = [
        // 1D
        Case(input: [3, 2, 11], out: 4, k: [3], s: [2], p: [1], d: [2]),
        Case(input: [1, 3, 9], out: 2, k: [4], s: [1], p: [2], d: [1]),
        Case(input: [7, 2, 5], out: 3, k: [5], s: [1], p: [2], d: [1], bias: false),
        // 2D
        Case(input: [2, 3, 7, 9], out: 5, k: [3, 2], s: [2, 1], p: [1, 0], d: [1, 2]),
        Case(input: [1, 2, 6, 5], out: 3, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1]),
        Case(input: [2, 2, 8, 7], out: 2, k: [2, 3], s: [3, 2], p: [2, 1], d: [2, 1]),
        // 3D
        Case(input: [2, 2, 4, 5, 6], out: 3, k: [2, 3, 3], s: [1, 2, 1], p: [1, 1, 0], d: [1, 1, 2]),
        Case(input: [1, 3, 3, 4, 5], out: 2, k: [3, 1, 2], s: [2, 1, 3], p: [1, 0, 1], d: [1, 1, 1]),
        // pointwise: direct GEMM (≥ 256 positions) and grouped (few positions)
        Case(input: [2, 3, 16, 17], out: 4, k: [1, 1], s: [1, 1], p: [0, 0], d: [1, 1]),
        Case(input: [3, 4, 2, 3], out: 2, k: [1, 1], s: [1, 1], p: [0, 0], d: [1, 1]),
        Case(input: [2, 3, 300], out: 2, k: [1], s: [1], p: [0], d: [1], bias: false),
        // many samples of few positions: a 3×3 kernel reading mostly padding, pointwise; a
        // strided 1×1 (ResNet's downsampling shortcut). (Few channels: patches; ConvFormTests
        // runs the grouped forms on them.)
        Case(input: [70, 2, 2, 2], out: 3, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1]),
        Case(input: [70, 3, 2, 2], out: 2, k: [1, 1], s: [1, 1], p: [0, 0], d: [1, 1]),
        Case(input: [3, 4, 7, 7], out: 3, k: [1, 1], s: [2, 2], p: [0, 0], d: [1, 1]),
    ]

    func testForwardMatchesDirectConvolution() throws {
        for (i, cs) in Self.cases.enumerated() {
            let (ex, x, y) = try ConvCheck.runLayer(cs.layer, input: Shape(cs.input), seed: UInt64(i))
            let w = ex.parameters.value("op.weight")!, b = ex.parameters.value("op.bias")
            XCTAssertEqual(b == nil, !cs.bias)
            let ref = Self.naiveConv(ex.value(x), w, b, k: cs.k, s: cs.s, p: cs.p, d: cs.d, out: ex.value(y).shape)
            ConvCheck.assertClose(ex.value(y).array, ref, "case \(i) \(cs.input)")
        }
    }

    /// Several chunks per pass, in each form: tap rows of a 40×40 image with 32 channels
    /// (Q of 42·96 floats per line, a budget of 2^17 floats), patches of a 24×24 image with 64
    /// channels (K = 576).
    func testForwardSeveralChunksPerSample() throws {
        for (cs, taps) in [(Case(input: [2, 32, 40, 40], out: 3, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1]), true),
                           (Case(input: [2, 64, 24, 24], out: 3, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1]), false)] {
            let g = PatchGeometry(image: Shape(cs.input), outSpatial: Shape([cs.input[0], 3] + cs.input[2...]), settings: cs.layer.settings)
            switch cs.layer.algorithm(g, batch: 2) {
            case .implicitGEMM(let plan):
                XCTAssertTrue(taps)
                XCTAssertLessThan(plan.forward.lines, g.lines, "test meant to span several chunks per image")
            case .patches(let plan):
                XCTAssertFalse(taps)
                XCTAssertLessThan(plan.forward.lines, g.lines, "test meant to span several chunks per image")
            case let a: XCTFail("\(a)")
            }
            let (ex, x, y) = try ConvCheck.runLayer(cs.layer, input: Shape(cs.input), seed: 11)
            let ref = Self.naiveConv(ex.value(x), ex.parameters.value("op.weight")!, ex.parameters.value("op.bias"),
                                k: cs.k, s: cs.s, p: cs.p, d: cs.d, out: ex.value(y).shape)
            ConvCheck.assertClose(ex.value(y).array, ref, "chunked \(cs.input)")
            try GradCheck.check(cs.layer, inputs: [Shape(cs.input)], maxPerTensor: 40)
        }
    }

    /// The algorithm `Conv.plan` chooses, by the rule of `Conv.algorithm(_:batch:)`: the U-Net's,
    /// ResNet's and TempCNN's convolutions, and what changes it (channels, kernel, map size, batch).
    func testAlgorithmChoice() throws {
        func algorithm(_ x: [Int], _ o: Int, k: Int = 3, s: Int = 1) throws -> String? {
            let conv = Conv(outChannels: o, kernel: k, stride: s, padding: k / 2)
            return conv.plan([Shape(x)], output: try conv.outputShape([Shape(x)], name: "c")).algorithm?.description
        }
        let expected: [(x: [Int], o: Int, k: Int, s: Int, algorithm: String)] = [
            // winograd: 3×3 (×3) same, channels in lanes of 8 with one side ≥ 16, not a small map
            ([4, 16, 256, 256], 16, 3, 1, "winograd"),
            ([16, 32, 64, 64], 16, 3, 1, "winograd"),
            ([16, 128, 8, 8], 64, 3, 1, "winograd"),     // 64 positions: not a small map
            ([2, 16, 8, 64, 64], 8, 3, 1, "winograd"),   // 3D: depth taps as shifted GEMMs
            ([32, 32, 7, 7], 32, 3, 1, "winograd"),      // 32 channels: not a small map
            ([1, 512, 2, 2], 512, 3, 1, "winograd"),     // batch 1: no samples to group
            // implicit-gemm: few channels, unit stride, little padding per tap row
            ([4, 10, 256, 256], 16, 3, 1, "implicit-gemm"),  // 10 bands: partial lanes
            ([2, 8, 8, 64, 64], 8, 3, 1, "implicit-gemm"),   // 8 → 8
            ([16, 16, 64, 64], 16, 5, 1, "implicit-gemm"),   // 5×5
            // pointwise: 1×1 with ≥ 256 positions per sample
            ([16, 16, 64, 64], 10, 1, 1, "pointwise"),
            ([2, 16, 8, 64, 64], 8, 1, 1, "pointwise"),
            // small maps of many channels, samples side by side (so2sat_resnet50, TempCNN)
            ([32, 128, 7, 7], 128, 3, 1, "taps"),
            ([32, 256, 4, 4], 256, 3, 1, "taps"),
            ([32, 512, 2, 2], 512, 3, 1, "taps"),
            ([512, 64, 24], 64, 5, 1, "im2col"),         // 1D k5 on 24 dates: 5% padding
            ([16, 128, 7, 7], 64, 1, 1, "im2col"),       // 1×1: one tap
            ([32, 1024, 4, 4], 256, 1, 1, "im2col"),
            ([32, 512, 7, 7], 1024, 1, 2, "im2col"),     // strided 1×1 shortcut
            // patches: the rest
            ([16, 128, 8, 8], 64, 1, 1, "patches"),      // 64 positions, many channels
            ([1, 128, 7, 7], 64, 1, 1, "patches"),       // batch 1
            ([32, 10, 38, 38], 64, 7, 2, "patches"),     // ResNet's strided stem
        ]
        for e in expected {
            XCTAssertEqual(try algorithm(e.x, e.o, k: e.k, s: e.s), e.algorithm, "\(e.x) → \(e.o), k \(e.k), stride \(e.s)")
        }
        let t = ConvTranspose(outChannels: 8, kernel: 2, stride: 2), t1 = ConvTranspose(outChannels: 8, kernel: 1)
        XCTAssertEqual(t.plan([Shape(4, 16, 16, 16)], output: Shape(4, 8, 32, 32)).algorithm?.description, "col2im")
        XCTAssertEqual(t1.plan([Shape(4, 16, 16, 16)], output: Shape(4, 8, 16, 16)).algorithm?.description, "pointwise")
        XCTAssertNil(MaxPool(kernel: 2).plan([Shape(4, 16, 16, 16)], output: Shape(4, 16, 8, 8)).algorithm)
    }

    /// The per-tap path (stride 1, ≥ 64 channels, ≥ 1/8 of im2col padding): 2D on 2×2 and 3×3
    /// maps, with dilation, 1D and 3D; forward against the direct convolution, gradients.
    static let tapCases: [Case] = [
        Case(input: [3, 64, 2, 2], out: 5, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1]),
        Case(input: [2, 64, 3, 3], out: 3, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1], bias: false),
        Case(input: [2, 64, 4, 5], out: 3, k: [3, 3], s: [1, 1], p: [2, 2], d: [2, 2]),
        Case(input: [2, 64, 5], out: 3, k: [3], s: [1], p: [1], d: [1]),
        Case(input: [2, 64, 2, 3, 3], out: 2, k: [3, 3, 3], s: [1, 1, 1], p: [1, 1, 1], d: [1, 1, 1]),
    ]

    func testTapPath() throws {
        for (i, cs) in Self.tapCases.enumerated() {
            let out = try cs.layer.outputShape([Shape(cs.input)], name: "op")
            let g = PatchGeometry(image: Shape(cs.input), outSpatial: out, settings: cs.layer.settings)
            guard case .taps = cs.layer.algorithm(g, batch: cs.input[0]) else { return XCTFail("case \(i) takes the tap path") }
            let (ex, x, y) = try ConvCheck.runLayer(cs.layer, input: Shape(cs.input), seed: UInt64(30 + i))
            let ref = Self.naiveConv(ex.value(x), ex.parameters.value("op.weight")!, ex.parameters.value("op.bias"),
                                k: cs.k, s: cs.s, p: cs.p, d: cs.d, out: ex.value(y).shape)
            ConvCheck.assertClose(ex.value(y).array, ref, "tap case \(i) \(cs.input)")
            try GradCheck.check(cs.layer, inputs: [Shape(cs.input)], maxPerTensor: 150)
        }
        try ConvCheck.checkAccumulates(Self.tapCases[0].layer, input: Shape(Self.tapCases[0].input))
    }

    /// The tap path over several groups of samples equals it over one group (forward, dX, dW, db).
    func testTapPathGroups() throws {
        let cs = Case(input: [5, 64, 3, 3], out: 4, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1])
        let layer = cs.layer, input = Shape(cs.input)
        let out = try layer.outputShape([input], name: "op")
        let g = PatchGeometry(image: input, outSpatial: out, settings: layer.settings)
        let one = SmallMapTaps(g, outChannels: 4, batch: 5), several = SmallMapTaps(g, outChannels: 4, batch: 5, budget: 2 * 64 * 9)
        XCTAssertEqual(one.group, 5)
        XCTAssertEqual(several.group, 2)
        let x = GradCheck.random(input, seed: 3), dy = GradCheck.random(out, seed: 4)
        let params = layer.parameters([input]).enumerated().map { GradCheck.random($0.element.shape, seed: 10 + UInt64($0.offset)) }
        func run(_ plan: SmallMapTaps) -> [[Float]] {
            let grads = layer.parameters([input]).map { HostTensor($0.shape) }
            let y = HostTensor(out), dx = HostTensor(input)
            let ws = HostTensor(Shape(plan.workspace)), saved = HostTensor(Shape(layer.plan([input], output: out).savedCount))
            defer { withExtendedLifetime((ws, saved, grads, y, dx)) {} }
            let c = LayerContext(name: "op", inputs: [x.tensor], output: y.tensor, dInputs: [dx.tensor], dOutput: dy.tensor,
                                 params: params.map(\.tensor), grads: grads.map(\.tensor), state: [],
                                 saved: saved.data, workspace: ws.data)
            layer.smallMapTapsForward(c, plan)
            layer.smallMapTapsBackward(c, plan, fresh: false)
            return [y.array, dx.array] + grads.map(\.array)
        }
        let a = run(one), b = run(several)
        for (k, what) in ["y", "dX", "dW", "db"].enumerated() { ConvCheck.assertClose(b[k], a[k], "\(what) over 3 groups") }
    }

    func testOutputShapesAndKind() throws {
        let g = Graph()
        let x1 = g.input("x1", Shape(2, 3, 10)), x2 = g.input("x2", Shape(2, 3, 10, 12)), x3 = g.input("x3", Shape(2, 3, 4, 10, 12))
        let any = Conv(outChannels: 8, kernel: 3, stride: 2, padding: 1)
        XCTAssertEqual(g.shape(try g.add("a", any, x1)), Shape(2, 8, 5))
        XCTAssertEqual(g.shape(try g.add("b", any, x2)), Shape(2, 8, 5, 6))
        XCTAssertEqual(g.shape(try g.add("c", any, x3)), Shape(2, 8, 2, 5, 6))
        XCTAssertEqual(any.kind, "conv")
        XCTAssertEqual(any.kind(for: [Shape(2, 3, 10, 12)]), "conv2d")
        XCTAssertEqual(Conv(outChannels: 8, kernel: 3, dims: 3).kind, "conv3d")
        XCTAssertEqual(Conv(outChannels: 8, kernel: [3, 3]).kind, "conv2d")
        let p = Conv(outChannels: 8, kernel: [3, 5], padding: [1, 2]).parameters([Shape(2, 3, 10, 12)])
        XCTAssertEqual(p.map(\.shape), [Shape(8, 3, 3, 5), Shape(8)])
        XCTAssertEqual(p[0].initializer, .heUniform(fanIn: 45))
        XCTAssertEqual(p[1].initializer, .zeros)
        XCTAssertEqual(Conv(outChannels: 8, kernel: 3, bias: false).parameters([Shape(1, 2, 5)]).count, 1)
    }

    func testGradients() throws {
        for cs in Self.cases {
            try GradCheck.check(cs.layer, inputs: [Shape(cs.input)])
        }
    }

    func testShapeErrorsNameTheLayer() {
        let g = Graph()
        let x2 = g.input("x", Shape(2, 5, 8, 8)), x1 = g.input("x1", Shape(2, 5, 8)), flat = g.input("f", Shape(2, 5))
        // wrong channels
        ConvCheck.assertThrowsNaming("c1") { try g.add("c1", Conv(outChannels: 4, kernel: 3, inChannels: 3), x2) }
        // kernel larger than the padded input (8 + 2 < 11), also through dilation (span 9 > 8)
        ConvCheck.assertThrowsNaming("c2") { try g.add("c2", Conv(outChannels: 4, kernel: 11, padding: 1), x2) }
        ConvCheck.assertThrowsNaming("c3") { try g.add("c3", Conv(outChannels: 4, kernel: 3, dilation: 4), x1) }
        // rank mismatch: a 2D conv on a 1D input, any conv on a dense input, dims vs rank
        ConvCheck.assertThrowsNaming("c4") { try g.add("c4", Conv(outChannels: 4, kernel: [3, 3]), x1) }
        ConvCheck.assertThrowsNaming("c5") { try g.add("c5", Conv(outChannels: 4, kernel: 1), flat) }
        ConvCheck.assertThrowsNaming("c6") { try g.add("c6", Conv(outChannels: 4, kernel: 3, dims: 3), x2) }
        // parameters out of range or of the wrong length
        ConvCheck.assertThrowsNaming("c7") { try g.add("c7", Conv(outChannels: 4, kernel: 3, stride: 0), x2) }
        ConvCheck.assertThrowsNaming("c8") { try g.add("c8", Conv(outChannels: 0, kernel: 3), x2) }
        ConvCheck.assertThrowsNaming("c9") { try g.add("c9", Conv(outChannels: 4, kernel: [3, 3], padding: [1, 1, 1]), x2) }
        ConvCheck.assertThrowsNaming("c10") { try g.add("c10", Conv(outChannels: 4, kernel: 3, padding: -1), x2) }
        // two inputs
        ConvCheck.assertThrowsNaming("c11") { try g.add("c11", Conv(outChannels: 4, kernel: 3), x2, x2) }
        XCTAssertTrue(g.nodes.isEmpty)
    }

    /// Backward adds: parameter gradients double over two passes without zeroing, and input
    /// gradients land on top of what the buffer held — on every code path.
    func testBackwardAccumulates() throws {
        for cs in [Self.cases[0], Self.cases[3], Self.cases[4], Self.cases[8], Self.cases[11], Self.cases[12], Self.cases[13]] {
            try ConvCheck.checkAccumulates(cs.layer, input: Shape(cs.input))
        }
    }
}

/// Every algorithm of `Conv` on the same geometries, whatever `Conv.algorithm` would choose: the
/// forward against the direct convolution, gradients by finite differences, fresh writes.
final class ConvFormTests: XCTestCase {
    enum Form: String { case implicitGEMM, patches, im2col, taps, winograd }

    /// A Conv that always runs one algorithm: its plan hands Conv that algorithm.
    struct Forced: Layer {
        let conv: Conv
        let form: Form
        var kind: String { conv.kind }
        func kind(for inputs: [Shape]) -> String { conv.kind(for: inputs) }
        func outputShape(_ inputs: [Shape], name: String) throws -> Shape { try conv.outputShape(inputs, name: name) }
        func parameters(_ inputs: [Shape]) -> [TensorSpec] { conv.parameters(inputs) }
        var writesFreshInputGradients: Bool { true }
        func plan(_ inputs: [Shape], output: Shape) -> LayerPlan {
            let g = PatchGeometry(image: inputs[0], outSpatial: output, settings: conv.settings), batch = inputs[0].batch
            let a: ConvAlgorithm
            switch form {
            case .implicitGEMM: a = .implicitGEMM(Conv.TapPlan(TapRows(g)!, batch: batch, outChannels: conv.outChannels))
            case .patches: a = .patches(Conv.PatchPlan(g, batch: batch, outChannels: conv.outChannels))
            // two samples a group: several groups for batches above 2
            case .im2col: a = .im2col(g, ColumnChunks(samples: g, group: min(batch, 2)))
            // budget 1: one sample a group
            case .taps: a = .taps(SmallMapTaps(g, outChannels: conv.outChannels, batch: batch, budget: 1))
            case .winograd: a = .winograd(Winograd(g, outChannels: conv.outChannels)!)
            }
            return LayerPlan(algorithm: a, savedCount: a.savedCount, workspaceCount: conv.workspaceCount(a, batch: batch))
        }
        func forward(_ c: LayerContext, mode: Mode) { conv.forward(c, mode: mode) }
        func backward(_ c: LayerContext, mode: Mode) { conv.backward(c, mode: mode) }
    }

    // Unit stride and W dilation (both forms), then strided or W-dilated (patches only).
    static let cases: [ConvTests.Case] = [
        .init(input: [3, 2, 11], out: 4, k: [3], s: [1], p: [1], d: [1]),
        .init(input: [2, 3, 9], out: 2, k: [4], s: [1], p: [2], d: [1]),             // even kernel, more padding
        .init(input: [2, 3, 7, 9], out: 5, k: [3, 2], s: [1, 1], p: [1, 0], d: [2, 1]), // H dilation
        .init(input: [2, 2, 6, 5], out: 3, k: [3, 3], s: [1, 1], p: [0, 0], d: [1, 1]), // valid
        .init(input: [1, 3, 5, 8], out: 2, k: [5, 5], s: [1, 1], p: [2, 2], d: [1, 1], bias: false),
        .init(input: [2, 2, 4, 5, 6], out: 3, k: [2, 3, 3], s: [1, 1, 1], p: [1, 1, 1], d: [2, 1, 1]),
        .init(input: [2, 3, 3, 4, 5], out: 2, k: [3, 1, 2], s: [1, 1, 1], p: [1, 0, 1], d: [1, 1, 1]),
        .init(input: [4, 3, 2, 3], out: 2, k: [1, 1], s: [1, 1], p: [0, 0], d: [1, 1]),      // pointwise, few positions
        .init(input: [2, 3, 7, 9], out: 2, k: [3, 3], s: [2, 1], p: [1, 1], d: [1, 1]),
        .init(input: [2, 2, 8, 7], out: 2, k: [2, 3], s: [3, 2], p: [2, 1], d: [2, 1]),
        .init(input: [3, 2, 11], out: 4, k: [3], s: [1], p: [1], d: [2]),
        // Winograd F(2×2, 3×3) (and the others): odd and even sizes, channel counts that fill
        // eight-lane groups or leave tails, one row or column of tiles.
        .init(input: [2, 3, 5, 7], out: 2, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1]),
        .init(input: [2, 8, 6, 9], out: 16, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1]),
        .init(input: [1, 11, 2, 3], out: 9, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1], bias: false),
        .init(input: [3, 16, 1, 12], out: 8, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1]),
        // 3D Winograd: depth taps as row-shifted GEMMs over zero-padded slices.
        .init(input: [2, 8, 3, 5, 6], out: 8, k: [3, 3, 3], s: [1, 1, 1], p: [1, 1, 1], d: [1, 1, 1]),
        .init(input: [1, 5, 1, 4, 3], out: 3, k: [3, 3, 3], s: [1, 1, 1], p: [1, 1, 1], d: [1, 1, 1]),
        .init(input: [2, 16, 2, 3, 8], out: 8, k: [3, 3, 3], s: [1, 1, 1], p: [1, 1, 1], d: [1, 1, 1], bias: false),
    ]

    /// Every form that runs the geometry: tap rows and small-map taps need unit stride, Winograd
    /// 3×3 (×3) stride 1 padding 1; grouped and patches take any.
    func forms(_ cs: ConvTests.Case) -> [Form] {
        let out = try! cs.layer.outputShape([Shape(cs.input)], name: "op")
        let g = PatchGeometry(image: Shape(cs.input), outSpatial: out, settings: cs.layer.settings)
        let unit = cs.s.allSatisfy { $0 == 1 }
        return (TapRows(g) == nil ? [.patches] : [.implicitGEMM, .patches]) + [.im2col] + (unit ? [.taps] : [])
            + (Winograd(g, outChannels: cs.out) == nil ? [] : [.winograd])
    }

    func testForwardMatchesDirectConvolution() throws {
        var tapsSeen = 0
        for (i, cs) in Self.cases.enumerated() {
            for form in forms(cs) {
                if form == .implicitGEMM { tapsSeen += 1 }
                let (ex, x, y) = try ConvCheck.runLayer(Forced(conv: cs.layer, form: form), input: Shape(cs.input), seed: UInt64(i))
                let ref = ConvTests.naiveConv(ex.value(x), ex.parameters.value("op.weight")!, ex.parameters.value("op.bias"),
                                                k: cs.k, s: cs.s, p: cs.p, d: cs.d, out: ex.value(y).shape)
                ConvCheck.assertClose(ex.value(y).array, ref, "\(form) case \(i) \(cs.input)")
            }
        }
        XCTAssertEqual(tapsSeen, 15)
        XCTAssertEqual(Self.cases.filter { forms($0).contains(.winograd) }.count, 7)
    }

    func testGradients() throws {
        for cs in Self.cases {
            for form in forms(cs) { try GradCheck.check(Forced(conv: cs.layer, form: form), inputs: [Shape(cs.input)]) }
        }
    }

    /// Winograd over several chunks of tile rows that cross images (budget 2^19 floats of
    /// tiles: 16·(64 + 64)·8 per tile row of a 16-wide image, 32 tile rows of 34), forward
    /// against the direct convolution and gradients.
    func testWinogradSeveralChunks() throws {
        let cs = ConvTests.Case(input: [2, 64, 34, 16], out: 64, k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1])
        let g = PatchGeometry(image: Shape(cs.input), outSpatial: Shape([2, 64, 34, 16]), settings: cs.layer.settings)
        let f = try XCTUnwrap(Winograd(g, outChannels: 64))
        XCTAssertEqual(f.chunkRows(batch: 2), 32)
        XCTAssertEqual(2 * f.th, 34)
        let (ex, x, y) = try ConvCheck.runLayer(Forced(conv: cs.layer, form: .winograd), input: Shape(cs.input), seed: 3)
        let ref = ConvTests.naiveConv(ex.value(x), ex.parameters.value("op.weight")!, ex.parameters.value("op.bias"),
                                      k: cs.k, s: cs.s, p: cs.p, d: cs.d, out: ex.value(y).shape)
        ConvCheck.assertClose(ex.value(y).array, ref, "winograd chunks")
        try GradCheck.check(Forced(conv: cs.layer, form: .winograd), inputs: [Shape(cs.input)], maxPerTensor: 20)
    }

    func testFreshInputGradients() throws {
        for cs in Self.cases {
            for form in forms(cs) { try FreshGradientTests.check(Forced(conv: cs.layer, form: form), [Shape(cs.input)]) }
        }
    }
}
