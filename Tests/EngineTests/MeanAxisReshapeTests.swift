import TestSupport
import XCTest
@testable import Engine

/// MeanAxis and Reshape: values by hand, gradients, shape errors.
final class MeanAxisReshapeTests: XCTestCase {
    func testMeanOverTimeByHand() throws {
        let g = Graph()
        let x = g.input("x", Shape(1, 1, 2, 1, 3))   // N C T H W
        let y = try g.add("mean", MeanAxis(axis: 2), x)
        XCTAssertEqual(g.shape(y), Shape(1, 1, 1, 3))
        let ex = try g.plan(outputs: [y])
        ex.value(x).copy(from: [1, 2, 3, 5, 6, 7])
        ex.forward(mode: .inference)
        XCTAssertEqual(ex.value(y).array, [3, 4, 5])
    }

    func testGradients() throws {
        try GradCheck.check(MeanAxis(axis: 2), inputs: [Shape(2, 3, 4, 5, 3)])
        try GradCheck.check(MeanAxis(axis: 1), inputs: [Shape(2, 3, 5)])
        try GradCheck.check(Reshape([15]), inputs: [Shape(2, 3, 5)])
        try GradCheck.check(Reshape([3, 5]), inputs: [Shape(2, 3, 1, 5)])
    }

    func testShapeErrorsNameTheLayer() {
        let g = Graph()
        let x = g.input("x", Shape(2, 3, 5))
        XCTAssertThrowsError(try g.add("m", MeanAxis(axis: 3), x)) { XCTAssertTrue("\($0)".contains("'m'")) }
        XCTAssertThrowsError(try g.add("m0", MeanAxis(axis: 0), x)) { XCTAssertTrue("\($0)".contains("'m0'")) }
        XCTAssertThrowsError(try g.add("r", Reshape([4, 4]), x)) { XCTAssertTrue("\($0)".contains("'r'") && "\($0)".contains("2×3×5")) }
    }
}
