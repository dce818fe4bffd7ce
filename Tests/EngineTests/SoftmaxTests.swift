import TestSupport
import XCTest
@testable import Engine

final class SoftmaxTests: XCTestCase {
    private func run(_ shape: Shape, _ fill: (Tensor) -> Void) throws -> (Tensor, Tensor, Executor) {
        let g = Graph()
        let x = g.input("x", shape)
        let y = try g.add("sm", Softmax(), x)
        let ex = try g.plan(outputs: [y])
        fill(ex.value(x))
        ex.forward(mode: .inference)
        return (ex.value(x), ex.value(y), ex)
    }

    func testByHand() throws {
        let (_, y, ex) = try run(Shape(1, 3)) { $0.copy(from: [1, 2, 3]) }
        defer { withExtendedLifetime(ex) {} }
        // e^1 + e^2 + e^3 = 30.192874850...
        XCTAssertEqual(y.array[0], 0.090030573, accuracy: 1e-7)
        XCTAssertEqual(y.array[1], 0.244728471, accuracy: 1e-7)
        XCTAssertEqual(y.array[2], 0.665240956, accuracy: 1e-7)
    }

    func testAgainstReferenceOverChannels() throws {
        for shape in [Shape(3, 5), Shape(2, 4, 7), Shape(2, 3, 5, 3), Shape(1, 3, 2, 3, 5)] {
            let (x, y, ex) = try run(shape) { t in
                var rng = SplitMix64(seed: 3)
                for i in 0..<t.count { t.data[i] = 3 * rng.normal() }
            }
            defer { withExtendedLifetime(ex) {} } // x and y are views into its arena
            let n = shape.batch, ch = shape.channels, sp = shape.count / (n * ch)
            for b in 0..<n {
                for i in 0..<sp {
                    let z = (0..<ch).map { Double(x.data[(b * ch + $0) * sp + i]) }
                    let den = z.map { exp($0) }.reduce(0, +)
                    for k in 0..<ch {
                        XCTAssertEqual(Double(y.data[(b * ch + k) * sp + i]), exp(z[k]) / den, accuracy: 1e-6, "\(shape)")
                    }
                }
            }
        }
    }

    func testLargeLogitsStayFinite() throws {
        // exp(1000) overflows Float; the max shift makes this [e^-2, e^-1, 1]/(sum) and [1, 0].
        let (_, y, ex) = try run(Shape(2, 3)) { $0.copy(from: [998, 999, 1000, 1000, -1000, -1e30]) }
        defer { withExtendedLifetime(ex) {} }
        let d = exp(-2.0) + exp(-1.0) + 1
        XCTAssertEqual(Double(y.array[0]), exp(-2.0) / d, accuracy: 1e-6)
        XCTAssertEqual(Double(y.array[2]), 1 / d, accuracy: 1e-6)
        XCTAssertEqual(y.array[3], 1)
        XCTAssertEqual(y.array[4], 0)
        XCTAssertEqual(y.array[5], 0)
    }

    func testGradients() throws {
        try GradCheck.check(Softmax(), inputs: [Shape(3, 5)])
        try GradCheck.check(Softmax(), inputs: [Shape(2, 4, 3, 5)])
        try GradCheck.check(Softmax(), inputs: [Shape(2, 3, 7)], mode: .inference)
    }

    func testErrorNamesLayer() {
        let g = Graph()
        let v = g.input("v", Shape(5))
        XCTAssertThrowsError(try g.add("probs", Softmax(), v)) { e in
            guard case .shape(let layer, _, let got) = e as? EngineError else { return XCTFail("\(e)") }
            XCTAssertEqual(layer, "probs"); XCTAssertEqual(got, "5")
        }
    }
}
