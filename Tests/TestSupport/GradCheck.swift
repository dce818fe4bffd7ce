import Engine
import XCTest

/// Caffe-style gradient checker: central differences on a one-layer graph.
///
/// The loss is a fixed random projection of the layer's output, L = Σ r·y, so dL/dy = r.
/// Each checked input and parameter element x gets (L(x+h) − L(x−h)) / 2h, compared with the
/// analytic gradient: |a − n| ≤ tolerance · max(1, |a|, |n|) (Caffe's rule). Inputs are drawn
/// from `values` so tests can keep away from kinks (ReLU at 0, ties in max pooling).
public enum GradCheck {
    public struct Result {
        public var checked = 0
        /// Elements whose ±step crossed a kink (not compared).
        public var skipped = 0
        public var maxError: Float = 0
    }

    @discardableResult
    public static func check(_ layer: any Layer, inputs shapes: [Shape], mode: Mode = .training(seed: 42),
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
    public static func checkGraph(what: String, mode: Mode = .training(seed: 42),
                                  seed: UInt64 = 1, step: Float = 1e-2, tolerance: Float = 1e-2,
                                  maxPerTensor: Int = 400, checkInputs: [Bool]? = nil,
                                  values: ((inout SplitMix64) -> Float)? = nil,
                                  file: StaticString = #filePath, line: UInt = #line,
                                  build: (Graph) throws -> (inputs: [Value], output: Value)) throws -> Result {
        let g = Graph()
        let (xs, y) = try build(g)
        return try checkGraph(g, inputs: xs, output: y, what: what, mode: mode, seed: seed, step: step,
                              tolerance: tolerance, maxPerTensor: maxPerTensor, checkInputs: checkInputs,
                              values: values, file: file, line: line)
    }

    /// The check over an already built graph (a model from the zoo).
    @discardableResult
    public static func checkGraph(_ g: Graph, inputs xs: [Value], output y: Value, what: String,
                                  mode: Mode = .training(seed: 42),
                                  seed: UInt64 = 1, step: Float = 1e-2, tolerance: Float = 1e-2,
                                  maxPerTensor: Int = 400, checkInputs: [Bool]? = nil,
                                  values: ((inout SplitMix64) -> Float)? = nil, excludeKinks: Bool = true,
                                  file: StaticString = #filePath, line: UInt = #line) throws -> Result {
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
        let basePattern = kinkPattern(g, ex)
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
                let crossedUp = excludeKinks && kinkPattern(g, ex) != basePattern
                value.data[i] = saved - step
                let lm = loss()
                let crossedDown = excludeKinks && kinkPattern(g, ex) != basePattern
                value.data[i] = saved
                if crossedUp || crossedDown {
                    // A ReLU input changed sign or a max-pool argmax moved within ±step: the
                    // difference quotient spans a kink and says nothing (Caffe's kink rule).
                    result.skipped += 1
                    i += stride
                    continue
                }
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
        XCTAssertLessThan(result.skipped, result.checked, "gradient check of \(kind) skipped most elements at kinks: use a smaller step", file: file, line: line)
        return result
    }

    /// The discrete state of a forward pass: the sign of every ReLU/LeakyReLU input (fused ones
    /// included) and every max-pool argmax. Finite differences are only valid where it does not change.
    static func kinkPattern(_ g: Graph, _ ex: Executor) -> [Int32] {
        var p: [Int32] = []
        for n in g.nodes {
            let x = ex.value(n.inputs[0])
            if let a = n.layer as? Activation, a.function == .relu || a.kind == "leaky_relu" {
                for i in 0..<x.count { p.append(x.data[i] > 0 ? 1 : 0) }
            } else if n.layer.kind == "batchnorm_relu" || n.layer.kind == "add_relu" {
                // The fused ReLU's input is positive exactly where its output is.
                let y = ex.value(n.output)
                for i in 0..<y.count { p.append(y.data[i] > 0 ? 1 : 0) }
            } else if let m = n.layer as? MaxPool {
                let geo = PoolGeometry(input: x.shape, kernel: m.kernel, stride: m.stride, padding: m.padding)
                let count = geo.planes * geo.output.count
                let idx = UnsafeMutablePointer<Int32>.allocate(capacity: count)
                defer { idx.deallocate() }
                geo.argmax(x.data, indices: idx, values: nil)
                p.append(contentsOf: UnsafeBufferPointer(start: idx, count: count))
            }
        }
        return p
    }

    /// Fills a fresh host tensor with standard normal values.
    public static func random(_ shape: Shape, seed: UInt64) -> HostTensor {
        let t = HostTensor(shape)
        var rng = SplitMix64(seed: seed)
        for i in 0..<shape.count { t.data[i] = rng.normal() }
        return t
    }
}

/// Values at least `margin` away from zero (keeps ReLU-like kinks out of finite differences).
public func awayFromZero(_ margin: Float) -> (inout SplitMix64) -> Float {
    { rng in
        let v = rng.normal()
        return v >= 0 ? v + margin : v - margin
    }
}
