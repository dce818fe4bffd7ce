import TestSupport
import XCTest
@testable import Engine

/// MaxPool, AvgPool, GlobalAvgPool, MaxUnpool: values and argmax indices against the plain
/// reference below, routing by hand, gradients by central differences, shape errors.
final class PoolTests: XCTestCase {
    /// (input shape, kernel, stride, padding), all per spatial dim: 1D/2D/3D, odd sizes,
    /// stride ≠ kernel, padding, batch > 1.
    static let cases: [(Shape, [Int], [Int], [Int])] = [
        (Shape(2, 3, 9), [3], [2], [1]),
        (Shape(2, 2, 7, 6), [3, 2], [2, 1], [1, 0]),
        (Shape(1, 2, 5, 5), [2, 2], [2, 2], [0, 0]),   // odd size: last row/column dropped
        (Shape(2, 2, 3, 5, 4), [2, 2, 2], [2, 2, 2], [0, 0, 0]),
        (Shape(2, 1, 4, 7, 5), [1, 3, 3], [1, 2, 2], [0, 1, 1]),
        (Shape(1, 2, 3, 4, 5), [3, 2, 3], [1, 3, 2], [1, 1, 1]),
        // Non-overlapping 2-wide windows with rows of ≥ 8 outputs: the eight-lane path, and
        // the scalar loop for the rest of each row (odd widths drop the last column).
        (Shape(2, 3, 6, 37), [2, 2], [2, 2], [0, 0]),
        (Shape(1, 2, 4, 5, 34), [2, 2, 2], [2, 2, 2], [0, 0, 0]),
        (Shape(1, 2, 3, 4, 40), [1, 2, 2], [1, 2, 2], [0, 0, 0]),
        (Shape(2, 2, 35), [2], [2], [0]),
    ]

    func testMaxPoolValuesAndIndicesMatchReference() throws {
        for (k, (shape, kernel, stride, pad)) in Self.cases.enumerated() {
            // Few distinct values, so most windows hold ties: the first in scan order must win.
            var rng = SplitMix64(seed: UInt64(k))
            let xs = (0..<shape.count).map { _ in Float(rng.next() % 4) }
            let run = try LayerRun(MaxPool(kernel: kernel, stride: stride, padding: pad), [HostTensor(shape, xs)])
            run.forward()
            let ref = referencePool(xs, shape, kernel, stride, pad)
            XCTAssertEqual(run.output.shape, ref.shape, "case \(k)")
            XCTAssertEqual(run.output.array, ref.max, "case \(k)")
            XCTAssertEqual(run.indices(run.output.shape.count).map(Int.init), ref.argmax, "case \(k)")

            // Backward routes dY to the argmax and adds to what dx held.
            let dy = (0..<run.output.shape.count).map { Float($0 % 7) - 3 }
            run.backward(dy)
            var expected = [Float](repeating: 0, count: shape.count)
            let plane = shape.count / (shape[0] * shape[1]), outPlane = ref.shape.count / (shape[0] * shape[1])
            for j in 0..<dy.count { expected[(j / outPlane) * plane + ref.argmax[j]] += dy[j] }
            XCTAssertEqual(run.inputGradient(0), expected, "case \(k)")
        }
    }

    func testAvgPoolMatchesReferenceExcludingPadding() throws {
        for (k, (shape, kernel, stride, pad)) in Self.cases.enumerated() {
            let x = GradCheck.random(shape, seed: UInt64(10 + k))
            let run = try LayerRun(AvgPool(kernel: kernel, stride: stride, padding: pad), [x])
            run.forward()
            let ref = referencePool(x.array, shape, kernel, stride, pad)
            XCTAssertEqual(run.output.shape, ref.shape, "case \(k)")
            for (a, b) in zip(run.output.array, ref.mean) { XCTAssertEqual(a, b, accuracy: 1e-5, "case \(k)") }
        }
    }

    /// 1×1×3×3 with a 3×3 window, padding 1, stride 2: the corner windows see 2×2 real values
    /// and divide by 4 (count_include_pad = false), not by 9.
    func testAvgPoolBorderDividesByRealCountByHand() throws {
        let x = HostTensor(Shape(1, 1, 3, 3), [1, 2, 3,
                                               4, 5, 6,
                                               7, 8, 9])
        let run = try LayerRun(AvgPool(kernel: 3, stride: 2, padding: 1), [x])
        run.forward()
        XCTAssertEqual(run.output.shape, Shape(1, 1, 2, 2))
        XCTAssertEqual(run.output.array, [3, 4, 6, 7]) // (1+2+4+5)/4, (2+3+5+6)/4, ...
    }

    func testMaxPoolScalarSettingsAndDefaultStride() throws {
        let g = Graph()
        let x1 = g.input("a", Shape(2, 3, 9)), x3 = g.input("b", Shape(1, 2, 4, 6, 7))
        XCTAssertEqual(g.shape(try g.add("p1", MaxPool(kernel: 2), x1)), Shape(2, 3, 4))
        XCTAssertEqual(g.shape(try g.add("p3", MaxPool(kernel: 2), x3)), Shape(1, 2, 2, 3, 3))
        XCTAssertEqual(g.shape(try g.add("q3", MaxPool(kernel: [1, 2, 2]), x3)), Shape(1, 2, 4, 3, 3))
        XCTAssertEqual(g.shape(try g.add("a3", AvgPool(kernel: 3, stride: 1, padding: 1), x3)), Shape(1, 2, 4, 6, 7))
    }

    func testGlobalAvgPool() throws {
        for shape in [Shape(2, 3, 7), Shape(3, 2, 3, 5), Shape(2, 2, 2, 3, 3)] {
            let x = GradCheck.random(shape, seed: 5)
            let run = try LayerRun(GlobalAvgPool(), [x])
            run.forward()
            XCTAssertEqual(run.output.shape, Shape(shape[0], shape[1]))
            let m = shape.count / (shape[0] * shape[1])
            for p in 0..<(shape[0] * shape[1]) {
                let mean = x.array[(p * m)..<((p + 1) * m)].reduce(0, +) / Float(m)
                XCTAssertEqual(run.output.array[p], mean, accuracy: 1e-5)
            }
            try GradCheck.check(GlobalAvgPool(), inputs: [shape])
        }
    }

    /// MaxPool then MaxUnpool on one 4×4 plane, worked out by hand:
    ///   1 5 2 0      windows: {1,5,3,4} → 5 at 1;  {2,0,8,8} → 8 at 6 (tie: first);
    ///   3 4 8 8               {0,7,9,1} → 9 at 12; {6,6,6,2} → 6 at 10 (tie: first)
    ///   0 7 6 6
    ///   9 1 6 2
    func testMaxUnpoolOfMaxPoolRoutesByHand() throws {
        let g = Graph()
        let a = g.input("a", Shape(1, 1, 4, 4))
        let p = try g.add("pool", MaxPool(kernel: 2), a)
        let u = try g.add("unpool", MaxUnpool(kernel: 2), p, a)
        XCTAssertEqual(g.shape(u), Shape(1, 1, 4, 4))
        let ex = try g.plan(outputs: [u], inputGradients: true)
        ex.value(a).copy(from: [1, 5, 2, 0, 3, 4, 8, 8, 0, 7, 6, 6, 9, 1, 6, 2])
        ex.forward(mode: .inference)
        XCTAssertEqual(ex.value(p).array, [5, 8, 9, 6])
        XCTAssertEqual(ex.value(u).array, [0, 5, 0, 0, 0, 0, 8, 0, 0, 0, 6, 0, 9, 0, 0, 0])
        ex.gradient(u)!.copy(from: (1...16).map(Float.init))
        ex.backward(mode: .inference)
        // Unpool gathers dY at 1, 6, 12, 10; the pool routes those back to the same places.
        XCTAssertEqual(ex.gradient(p)!.array, [2, 7, 13, 11])
        XCTAssertEqual(ex.gradient(a)!.array, [0, 2, 0, 0, 0, 0, 7, 0, 0, 0, 11, 0, 13, 0, 0, 0])
    }

    func testMaxUnpoolMatchesReference() throws {
        for (k, (shape, kernel, stride, pad)) in Self.cases.enumerated() {
            var rng = SplitMix64(seed: UInt64(20 + k))
            let poolIn = (0..<shape.count).map { _ in Float(rng.next() % 5) }
            let ref = referencePool(poolIn, shape, kernel, stride, pad)
            let x = GradCheck.random(ref.shape, seed: UInt64(30 + k))
            let run = try LayerRun(MaxUnpool(kernel: kernel, stride: stride, padding: pad), [x, HostTensor(shape, poolIn)])
            run.forward()
            XCTAssertEqual(run.output.shape, shape)
            let plane = shape.count / (shape[0] * shape[1]), outPlane = ref.shape.count / (shape[0] * shape[1])
            var expected = [Float](repeating: 0, count: shape.count)
            for j in 0..<x.shape.count { expected[(j / outPlane) * plane + ref.argmax[j]] += x.array[j] }
            for (a, b) in zip(run.output.array, expected) { XCTAssertEqual(a, b, accuracy: 1e-6, "case \(k)") }

            // dx gathers dY at the argmax; poolInput gets nothing (its gradient stays as it was).
            let dy = (0..<shape.count).map { Float($0 % 5) - 2 }
            run.backward(dy)
            let gathered = (0..<x.shape.count).map { j in dy[(j / outPlane) * plane + ref.argmax[j]] }
            XCTAssertEqual(run.inputGradient(0), gathered, "case \(k)")
            XCTAssertEqual(run.inputGradient(1), [Float](repeating: 0, count: shape.count), "case \(k)")
        }
    }

    func testMaxUnpoolSharesTheArgmaxRule() throws {
        // The exposed routine is the one both layers use: compare with MaxPool's saved indices.
        let (shape, kernel, stride, pad) = Self.cases[5]
        var rng = SplitMix64(seed: 3)
        let xs = (0..<shape.count).map { _ in Float(rng.next() % 3) }
        let run = try LayerRun(MaxPool(kernel: kernel, stride: stride, padding: pad), [HostTensor(shape, xs)])
        run.forward()
        let g = try PoolGeometry.checked(input: shape, kernel: kernel, stride: stride, padding: pad, layer: "t")
        var idx = [Int32](repeating: -1, count: run.output.shape.count)
        xs.withUnsafeBufferPointer { x in
            idx.withUnsafeMutableBufferPointer { g.argmax(x.baseAddress!, indices: $0.baseAddress!, values: nil) }
        }
        XCTAssertEqual(idx, run.indices(run.output.shape.count))
    }

    func testMaxPoolPropagatesNaN() throws {
        let x = HostTensor(Shape(1, 1, 4), [1, .nan, 3, 2])
        let run = try LayerRun(MaxPool(kernel: 2), [x])
        run.forward()
        XCTAssertTrue(run.output.array[0].isNaN)
        XCTAssertEqual(run.output.array[1], 3)
        XCTAssertEqual(run.indices(2), [1, 2])
    }

    /// The eight-lane path hands a group with a NaN to the scalar rule: the first NaN of a
    /// window wins; other groups of the row keep their lanes.
    func testMaxPoolPropagatesNaNInLaneGroups() throws {
        var xs = (0..<(2 * 40)).map { Float(($0 * 7) % 5) }
        xs[5] = .nan          // row 0, window 2 (columns 4, 5)
        xs[40 + 4] = .nan     // row 1, window 2: later in scan order than xs[5]
        xs[40 + 33] = .nan    // row 1, window 16 (second lane group)
        let run = try LayerRun(MaxPool(kernel: 2), [HostTensor(Shape(1, 1, 2, 40), xs)])
        run.forward()
        let ref = referencePool(xs.map { $0.isNaN ? 0 : $0 }, Shape(1, 1, 2, 40), [2, 2], [2, 2], [0, 0])
        let idx = run.indices(20)
        for j in 0..<20 {
            switch j {
            case 2: XCTAssertTrue(run.output.array[j].isNaN); XCTAssertEqual(idx[j], 5)
            case 16: XCTAssertTrue(run.output.array[j].isNaN); XCTAssertEqual(idx[j], 73)
            default:
                XCTAssertEqual(run.output.array[j], ref.max[j], "output \(j)")
                XCTAssertEqual(Int(idx[j]), ref.argmax[j], "output \(j)")
            }
        }
    }

    func testGradients() throws {
        for (shape, kernel, stride, pad) in Self.cases {
            let out = try MaxPool(kernel: kernel, stride: stride, padding: pad).outputShape([shape], name: "p")
            try GradCheck.check(MaxPool(kernel: kernel, stride: stride, padding: pad), inputs: [shape],
                                values: distinctValues(count: shape.count))
            try GradCheck.check(AvgPool(kernel: kernel, stride: stride, padding: pad), inputs: [shape])
            try GradCheck.check(MaxUnpool(kernel: kernel, stride: stride, padding: pad), inputs: [out, shape],
                                values: distinctValues(count: out.count + shape.count))
        }
    }

    func testShapeErrorsNameTheLayer() {
        func fails(_ layer: any Layer, _ shapes: [Shape], mentions: [String], line: UInt = #line) {
            assertEngineError(layer: "pool7", mentions: mentions, line: line) {
                let g = Graph()
                let xs = shapes.enumerated().map { g.input("x\($0.offset)", $0.element) }
                try g.add("pool7", layer, xs)
            }
        }
        fails(MaxPool(kernel: 2), [Shape(4, 8)], mentions: ["4×8"])                        // dense input
        fails(AvgPool(kernel: 2), [Shape(1, 2, 3, 4, 5, 6)], mentions: ["1×2×3×4×5×6"])    // rank 6
        fails(MaxPool(kernel: [2, 2]), [Shape(1, 2, 8)], mentions: ["kernel", "1×2×8"])   // 2 values, 1 dim
        fails(MaxPool(kernel: 2, padding: 2), [Shape(1, 2, 8, 8)], mentions: ["padding"])
        fails(MaxPool(kernel: 0), [Shape(1, 2, 8, 8)], mentions: ["kernel"])
        fails(AvgPool(kernel: 2, stride: 0), [Shape(1, 2, 8, 8)], mentions: ["stride"])
        fails(MaxPool(kernel: 5), [Shape(1, 2, 8, 4)], mentions: ["1×2×8×4"])              // window > input
        fails(GlobalAvgPool(), [Shape(3, 5)], mentions: ["3×5"])
        fails(MaxUnpool(kernel: 2), [Shape(1, 2, 4, 3), Shape(1, 2, 8, 8)], mentions: ["1×2×4×3", "1×2×4×4", "1×2×8×8"])
        fails(MaxUnpool(kernel: 2), [Shape(1, 3, 4, 4), Shape(1, 2, 8, 8)], mentions: ["1×3×4×4", "1×2×8×8"])
        fails(MaxUnpool(kernel: 2), [Shape(1, 2, 4, 4)], mentions: ["2 input(s)", "1×2×4×4"])
    }
}

// MARK: - Plain references and helpers (shared by the pooling, upsampling and structure tests)

/// Max and mean pooling done the obvious way: every kernel offset, skipping those in the
/// padding. `argmax` is the in-plane flat index of the first maximum in (d, h, w) order.
func referencePool(_ x: [Float], _ shape: Shape, _ kernel: [Int], _ stride: [Int], _ pad: [Int])
    -> (shape: Shape, max: [Float], mean: [Float], argmax: [Int]) {
    let r = shape.rank - 2, lead = 3 - r
    let I: [Int] = [Int](repeating: 1, count: lead) + shape.spatial
    let K: [Int] = [Int](repeating: 1, count: lead) + kernel
    let S: [Int] = [Int](repeating: 1, count: lead) + stride
    let P: [Int] = [Int](repeating: 0, count: lead) + pad
    let O: [Int] = (0..<3).map { (k: Int) -> Int in (I[k] + 2 * P[k] - K[k]) / S[k] + 1 }
    let plane = I[0] * I[1] * I[2]
    var mx: [Float] = [], mean: [Float] = [], arg: [Int] = []
    for pl in 0..<(shape[0] * shape[1]) {
        for od in 0..<O[0] { for oh in 0..<O[1] { for ow in 0..<O[2] {
            var best = -Float.infinity, at = -1, sum: Float = 0, n = 0
            for kd in 0..<K[0] { for kh in 0..<K[1] { for kw in 0..<K[2] {
                let d = od * S[0] - P[0] + kd, h = oh * S[1] - P[1] + kh, w = ow * S[2] - P[2] + kw
                if d < 0 || d >= I[0] || h < 0 || h >= I[1] || w < 0 || w >= I[2] { continue }
                let f = (d * I[1] + h) * I[2] + w
                let v = x[pl * plane + f]
                if at < 0 || v > best { best = v; at = f }
                sum += v; n += 1
            } } }
            mx.append(best); mean.append(sum / Float(n)); arg.append(at)
        } } }
    }
    return (Shape([shape[0], shape[1]] + O.suffix(r)), mx, mean, arg)
}

/// One layer run directly on host tensors, with its saved memory visible (argmax indices).
final class LayerRun {
    let layer: any Layer
    let inputs: [HostTensor], dInputs: [HostTensor]
    let output: HostTensor, dOutput: HostTensor
    let saved: FloatBuffer, workspace: FloatBuffer
    let context: LayerContext

    init(_ layer: any Layer, _ inputs: [HostTensor], name: String = "op") throws {
        let shapes = inputs.map(\.shape)
        let out = try layer.outputShape(shapes, name: name)
        self.layer = layer
        self.inputs = inputs
        dInputs = shapes.map { HostTensor($0) }
        output = HostTensor(out)
        dOutput = HostTensor(out)
        let plan = layer.plan(shapes, output: out)
        saved = FloatBuffer(count: plan.savedCount)
        workspace = FloatBuffer(count: plan.workspaceCount)
        context = LayerContext(name: name, inputs: inputs.map(\.tensor), output: output.tensor,
                               dInputs: dInputs.map(\.tensor), dOutput: dOutput.tensor, params: [], grads: [],
                               state: [], saved: saved.base, workspace: workspace.base, algorithm: plan.algorithm)
    }

    func forward() {
        output.tensor.fill(.nan) // every output element must be written
        layer.forward(context, mode: .inference)
    }

    /// Runs backward with dY = `dy` on input gradients pre-filled with 1 (backward must add).
    func backward(_ dy: [Float]) {
        dOutput.tensor.copy(from: dy)
        for d in dInputs { d.tensor.fill(1) }
        layer.backward(context, mode: .inference)
    }

    /// The gradient backward added to input `k`.
    func inputGradient(_ k: Int) -> [Float] { dInputs[k].array.map { $0 - 1 } }

    /// The first `n` Int32 values of the saved memory.
    func indices(_ n: Int) -> [Int32] {
        Array(UnsafeBufferPointer(start: UnsafeRawPointer(saved.base).assumingMemoryBound(to: Int32.self), count: n))
    }
}

/// Values for GradCheck with no ties anywhere: a random permutation of 0..<count, centred and
/// spaced 0.05 apart, so a ±0.01 step never changes which element is largest. `count` must
/// cover every element of every input (GradCheck draws them in order).
func distinctValues(count: Int, spacing: Float = 0.05) -> (inout SplitMix64) -> Float {
    final class State { var perm: [Int] = []; var next = 0 }
    let s = State()
    return { rng in
        if s.perm.isEmpty { s.perm = Array(0..<count); s.perm.shuffle(using: &rng) }
        precondition(s.next < count, "distinctValues(count: \(count)) asked for more values")
        defer { s.next += 1 }
        return (Float(s.perm[s.next]) - Float(count) / 2) * spacing
    }
}

/// Asserts `body` throws an EngineError naming `layer` whose message mentions every string.
func assertEngineError(layer: String, mentions: [String], file: StaticString = #filePath, line: UInt = #line,
                       _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("no error thrown", file: file, line: line)
    } catch let e as EngineError {
        let text = e.description
        switch e {
        case .shape(let l, _, _), .parameter(let l, _): XCTAssertEqual(l, layer, text, file: file, line: line)
        case .mismatch: XCTFail("expected a layer error, got \(text)", file: file, line: line)
        }
        for m in mentions { XCTAssertTrue(text.contains(m), "'\(m)' not in: \(text)", file: file, line: line) }
    } catch {
        XCTFail("not an EngineError: \(error)", file: file, line: line)
    }
}
