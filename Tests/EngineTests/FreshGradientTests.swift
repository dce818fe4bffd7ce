import TestSupport
import XCTest
@testable import Engine

/// Layers that declare `writesFreshInputGradients`: with an input gradient marked fresh and
/// filled with NaN (stale), backward must write every element, and the result must equal the
/// add-mode result on a zeroed gradient. Parameter gradients keep adding in both modes. The
/// executor's plan (which values are written fresh, which are zeroed) is checked on graphs.
final class FreshGradientTests: XCTestCase {
    /// Runs forward once, then backward in add mode (gradients from 0) and in fresh mode
    /// (gradients NaN, every input marked fresh, or only `freshInputs`); compares.
    static func check(_ layer: any Layer, _ shapes: [Shape], mode: Mode = .training(seed: 1), freshInputs: [Bool]? = nil,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertTrue(layer.writesFreshInputGradients, "\(layer.kind) declares fresh writes", file: file, line: line)
        let out = try layer.outputShape(shapes, name: "op")
        let xs = shapes.enumerated().map { GradCheck.random($0.element, seed: 3 + UInt64($0.offset)) }
        let dy = GradCheck.random(out, seed: 2)
        let params = layer.parameters(shapes).enumerated().map { GradCheck.random($0.element.shape, seed: 10 + UInt64($0.offset)) }
        let grads = layer.parameters(shapes).map { HostTensor($0.shape) }
        let state = layer.state(shapes).map { s -> HostTensor in
            let t = HostTensor(s.shape); t.tensor.fill(s.suffix == "running_var" ? 1.5 : 0.25); return t
        }
        let y = HostTensor(out)
        let dxs = shapes.map { HostTensor($0) }
        let plan = layer.plan(shapes, output: out)
        let ws = HostTensor(Shape(max(1, plan.workspaceCount))), saved = HostTensor(Shape(max(1, plan.savedCount)))
        defer { withExtendedLifetime((ws, saved, xs, params, grads, state, y, dy, dxs)) {} }
        func context(fresh: [Bool]) -> LayerContext {
            LayerContext(name: "op", inputs: xs.map(\.tensor), output: y.tensor, dInputs: dxs.map(\.tensor), dOutput: dy.tensor,
                         params: params.map(\.tensor), grads: grads.map(\.tensor), state: state.map(\.tensor),
                         saved: saved.data, workspace: ws.data, freshInputGradients: fresh, algorithm: plan.algorithm)
        }
        let fresh = freshInputs ?? shapes.map { _ in true }
        layer.forward(context(fresh: fresh), mode: mode)

        for d in dxs { d.tensor.zero() }
        layer.backward(context(fresh: shapes.map { _ in false }), mode: mode)
        let added = dxs.map(\.array), gradsOnce = grads.map(\.array)

        // Stale contents: NaN where fresh, the add-mode result's complement elsewhere (so
        // adding lands on the same sum).
        for (k, d) in dxs.enumerated() { if fresh[k] { d.tensor.fill(.nan) } else { d.tensor.zero() } }
        layer.backward(context(fresh: fresh), mode: mode)
        for k in dxs.indices {
            let got = dxs[k].array
            XCTAssertFalse(got.contains { $0.isNaN }, "\(layer.kind) input \(k): an element of a fresh gradient was not written",
                           file: file, line: line)
            ConvCheck.assertClose(got, added[k], "\(layer.kind) input \(k) fresh vs added", file: file, line: line)
        }
        for (k, g) in grads.enumerated() {
            ConvCheck.assertClose(g.array, gradsOnce[k].map { 2 * $0 }, "\(layer.kind) parameter gradient \(k) keeps adding",
                                  file: file, line: line)
        }
    }

    func testActivations() throws {
        for f in [Activation.relu, .leakyReLU(0.1), .sigmoid, .tanh] {
            try Self.check(f, [Shape(3, 37)]) // 111 elements: 8-lane body and a tail
        }
    }

    func testBatchNorm() throws {
        for relu in [false, true] {
            for mode in [Mode.training(seed: 1), .inference] {
                try Self.check(BatchNorm(relu: relu), [Shape(2, 3, 5, 7)], mode: mode)   // spread (35 positions)
                try Self.check(BatchNorm(relu: relu), [Shape(2, 3, 9, 9)], mode: mode)   // per channel (81)
                try Self.check(BatchNorm(relu: relu), [Shape(66, 45, 5, 5)], mode: mode) // spread: blocks, tiles, tail
                try Self.check(BatchNorm(affine: false, relu: relu), [Shape(5, 4)], mode: mode)
            }
        }
    }

    func testConvPaths() throws {
        try Self.check(Conv(outChannels: 4, kernel: 1), [Shape(2, 3, 16, 20)])            // pointwise, direct GEMM
        try Self.check(Conv(outChannels: 4, kernel: 3, padding: 1), [Shape(3, 2, 5, 6)])   // samples grouped
        try Self.check(Conv(outChannels: 4, kernel: 1), [Shape(70, 3, 2, 2)])              // grouped pointwise, 2 groups
        try Self.check(Conv(outChannels: 4, kernel: 1, stride: 2), [Shape(3, 3, 7, 7)])    // grouped strided 1×1
        try Self.check(Conv(outChannels: 4, kernel: 3, padding: 1), [Shape(3, 64, 2, 2)])  // per tap
        try Self.check(Conv(outChannels: 3, kernel: 3, padding: 1), [Shape(2, 2, 130, 120)]) // line chunks
        try Self.check(Conv(outChannels: 3, kernel: 3, stride: 2, padding: 1), [Shape(2, 3, 9, 11)])
        try Self.check(Conv(outChannels: 2, kernel: 3, stride: 1, padding: 0, dilation: 2), [Shape(2, 3, 9, 11)])
        try Self.check(Conv(outChannels: 3, kernel: 5, padding: 2), [Shape(4, 3, 24)])    // 1D
        try Self.check(Conv(outChannels: 3, kernel: 3, padding: 1), [Shape(2, 2, 4, 6, 7)]) // 3D
    }

    func testConvTransposePaths() throws {
        try Self.check(ConvTranspose(outChannels: 3, kernel: 1), [Shape(2, 4, 16, 20)])               // pointwise
        try Self.check(ConvTranspose(outChannels: 3, kernel: 2, stride: 2), [Shape(3, 4, 5, 6)])      // grouped
        try Self.check(ConvTranspose(outChannels: 2, kernel: 2, stride: 2), [Shape(1, 3, 70, 80)])    // line chunks
        try Self.check(ConvTranspose(outChannels: 2, kernel: 3, stride: 2, padding: 1), [Shape(2, 3, 5, 4)])
        try Self.check(ConvTranspose(outChannels: 2, kernel: 2, stride: 2), [Shape(2, 3, 3, 4, 5)])   // 3D
    }

    func testPooling() throws {
        try Self.check(MaxPool(kernel: 2), [Shape(2, 3, 8, 10)])
        try Self.check(MaxPool(kernel: 2), [Shape(2, 3, 9, 11)])                  // odd sizes: last row/column unpooled
        try Self.check(MaxPool(kernel: 3, stride: 2, padding: 1), [Shape(2, 2, 7, 9)]) // overlapping windows
        try Self.check(MaxPool(kernel: 2), [Shape(2, 2, 4, 6, 8)])                // 3D
        try Self.check(MaxPool(kernel: 2), [Shape(3, 2, 13)])                     // 1D
    }

    func testDropout() throws {
        for mode in [Mode.training(seed: 3), .inference] { try Self.check(Dropout(0.3), [Shape(2, 3, 37)], mode: mode) }
    }

    func testAdd() throws {
        for relu in [false, true] {
            try Self.check(Add(relu: relu), [Shape(2, 3, 37), Shape(2, 3, 37)])
            try Self.check(Add(relu: relu), [Shape(2, 3, 37), Shape(2, 3, 37), Shape(2, 3, 37)], freshInputs: [true, false, true])
        }
    }

    func testConcatAndMeanAxis() throws {
        try Self.check(Concat(), [Shape(2, 3, 4, 5), Shape(2, 2, 4, 5)])
        try Self.check(Concat(), [Shape(2, 3, 4, 5), Shape(2, 2, 4, 5)], freshInputs: [false, true])
        try Self.check(MeanAxis(axis: 2), [Shape(2, 3, 4, 5, 6)])
    }

    /// The executor writes a value's gradient fresh only from its last consumer, and zeroes
    /// what nobody writes fresh: x feeds a (relu) and then b (a Concat of x with itself, which
    /// may not write fresh since it takes x twice); y = a + … The result must equal the sum of
    /// all paths, and repeat on a second backward.
    func testPlanSumsEveryPathAndRepeats() throws {
        let g = Graph()
        let x = g.input("x", Shape(2, 3, 4))
        let a = try g.add("a", Activation.tanh, x)
        let b = try g.add("b", Concat(), [x, x])
        let c = try g.add("c", Concat(), [a, x])
        let d = try g.add("d", Activation.sigmoid, b)
        let ex = try g.plan(outputs: [c, d], inputGradients: true)
        var rng = SplitMix64(seed: 4)
        let xv = ex.value(x)
        for i in 0..<xv.count { xv.data[i] = rng.normal() }
        ex.forward(mode: .inference)
        let gc = ex.gradient(c)!, gd = ex.gradient(d)!
        for i in 0..<gc.count { gc.data[i] = rng.normal() }
        for i in 0..<gd.count { gd.data[i] = rng.normal() }
        let gcv = gc.array, gdv = gd.array
        ex.backward(mode: .inference)
        let dx = ex.gradient(x)!.array
        // By hand: per sample n (12 floats each), c = [tanh(x), x], b = [x, x], d = σ(b).
        var expected = [Float](repeating: 0, count: 24)
        for n in 0..<2 {
            for i in 0..<12 {
                let xi = xv.data[n * 12 + i]
                let t = tanhf(xi)
                expected[n * 12 + i] += gcv[n * 24 + i] * (1 - t * t) + gcv[n * 24 + 12 + i]
                for half in 0..<2 {
                    let s = 1 / (1 + expf(-xi))
                    expected[n * 12 + i] += gdv[n * 24 + half * 12 + i] * s * (1 - s)
                }
            }
        }
        ConvCheck.assertClose(dx, expected, "dx over every path")
        ex.backward(mode: .inference)
        ConvCheck.assertClose(ex.gradient(x)!.array, expected, "dx on a second backward")
        // The outputs' gradients are the loss's: backward leaves them alone.
        XCTAssertEqual(gc.array, gcv)
    }
}
