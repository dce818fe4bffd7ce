import TestSupport
import XCTest
@testable import Engine

final class ActivationTests: XCTestCase {
    func testForwardValuesByHand() throws {
        let g = Graph()
        let x = g.input("x", Shape(1, 4))
        let r = try g.add("relu", Activation.relu, x)
        let l = try g.add("leaky", Activation.leakyReLU(0.1), x)
        let s = try g.add("sig", Activation.sigmoid, x)
        let ex = try g.plan(outputs: [r, l, s])
        ex.value(x).copy(from: [-2, -0.5, 0.5, 3])
        ex.forward(mode: .inference)
        XCTAssertEqual(ex.value(r).array, [0, 0, 0.5, 3])
        XCTAssertEqual(ex.value(l).array, [-0.2, -0.05, 0.5, 3])
        XCTAssertEqual(ex.value(s).array[2], 1 / (1 + expf(-0.5)), accuracy: 1e-6)
    }

    func testGradients() throws {
        for f in [Activation.relu, .leakyReLU(0.2), .sigmoid, .tanh] {
            try GradCheck.check(f, inputs: [Shape(2, 3, 5)], values: awayFromZero(0.05))
        }
    }
}
