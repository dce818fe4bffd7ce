import XCTest
@testable import Engine

/// Caffe-style gradient checker: central differences on a one-layer graph.
///
/// The loss is a fixed random projection of the layer's output, L = Σ r·y, so dL/dy = r.
/// Each checked input and parameter element x gets (L(x+h) − L(x−h)) / 2h, compared with the
/// analytic gradient: |a − n| ≤ tolerance · max(1, |a|, |n|) (Caffe's rule). Inputs are drawn
/// from `values` so tests can keep away from kinks (ReLU at 0, ties in max pooling).
enum GradCheck {
    struct Result { var checked = 0; var maxError: Float = 0 }

    @discardableResult
    static func check(_ layer: any Layer, inputs shapes: [Shape], mode: Mode = .training(seed: 42),
                      seed: UInt64 = 1, step: Float = 1e-2, tolerance: Float = 1e-2,
                      maxPerTensor: Int = 400, checkInputs: [Bool]? = nil,
                      values: ((inout SplitMix64) -> Float)? = nil,
                      file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        try checkGraph(what: layer.kind, mode: mode, seed: seed, step: step, tolerance: tolerance,
                       maxPerTensor: maxPerTensor, checkInputs: checkInputs, values: values,
                       file: file, line: line) { g in
            let xs = shapes.enumerated().map { g.input("x\($0.offset)", $0.element) }
            return (xs, try g.add("op", layer, xs))
        }
    }

    /// The same check over a whole graph built by `build` (inputs, output): exercises the
    /// executor's gradient flow through skips, concatenations and shared values.
    @discardableResult
    static func checkGraph(what: String, mode: Mode = .training(seed: 42),
                           seed: UInt64 = 1, step: Float = 1e-2, tolerance: Float = 1e-2,
                           maxPerTensor: Int = 400, checkInputs: [Bool]? = nil,
                           values: ((inout SplitMix64) -> Float)? = nil,
                           file: StaticString = #filePath, line: UInt = #line,
                           build: (Graph) throws -> (inputs: [Value], output: Value)) throws -> Result {
        let g = Graph()
        let (xs, y) = try build(g)
        let ex = try g.plan(outputs: [y], inputGradients: true)
        ex.parameters.initialize(seed: seed)
        var rng = SplitMix64(seed: seed &+ 99)
        // Parameters: keep the initializer's values but make biases etc. non-trivial.
        for e in ex.parameters.entries {
            let t = ex.parameters.value(e.name)!
            for i in 0..<t.count { t.data[i] += 0.1 * rng.normal() }
        }
        for x in xs {
            let t = ex.value(x)
            for i in 0..<t.count { t.data[i] = values.map { $0(&rng) } ?? rng.normal() }
        }
        let out = ex.value(y)
        let r = HostTensor(out.shape)
        for i in 0..<r.shape.count { r.data[i] = rng.normal() }

        func loss() -> Double {
            ex.forward(mode: mode)
            var s = 0.0
            for i in 0..<out.count { s += Double(out.data[i]) * Double(r.data[i]) }
            return s
        }
        _ = loss()
        ex.gradient(y)!.copy(from: r.data)
        ex.parameters.zeroGrads()
        ex.backward(mode: mode)

        var result = Result()
        let kind = what
        func compare(_ what: String, value: Tensor, grad: Tensor) {
            let analytic = grad.array // snapshot: later forwards do not touch gradients, but be safe
            let n = value.count
            let stride = max(1, n / maxPerTensor)
            var i = 0
            while i < n {
                let saved = value.data[i]
                value.data[i] = saved + step
                let lp = loss()
                value.data[i] = saved - step
                let lm = loss()
                value.data[i] = saved
                let numeric = Float((lp - lm) / Double(2 * step))
                let a = analytic[i]
                let err = abs(a - numeric)
                let scale = max(1, abs(a), abs(numeric))
                result.checked += 1
                result.maxError = max(result.maxError, err / scale)
                if err > tolerance * scale {
                    XCTFail("\(kind) d\(what)[\(i)]: analytic \(a) vs numeric \(numeric)", file: file, line: line)
                    return
                }
                i += stride
            }
        }
        for (k, x) in xs.enumerated() where checkInputs?[k] ?? true {
            compare("x\(k)", value: ex.value(x), grad: ex.gradient(x)!)
        }
        for e in ex.parameters.entries {
            compare(e.name, value: ex.parameters.value(e.name)!, grad: ex.parameters.grad(e.name)!)
        }
        XCTAssertGreaterThan(result.checked, 0, "gradient check of \(kind) checked nothing", file: file, line: line)
        return result
    }

    /// Fills a fresh host tensor with standard normal values.
    static func random(_ shape: Shape, seed: UInt64) -> HostTensor {
        let t = HostTensor(shape)
        var rng = SplitMix64(seed: seed)
        for i in 0..<shape.count { t.data[i] = rng.normal() }
        return t
    }
}

/// Values at least `margin` away from zero (keeps ReLU-like kinks out of finite differences).
func awayFromZero(_ margin: Float) -> (inout SplitMix64) -> Float {
    { rng in
        let v = rng.normal()
        return v >= 0 ? v + margin : v - margin
    }
}
