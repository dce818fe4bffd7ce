import TestSupport
import XCTest
@testable import Engine

final class DropoutTests: XCTestCase {
    private func graph(_ shape: Shape, rate: Float) throws -> (Executor, Value, Value) {
        let g = Graph()
        let x = g.input("x", shape)
        let y = try g.add("drop", Dropout(rate), x)
        return (try g.plan(outputs: [y], inputGradients: true), x, y)
    }

    func testMaskFromCounterRandomAndScale() throws {
        let rate: Float = 0.3
        let (ex, x, y) = try graph(Shape(3, 4, 5, 7), rate: rate)
        defer { withExtendedLifetime(ex) {} } // tensors below are views into its arenas
        let xt = ex.value(x)
        var rng = SplitMix64(seed: 4)
        for i in 0..<xt.count { xt.data[i] = rng.normal() }
        let mode = Mode.training(seed: 77)
        ex.forward(mode: mode)
        // The executor hands layer 0 its own key derived from the pass seed.
        guard case .training(let key) = Executor.layerMode(mode, 0) else { return XCTFail() }
        let scale = 1 / (1 - rate)
        for i in 0..<xt.count {
            let kept = CounterRandom.uniform(key: key, index: i) >= rate
            XCTAssertEqual(ex.value(y).data[i], kept ? xt.data[i] * scale : 0, "element \(i)")
        }
        // Backward: dy/(1 − rate) where kept, 0 where dropped, whatever mode backward is given
        // (it follows the forward pass).
        let dy = ex.gradient(y)!
        for i in 0..<dy.count { dy.data[i] = Float(i % 7) - 3 }
        for backMode in [mode, Mode.training(seed: 78), .inference] {
            ex.backward(mode: backMode)
            let dx = ex.gradient(x)!
            for i in 0..<dx.count {
                let kept = CounterRandom.uniform(key: key, index: i) >= rate
                XCTAssertEqual(dx.data[i], kept ? dy.data[i] * scale : 0, "element \(i), backward \(backMode)")
            }
        }
    }

    func testSameSeedSameMaskOtherSeedOtherMask() throws {
        let (ex, x, y) = try graph(Shape(2, 3, 11), rate: 0.5)
        defer { withExtendedLifetime(ex) {} } // tensors below are views into its arenas
        ex.value(x).fill(1)
        ex.forward(mode: .training(seed: 9))
        let a = ex.value(y).array
        ex.forward(mode: .training(seed: 9))
        XCTAssertEqual(ex.value(y).array, a)
        ex.forward(mode: .training(seed: 10))
        XCTAssertNotEqual(ex.value(y).array, a)
        // A fresh graph with the same seed reproduces the mask (no hidden state).
        let (ex2, x2, y2) = try graph(Shape(2, 3, 11), rate: 0.5)
        defer { withExtendedLifetime(ex2) {} } // tensors below are views into its arenas
        ex2.value(x2).fill(1)
        ex2.forward(mode: .training(seed: 9))
        XCTAssertEqual(ex2.value(y2).array, a)
    }

    func testDropFractionMatchesRate() throws {
        let n = 100_000
        for rate: Float in [0.1, 0.5] {
            let (ex, x, y) = try graph(Shape(10, n / 10), rate: rate)
            defer { withExtendedLifetime(ex) {} } // tensors below are views into its arenas
            ex.value(x).fill(1)
            ex.forward(mode: .training(seed: 123))
            let dropped = ex.value(y).array.filter { $0 == 0 }.count
            let p = Double(rate)
            // Binomial(n, p): 5 standard deviations (≈ 0.005 for p = 0.5); deterministic per seed.
            let bound = 5 * (p * (1 - p) / Double(n)).squareRoot()
            XCTAssertEqual(Double(dropped) / Double(n), p, accuracy: bound, "rate \(rate)")
        }
    }

    func testInferenceAndRateZeroAreIdentity() throws {
        for (rate, mode) in [(Float(0.4), Mode.inference), (Float(0), Mode.training(seed: 5))] {
            let (ex, x, y) = try graph(Shape(2, 3, 4), rate: rate)
            defer { withExtendedLifetime(ex) {} } // tensors below are views into its arenas
            let xt = ex.value(x)
            for i in 0..<xt.count { xt.data[i] = Float(i) - 5.5 }
            ex.forward(mode: mode)
            XCTAssertEqual(ex.value(y).array, xt.array)
            let dy = ex.gradient(y)!
            for i in 0..<dy.count { dy.data[i] = Float(i) * 0.5 }
            ex.backward(mode: mode)
            XCTAssertEqual(ex.gradient(x)!.array, dy.array)
        }
    }

    func testGradients() throws {
        try GradCheck.check(Dropout(0.4), inputs: [Shape(2, 3, 5, 3)], mode: .training(seed: 11))
        try GradCheck.check(Dropout(0.4), inputs: [Shape(3, 7)], mode: .inference)
    }

    func testRateValidated() {
        let g = Graph()
        let x = g.input("x", Shape(2, 3))
        for r: Float in [1, -0.1, .nan] {
            XCTAssertThrowsError(try g.add("drop_bad", Dropout(r), x)) { e in
                guard case .parameter(let layer, _) = e as? EngineError else { return XCTFail("\(e)") }
                XCTAssertEqual(layer, "drop_bad")
            }
        }
    }
}
