import TestSupport
import XCTest
@testable import Engine

final class BatchNormTests: XCTestCase {
    /// One BatchNorm layer named "bn" on an input of `shape`.
    private func bnGraph(_ shape: Shape, _ bn: BatchNorm = BatchNorm()) throws -> (Executor, Value, Value) {
        let g = Graph()
        let x = g.input("x", shape)
        let y = try g.add("bn", bn, x)
        let ex = try g.plan(outputs: [y])
        ex.parameters.initialize(seed: 1)
        return (ex, x, y)
    }

    func testForwardAndRunningStatisticsByHand() throws {
        // N=2, C=2, L=2. Channel 0 sees {1, 2, 3, 4}, channel 1 sees {10, 10, 10, 14}.
        let (ex, x, y) = try bnGraph(Shape(2, 2, 2))
        defer { withExtendedLifetime(ex) {} } // tensors below are views into its arenas
        ex.parameters.value("bn.weight")!.copy(from: [2, 0.5])
        ex.parameters.value("bn.bias")!.copy(from: [1, -1])
        ex.value(x).copy(from: [1, 2, 10, 10,
                                3, 4, 10, 14])
        ex.forward(mode: .training(seed: 0))
        // ch0: mean 2.5, biased var 1.25;  ch1: mean 11, biased var (1+1+1+9)/4 = 3.
        let i0 = 1 / (1.25 + 1e-5).squareRoot(), i1 = 1 / (3 + 1e-5).squareRoot()
        let expected = [2 * (-1.5 * i0) + 1, 2 * (-0.5 * i0) + 1, 0.5 * (-1 * i1) - 1, 0.5 * (-1 * i1) - 1,
                        2 * (0.5 * i0) + 1, 2 * (1.5 * i0) + 1, 0.5 * (-1 * i1) - 1, 0.5 * (3 * i1) - 1]
        for (a, e) in zip(ex.value(y).array, expected) { XCTAssertEqual(Double(a), e, accuracy: 1e-5) }
        // running_mean = 0.9·0 + 0.1·mean; running_var = 0.9·1 + 0.1·unbiased (5/3 and 4).
        let rm = ex.parameters.stateTensor("bn.running_mean")!, rv = ex.parameters.stateTensor("bn.running_var")!
        XCTAssertEqual(rm.array[0], 0.25, accuracy: 1e-6)
        XCTAssertEqual(rm.array[1], 1.1, accuracy: 1e-6)
        XCTAssertEqual(rv.array[0], 0.9 + 0.1 * 5 / 3, accuracy: 1e-6)
        XCTAssertEqual(rv.array[1], 1.3, accuracy: 1e-6)

        // Second step: ch0 {0, 0, 2, 2} mean 1, unbiased var 4/3; ch1 {5, 7, 5, 7} mean 6, unbiased 4/3.
        ex.value(x).copy(from: [0, 0, 5, 7,
                                2, 2, 5, 7])
        ex.forward(mode: .training(seed: 1))
        XCTAssertEqual(rm.array[0], 0.9 * 0.25 + 0.1 * 1, accuracy: 1e-6)
        XCTAssertEqual(rm.array[1], 0.9 * 1.1 + 0.1 * 6, accuracy: 1e-6)
        XCTAssertEqual(rv.array[0], 0.9 * (0.9 + 0.1 * 5 / 3) + 0.1 * 4 / 3, accuracy: 1e-6)
        XCTAssertEqual(rv.array[1], 0.9 * 1.3 + 0.1 * 4 / 3, accuracy: 1e-6)

        // Inference uses the running statistics and leaves them alone.
        let rmBefore = rm.array, rvBefore = rv.array
        ex.value(x).copy(from: [1, 2, 3, 4, 5, 6, 7, 8])
        ex.forward(mode: .inference)
        let w: [Float] = [2, 0.5], b: [Float] = [1, -1]
        let xs: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        for i in 0..<8 {
            let k = (i / 2) % 2
            let e = w[k] * (xs[i] - rmBefore[k]) / (rvBefore[k] + 1e-5).squareRoot() + b[k]
            XCTAssertEqual(ex.value(y).array[i], e, accuracy: 1e-5)
        }
        XCTAssertEqual(rm.array, rmBefore)
        XCTAssertEqual(rv.array, rvBefore)
    }

    func testMomentumSetting() throws {
        let (ex, x, _) = try bnGraph(Shape(4, 1), BatchNorm(momentum: 0.5))
        defer { withExtendedLifetime(ex) {} } // tensors below are views into its arenas
        ex.value(x).copy(from: [1, 2, 3, 6]) // mean 3, unbiased var (4+1+0+9)/3
        ex.forward(mode: .training(seed: 0))
        XCTAssertEqual(ex.parameters.stateTensor("bn.running_mean")!.array[0], 1.5, accuracy: 1e-6)
        XCTAssertEqual(ex.parameters.stateTensor("bn.running_var")!.array[0], 0.5 + 0.5 * 14 / 3, accuracy: 1e-5)
    }

    /// Forward on every supported rank against a plain Double reference, with odd sizes,
    /// planes longer than one 256-block and a large mean offset (precision of the statistics).
    /// Both paths: per channel (≥ 64 positions) and spread (fewer; 130 samples: three blocks;
    /// rows of 67·25 = 1675 floats: two tiles and a lane tail).
    func testForwardAgainstReferenceAllRanks() throws {
        let shapes = [Shape(5, 3), Shape(3, 2, 7), Shape(2, 3, 37, 41), Shape(2, 2, 3, 5, 7), Shape(130, 3, 2), Shape(2, 3, 8, 9),
                      Shape(3, 67, 5, 5)]
        for (si, shape) in shapes.enumerated() {
            let (ex, x, y) = try bnGraph(shape)
            defer { withExtendedLifetime(ex) {} } // tensors below are views into its arenas
            let n = shape.batch, ch = shape.channels, sp = shape.count / (n * ch)
            var rng = SplitMix64(seed: UInt64(10 + si))
            let xv = ex.value(x)
            for i in 0..<xv.count { xv.data[i] = 1000 + 3 * rng.normal() + Float((i / sp) % ch) }
            let gamma = ex.parameters.value("bn.weight")!, beta = ex.parameters.value("bn.bias")!
            for k in 0..<ch { gamma.data[k] = 0.5 + Float(k); beta.data[k] = Float(k) - 1 }
            ex.forward(mode: .training(seed: 3))
            for k in 0..<ch {
                var vals: [Double] = []
                for b in 0..<n { for i in 0..<sp { vals.append(Double(xv.data[(b * ch + k) * sp + i])) } }
                let mean = vals.reduce(0, +) / Double(vals.count)
                let v = vals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(vals.count)
                let inv = 1 / (v + 1e-5).squareRoot()
                for b in 0..<n {
                    for i in 0..<sp {
                        let j = (b * ch + k) * sp + i
                        let e = Double(gamma.data[k]) * (Double(xv.data[j]) - mean) * inv + Double(beta.data[k])
                        // x itself is only known to ulp(1000)/2 ≈ 3e-5; y ≈ γ·x̂ of order 1..8.
                        XCTAssertEqual(Double(ex.value(y).data[j]), e, accuracy: 2e-3, "\(shape) [\(j)]")
                    }
                }
                let rm = Double(ex.parameters.stateTensor("bn.running_mean")!.data[k])
                XCTAssertEqual(rm, 0.1 * mean, accuracy: 1e-4 * abs(mean))
                let rv = Double(ex.parameters.stateTensor("bn.running_var")!.data[k])
                let m = Double(vals.count)
                XCTAssertEqual(rv, 0.9 + 0.1 * (m > 1 ? v * m / (m - 1) : v), accuracy: 1e-3 * (1 + v))
            }
        }
    }

    func testGradientsTraining() throws {
        // Batch statistics make every output depend on every input of its channel.
        // Spread path (< 64 positions; 70 samples: two blocks; rows of 1125: two tiles and a
        // lane tail) and per-channel path (72 positions).
        for s in [Shape(4, 3), Shape(2, 3, 5), Shape(3, 2, 3, 4), Shape(2, 2, 2, 3, 3), Shape(70, 2, 3), Shape(2, 45, 5, 5),
                  Shape(2, 2, 8, 9)] {
            try GradCheck.check(BatchNorm(), inputs: [s], mode: .training(seed: 5))
        }
        try GradCheck.check(BatchNorm(affine: false), inputs: [Shape(3, 2, 5)], mode: .training(seed: 5))
    }

    func testGradientsInference() throws {
        // Non-trivial running statistics so the inference path is really exercised.
        try GradCheck.check(BNWithStats(), inputs: [Shape(2, 3, 4, 5)], mode: .inference)
        try GradCheck.check(BNWithStats(), inputs: [Shape(3, 4)], mode: .inference)
        try GradCheck.check(BNWithStats(), inputs: [Shape(2, 2, 8, 9)], mode: .inference)
    }

    func testParametersAndState() throws {
        let g = Graph()
        let x = g.input("x", Shape(2, 6, 3, 3))
        _ = try g.add("bn", BatchNorm(), x)
        _ = try g.add("bn2", BatchNorm(affine: false), x)
        let ex = try g.plan(outputs: [])
        defer { withExtendedLifetime(ex) {} } // tensors below are views into its arenas
        ex.parameters.initialize(seed: 7)
        XCTAssertEqual(ex.parameters.entries.map(\.name), ["bn.weight", "bn.bias"])
        XCTAssertEqual(ex.parameters.stateEntries.map(\.name), ["bn.running_mean", "bn.running_var", "bn2.running_mean", "bn2.running_var"])
        XCTAssertEqual(ex.parameters.value("bn.weight")!.array, [Float](repeating: 1, count: 6))
        XCTAssertEqual(ex.parameters.value("bn.bias")!.array, [Float](repeating: 0, count: 6))
        XCTAssertEqual(ex.parameters.stateTensor("bn.running_mean")!.array, [Float](repeating: 0, count: 6))
        XCTAssertEqual(ex.parameters.stateTensor("bn.running_var")!.array, [Float](repeating: 1, count: 6))
    }

    func testErrorsNameTheLayer() {
        let g = Graph()
        let v = g.input("v", Shape(8))
        let big = g.input("big", Shape(1, 2, 2, 2, 2, 2))
        let ok = g.input("ok", Shape(2, 3))
        XCTAssertThrowsError(try g.add("bn_rank1", BatchNorm(), v)) { e in
            guard case .shape(let layer, _, let got) = e as? EngineError else { return XCTFail("\(e)") }
            XCTAssertEqual(layer, "bn_rank1"); XCTAssertEqual(got, "8")
        }
        XCTAssertThrowsError(try g.add("bn_rank6", BatchNorm(), big)) { e in
            guard case .shape(let layer, _, _) = e as? EngineError else { return XCTFail("\(e)") }
            XCTAssertEqual(layer, "bn_rank6")
        }
        XCTAssertThrowsError(try g.add("bn_mom", BatchNorm(momentum: 1.5), ok)) { e in
            XCTAssertEqual((e as? EngineError).map { if case .parameter(let l, _) = $0 { return l } else { return "" } }, "bn_mom")
        }
        XCTAssertThrowsError(try g.add("bn_eps", BatchNorm(eps: 0), ok)) { e in
            XCTAssertEqual((e as? EngineError).map { if case .parameter(let l, _) = $0 { return l } else { return "" } }, "bn_eps")
        }
        XCTAssertThrowsError(try g.add("bn_two", BatchNorm(), [ok, ok])) { e in
            guard case .shape(let layer, _, _) = e as? EngineError else { return XCTFail("\(e)") }
            XCTAssertEqual(layer, "bn_two")
        }
    }
}

/// BatchNorm whose running statistics start away from (0, 1), for the inference gradient check.
private struct BNWithStats: Layer {
    let bn: BatchNorm
    init(relu: Bool = false) { bn = BatchNorm(relu: relu) }
    var kind: String { bn.kind }
    func outputShape(_ inputs: [Shape], name: String) throws -> Shape { try bn.outputShape(inputs, name: name) }
    func parameters(_ inputs: [Shape]) -> [TensorSpec] { bn.parameters(inputs) }
    func state(_ inputs: [Shape]) -> [TensorSpec] {
        let c = inputs[0].channels
        return [TensorSpec("running_mean", Shape(c), .uniform(bound: 1)), TensorSpec("running_var", Shape(c), .constant(2.5))]
    }
    func plan(_ inputs: [Shape], output: Shape) -> LayerPlan { bn.plan(inputs, output: output) }
    func forward(_ c: LayerContext, mode: Mode) { bn.forward(c, mode: mode) }
    func backward(_ c: LayerContext, mode: Mode) { bn.backward(c, mode: mode) }
}

/// BatchNorm with a fused ReLU against BatchNorm followed by a separate ReLU layer.
final class BatchNormReLUTests: XCTestCase {
    /// Both graphs on the same input and parameters, training and inference; outputs, input
    /// gradients, parameter gradients and running statistics must agree.
    func testMatchesBatchNormThenReLU() throws {
        for (si, shape) in [Shape(6, 3), Shape(2, 3, 13), Shape(2, 4, 9, 7), Shape(2, 2, 3, 5, 6), Shape(2, 2, 9, 9)].enumerated() {
            for mode in [Mode.training(seed: 3), .inference] {
                func run(_ fused: Bool) throws -> (y: [Float], dx: [Float], grads: [Float], state: [Float]) {
                    let g = Graph()
                    let x = g.input("x", shape)
                    var y = try g.add("bn", BatchNorm(relu: fused), x)
                    if !fused { y = try g.add("relu", Activation.relu, y) }
                    let ex = try g.plan(outputs: [y], inputGradients: true)
                    ex.parameters.initialize(seed: 1)
                    var rng = SplitMix64(seed: UInt64(20 + si))
                    for e in ex.parameters.entries {
                        let t = ex.parameters.value(e.name)!
                        for i in 0..<t.count { t.data[i] += 0.3 * rng.normal() }
                    }
                    let rm = ex.parameters.stateTensor("bn.running_mean")!, rv = ex.parameters.stateTensor("bn.running_var")!
                    for i in 0..<rm.count { rm.data[i] = 0.2 * rng.normal(); rv.data[i] = 0.5 + rng.uniform() }
                    let xv = ex.value(x)
                    for i in 0..<xv.count { xv.data[i] = 2 * rng.normal() + 0.5 }
                    ex.forward(mode: mode)
                    let dy = ex.gradient(y)!
                    for i in 0..<dy.count { dy.data[i] = rng.normal() }
                    ex.backward(mode: mode)
                    return (ex.value(y).array, ex.gradient(x)!.array, ex.parameters.grads.buffer.map { $0 },
                            ex.parameters.state.buffer.map { $0 })
                }
                let a = try run(true), b = try run(false)
                XCTAssertTrue(a.y.contains(0) && a.y.contains { $0 > 0 }, "both sides of the kink exercised")
                ConvCheck.assertClose(a.y, b.y, "\(shape) \(mode) y")
                ConvCheck.assertClose(a.dx, b.dx, "\(shape) \(mode) dx")
                ConvCheck.assertClose(a.grads, b.grads, "\(shape) \(mode) parameter gradients")
                ConvCheck.assertClose(a.state, b.state, "\(shape) \(mode) running statistics")
            }
        }
    }

    func testGradients() throws {
        // GradCheck's kink rule skips elements whose step flips the fused ReLU's sign. In
        // training every input moves every output of its channel, so a smaller step than the
        // default keeps most elements clear of the kinks.
        for s in [Shape(4, 3), Shape(2, 3, 5), Shape(3, 2, 3, 4), Shape(2, 2, 2, 3, 3), Shape(2, 2, 8, 9)] {
            let r = try GradCheck.check(BatchNorm(relu: true), inputs: [s], mode: .training(seed: 5), step: 2e-3)
            XCTAssertGreaterThan(r.checked, 2 * r.skipped, "\(s)")
        }
        try GradCheck.check(BatchNorm(affine: false, relu: true), inputs: [Shape(3, 2, 5)], mode: .training(seed: 5), step: 2e-3)
        try GradCheck.check(BNWithStats(relu: true), inputs: [Shape(2, 3, 4, 5)], mode: .inference)
    }

    func testKindAndParameters() throws {
        XCTAssertEqual(BatchNorm(relu: true).kind, "batchnorm_relu")
        XCTAssertEqual(BatchNorm(relu: true).parameters([Shape(2, 5, 3)]), BatchNorm().parameters([Shape(2, 5, 3)]))
        XCTAssertEqual(BatchNorm(relu: true).state([Shape(2, 5, 3)]), BatchNorm().state([Shape(2, 5, 3)]))
    }
}
