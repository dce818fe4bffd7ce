import XCTest
@testable import Experiment

/// ClassTally on hand-made logits and references (values worked out in the comments).
final class EvalSoftTests: XCTestCase {
    // One row, K = 3, four pixels; logits and proportions are channel-major (c·4 + p).
    // pixel:              0     1     2 (masked)  3
    let logits: [Float] = [0.1, 3.0, 0.0, 0.0,   // class 0
                           2.0, 1.0, 0.0, 0.0,   // class 1
                           0.5, 1.0, 9.0, 5.0]   // class 2   → predicted 1, 0, -, 2
    let mask: [Float] = [1, 1, 0, 1]

    func testSoftAgreementOfProportions() {
        let soft: [Float] = [0.25, 0.125, 0, 0.25,
                             0.5, 0.125, 0, 0.25,
                             0.25, 0.75, 1, 0]
        var t = ClassTally(classes: 3)
        t.add(logits: logits, rows: 1, spatial: 4, mask: mask, hard: nil, soft: soft)
        // t_{p,pred}: 0.5 + 0.125 + 0 (pixel 3 predicts 2, which holds 0); mass 1 + 1 + 0.5.
        XCTAssertEqual(t.agreed, 0.625)
        XCTAssertEqual(t.mass, 2.5)
        XCTAssertEqual(t.softAccuracy, 0.25)
        // Majority references 1, 2 and 0 (pixel 3's tie goes to the lower class).
        XCTAssertEqual(t.confusion, [0, 0, 1,
                                     0, 1, 0,
                                     1, 0, 0])
        XCTAssertEqual(t.metrics.overallAccuracy, 1.0 / 3.0)
        XCTAssertEqual(t.outside, 0)
    }

    func testUnlabelledPixelsAddNothing() {
        // Pixel 0 has no proportions at all: neither a reference class nor any mass.
        let soft: [Float] = [0, 0.125, 0, 0.25,
                             0, 0.125, 0, 0.25,
                             0, 0.75, 1, 0]
        var t = ClassTally(classes: 3)
        t.add(logits: logits, rows: 1, spatial: 4, mask: mask, hard: nil, soft: soft)
        XCTAssertEqual(t.agreed, 0.125)
        XCTAssertEqual(t.mass, 1.5)
        XCTAssertEqual(t.confusion.reduce(0, +), 2)
    }

    func testHardLabelsHaveNoSoftFigure() {
        // References 1, 2, (masked), 5: the last is outside 0..<3 and left out of the matrix.
        let hard: [Int32] = [1, 2, 0, 5]
        var t = ClassTally(classes: 3)
        t.add(logits: logits, rows: 1, spatial: 4, mask: mask, hard: hard, soft: nil)
        XCTAssertEqual(t.confusion, [0, 0, 0,
                                     0, 1, 0,
                                     1, 0, 0])
        XCTAssertEqual(t.outside, 1)
        XCTAssertNil(t.softAccuracy)
        XCTAssertEqual(t.metrics.pixels, 2)
    }

    func testSecondRowIsIndexedByRow() {
        // Two rows of one pixel each: row 1's logits and proportions follow row 0's K values.
        let out: [Float] = [1, 0, 0,  0, 0, 1]
        let soft: [Float] = [0.5, 0.5, 0,  0, 0.25, 0.75]
        var t = ClassTally(classes: 3)
        t.add(logits: out, rows: 2, spatial: 1, mask: [1, 1], hard: nil, soft: soft)
        XCTAssertEqual(t.agreed, 1.25)
        XCTAssertEqual(t.mass, 2)
        XCTAssertEqual(t.confusion, [1, 0, 0, 0, 0, 0, 0, 0, 1])
    }
}
