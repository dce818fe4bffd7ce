import TestSupport
import XCTest
@testable import Engine

final class DenseTests: XCTestCase {
    func testForwardAgainstNaiveMatmul() throws {
        let (n, f, o) = (3, 7, 5)
        let g = Graph()
        let x = g.input("x", Shape(n, f))
        let y = try g.add("fc", Dense(o), x)
        let ex = try g.plan(outputs: [y])
        defer { withExtendedLifetime(ex) {} } // tensors below are views into its arenas
        ex.parameters.initialize(seed: 2)
        let w = ex.parameters.value("fc.weight")!, b = ex.parameters.value("fc.bias")!
        XCTAssertEqual(w.shape, Shape(o, f))
        XCTAssertEqual(b.shape, Shape(o))
        for j in 0..<o { b.data[j] = Float(j) * 0.25 - 0.5 }
        var rng = SplitMix64(seed: 8)
        let xt = ex.value(x)
        for i in 0..<xt.count { xt.data[i] = rng.normal() }
        ex.forward(mode: .inference)
        for r in 0..<n {
            for j in 0..<o {
                var s = Double(b.data[j])
                for k in 0..<f { s += Double(xt.data[r * f + k]) * Double(w.data[j * f + k]) }
                XCTAssertEqual(Double(ex.value(y).data[r * o + j]), s, accuracy: 1e-5)
            }
        }
    }

    func testInitialisation() throws {
        let g = Graph()
        let x = g.input("x", Shape(2, 48))
        _ = try g.add("he", Dense(16), x)
        _ = try g.add("gl", Dense(16, bias: false, weightInit: .glorot), x)
        let ex = try g.plan(outputs: [])
        defer { withExtendedLifetime(ex) {} } // tensors below are views into its arenas
        ex.parameters.initialize(seed: 3)
        XCTAssertEqual(ex.parameters.entries.map(\.name), ["he.weight", "he.bias", "gl.weight"])
        let he = ex.parameters.value("he.weight")!.array, gl = ex.parameters.value("gl.weight")!.array
        let heBound = (6 / Float(48)).squareRoot(), glBound = (6 / Float(48 + 16)).squareRoot()
        XCTAssertLessThanOrEqual(he.map(abs).max()!, heBound)
        XCTAssertGreaterThan(he.map(abs).max()!, 0.9 * heBound) // 768 uniform draws reach the edge
        XCTAssertLessThanOrEqual(gl.map(abs).max()!, glBound)
        XCTAssertGreaterThan(gl.map(abs).max()!, 0.9 * glBound)
        XCTAssertEqual(ex.parameters.value("he.bias")!.array, [Float](repeating: 0, count: 16))
    }

    func testGradients() throws {
        try GradCheck.check(Dense(5), inputs: [Shape(3, 7)])
        try GradCheck.check(Dense(1, bias: false), inputs: [Shape(4, 9)])
        try GradCheck.check(Dense(6, weightInit: .glorot), inputs: [Shape(1, 2)])
    }

    func testRejectsNonMatrixInputNamingLayer() {
        let g = Graph()
        let img = g.input("img", Shape(2, 3, 4, 4))
        let ok = g.input("ok", Shape(2, 3))
        XCTAssertThrowsError(try g.add("head", Dense(10), img)) { e in
            guard case .shape(let layer, _, let got) = e as? EngineError else { return XCTFail("\(e)") }
            XCTAssertEqual(layer, "head")
            XCTAssertTrue(got.contains("2×3×4×4"), got)
        }
        XCTAssertThrowsError(try g.add("zero", Dense(0), ok)) { e in
            guard case .parameter(let layer, _) = e as? EngineError else { return XCTFail("\(e)") }
            XCTAssertEqual(layer, "zero")
        }
    }
}
