import TestSupport
import XCTest
@testable import Engine

/// Whole networks on the engine: gradients through skips and shared values, and a small
/// classifier that must actually learn.
final class NetworkTests: XCTestCase {
    /// A U-Net-like block: `b` feeds a pool branch, a concatenation and a residual add, so its
    /// gradient is the sum of three paths; every parameter is checked by central differences.
    func testGradientsThroughSkipConcatAndResidual() throws {
        try GradCheck.checkGraph(what: "unet-block", step: 1e-3) { g in
            let x = g.input("x", Shape(2, 3, 8, 8))
            let a = try g.add("conv1", Conv(outChannels: 4, kernel: 3, padding: 1), x)
            let n = try g.add("bn1", BatchNorm(), a)
            let b = try g.add("act1", Activation.tanh, n)
            let p = try g.add("pool", AvgPool(kernel: 2), b)
            let c = try g.add("conv2", Conv(outChannels: 4, kernel: 3, padding: 1), p)
            let u = try g.add("up", Upsample(scale: 2, .linear), c)
            let cat = try g.add("cat", Concat(), u, b)
            let d = try g.add("conv3", Conv(outChannels: 4, kernel: 1), cat)
            let out = try g.add("res", Add(), d, b)
            return ([x], out)
        }
    }

    /// Horizontal vs vertical stripes, 2 classes: conv → BN → ReLU → max pool → conv →
    /// global average → dense, trained with Adam. A wrong backward anywhere leaves the loss high.
    func testSmallConvNetLearnsStripes() throws {
        let n = 16
        let g = Graph()
        let x = g.input("x", Shape(n, 1, 8, 8))
        var h = try g.add("conv1", Conv(outChannels: 8, kernel: 3, padding: 1), x)
        h = try g.add("bn1", BatchNorm(), h)
        h = try g.add("relu1", Activation.relu, h)
        h = try g.add("pool1", MaxPool(kernel: 2), h)
        h = try g.add("conv2", Conv(outChannels: 8, kernel: 3, padding: 1), h)
        h = try g.add("relu2", Activation.relu, h)
        h = try g.add("gap", GlobalAvgPool(), h)
        let logits = try g.add("fc", Dense(2), h)
        let ex = try g.plan(outputs: [logits])
        ex.parameters.initialize(seed: 3)
        let opt = try Adam(for: ex.parameters)
        let labels = HostLabelTensor(Shape(n))
        var rng = SplitMix64(seed: 11)
        func batch() {
            let xs = ex.value(x)
            for s in 0..<n {
                let cls = Int32(s % 2)
                labels.data[s] = cls
                let phase = Int(rng.next() % 2)
                for i in 0..<8 { for j in 0..<8 {
                    let on = (cls == 0 ? i : j) % 2 == phase
                    xs.data[s * 64 + i * 8 + j] = (on ? 1 : -1) + 0.3 * rng.normal()
                } }
            }
        }
        let loss = SoftmaxCrossEntropy()
        var first: Float = 0, last: Float = 0
        for step in 0..<80 {
            batch()
            ex.forward(mode: .training(seed: UInt64(step)))
            let l = try loss.compute(logits: ex.value(logits), target: .hard(labels.labels), gradient: ex.gradient(logits)!)
            if step == 0 { first = l }
            last = l
            ex.parameters.zeroGrads()
            ex.backward(mode: .training(seed: UInt64(step)))
            try opt.update(ex.parameters, learningRate: 0.01)
        }
        XCTAssertGreaterThan(first, 0.5)
        XCTAssertLessThan(last, 0.1, "loss went from \(first) to \(last)")
        // Inference with running statistics classifies a fresh batch correctly.
        batch()
        ex.forward(mode: .inference)
        let out = ex.value(logits)
        var correct = 0
        for s in 0..<n where (out.data[2 * s + 1] > out.data[2 * s]) == (labels.data[s] == 1) { correct += 1 }
        XCTAssertEqual(correct, n)
    }
}
