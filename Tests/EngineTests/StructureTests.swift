import TestSupport
import XCTest
@testable import Engine

/// Concat, Add, Flatten, Crop, Pad: values by hand or plain indexing, round trips,
/// gradients with several inputs, shape errors.
final class StructureTests: XCTestCase {
    func testConcatAlongChannels() throws {
        let a = GradCheck.random(Shape(2, 1, 2, 3), seed: 1)
        let b = GradCheck.random(Shape(2, 3, 2, 3), seed: 2)
        let c = GradCheck.random(Shape(2, 2, 2, 3), seed: 3)
        let run = try LayerRun(Concat(), [a, b, c])
        run.forward()
        XCTAssertEqual(run.output.shape, Shape(2, 6, 2, 3))
        let y = run.output.array
        for n in 0..<2 { for ch in 0..<6 { for i in 0..<6 {
            let (src, cc) = ch < 1 ? (a, ch) : ch < 4 ? (b, ch - 1) : (c, ch - 4)
            XCTAssertEqual(y[(n * 6 + ch) * 6 + i], src.array[(n * src.shape[1] + cc) * 6 + i])
        } } }
        // Backward hands each input its own channels of dY.
        let dy = (0..<y.count).map(Float.init)
        run.backward(dy)
        for (k, x) in [a, b, c].enumerated() {
            let first = [0, 1, 4][k], cs = x.shape[1]
            let expected = (0..<x.shape.count).map { j -> Float in
                let n = j / (cs * 6), ch = (j / 6) % cs, i = j % 6
                return dy[(n * 6 + first + ch) * 6 + i]
            }
            XCTAssertEqual(run.inputGradient(k), expected, "input \(k)")
        }
    }

    func testConcatDenseByHand() throws {
        let run = try LayerRun(Concat(), [HostTensor(Shape(2, 2), [1, 2, 3, 4]), HostTensor(Shape(2, 1), [5, 6])])
        run.forward()
        XCTAssertEqual(run.output.shape, Shape(2, 3))
        XCTAssertEqual(run.output.array, [1, 2, 5, 3, 4, 6])
    }

    func testAddAndFlattenValues() throws {
        let xs = (0..<3).map { GradCheck.random(Shape(2, 3, 5), seed: UInt64($0)) }
        let add = try LayerRun(Add(), xs)
        add.forward()
        for i in 0..<30 { XCTAssertEqual(add.output.array[i], xs[0].array[i] + xs[1].array[i] + xs[2].array[i], accuracy: 1e-6) }
        add.backward((0..<30).map(Float.init))
        for k in 0..<3 { XCTAssertEqual(add.inputGradient(k), (0..<30).map(Float.init)) }

        let flat = try LayerRun(Flatten(), [GradCheck.random(Shape(2, 3, 2, 2, 2), seed: 4)])
        flat.forward()
        XCTAssertEqual(flat.output.shape, Shape(2, 24))
        XCTAssertEqual(flat.output.array, flat.inputs[0].array)
    }

    /// Add with a fused ReLU: y = max(Σx, 0) and dxₖ = dy·[y > 0], by hand, for 2 inputs (the
    /// one-pass kernel) and 3, over a lane body and a tail (37 elements).
    func testAddReLUValues() throws {
        for count in [2, 3] {
            let xs = (0..<count).map { GradCheck.random(Shape(1, 37), seed: 20 + UInt64($0)) }
            let run = try LayerRun(Add(relu: true), xs)
            run.forward()
            let sum = (0..<37).map { i in xs.reduce(Float(0)) { $0 + $1.array[i] } }
            XCTAssertEqual(run.output.array, sum.map { max($0, 0) })
            XCTAssertTrue(sum.contains { $0 < 0 } && sum.contains { $0 > 0 })
            let dy = (0..<37).map { Float($0) + 1 }
            run.backward(dy)
            for k in 0..<count { XCTAssertEqual(run.inputGradient(k), (0..<37).map { sum[$0] > 0 ? dy[$0] : 0 }, "input \(k)") }
        }
        XCTAssertEqual(Add(relu: true).kind, "add_relu")
        XCTAssertEqual(Add().kind, "add")
    }

    func testCropByHand() throws {
        // 1×1×4×5 holding 0...19; remove 1 row at the top, 1 column left and 2 right.
        let x = HostTensor(Shape(1, 1, 4, 5), (0..<20).map(Float.init))
        let run = try LayerRun(Crop(begin: [1, 1], end: [0, 2]), [x])
        run.forward()
        XCTAssertEqual(run.output.shape, Shape(1, 1, 3, 2))
        XCTAssertEqual(run.output.array, [6, 7, 11, 12, 16, 17])
        // Centre crop to 2×2: excess 2 rows (1 + 1), 3 columns (1 at the start, 2 at the end).
        let centre = try LayerRun(Crop(centerTo: [2]), [x])
        centre.forward()
        XCTAssertEqual(centre.output.array, [6, 7, 11, 12])
        centre.backward([1, 2, 3, 4])
        var expected = [Float](repeating: 0, count: 20)
        expected[6] = 1; expected[7] = 2; expected[11] = 3; expected[12] = 4
        XCTAssertEqual(centre.inputGradient(0), expected)
    }

    func testPadByHand() throws {
        let x = HostTensor(Shape(1, 1, 3), [1, 2, 3])
        let run = try LayerRun(Pad(begin: [2], end: [1]), [x])
        run.forward()
        XCTAssertEqual(run.output.array, [0, 0, 1, 2, 3, 0])
        run.backward([9, 8, 7, 6, 5, 4])
        XCTAssertEqual(run.inputGradient(0), [7, 6, 5])
    }

    /// Crop(begin, end) ∘ Pad(begin, end) is the identity; so is a centre crop of a symmetric pad.
    func testCropPadRoundTrips() throws {
        for (shape, begin, end) in [(Shape(2, 3, 5), [2], [1]), (Shape(2, 2, 3, 4), [1, 0], [2, 3]),
                                    (Shape(1, 2, 2, 3, 4), [1, 2, 0], [0, 1, 3])] {
            let g = Graph()
            let x = g.input("x", shape)
            let p = try g.add("pad", Pad(begin: begin, end: end), x)
            let c = try g.add("crop", Crop(begin: begin, end: end), p)
            let q = try g.add("pad2", Pad(2), x)
            let cc = try g.add("centre", Crop(centerTo: shape.spatial), q)
            XCTAssertEqual(g.shape(c), shape)
            XCTAssertEqual(g.shape(cc), shape)
            let ex = try g.plan(outputs: [c, cc])
            let r = GradCheck.random(shape, seed: 7)
            ex.value(x).copy(from: r.data)
            ex.forward(mode: .inference)
            XCTAssertEqual(ex.value(c).array, r.array)
            XCTAssertEqual(ex.value(cc).array, r.array)
            // The padding is zero: the pad's sum equals the input's.
            XCTAssertEqual(ex.value(p).array.reduce(0, +), r.array.reduce(0, +), accuracy: 1e-4)
        }
    }

    func testGradients() throws {
        try GradCheck.check(Concat(), inputs: [Shape(2, 1, 3, 5), Shape(2, 2, 3, 5), Shape(2, 3, 3, 5)])
        try GradCheck.check(Concat(), inputs: [Shape(3, 2, 2, 2, 3), Shape(3, 1, 2, 2, 3)])
        try GradCheck.check(Add(), inputs: [Shape(2, 3, 7), Shape(2, 3, 7), Shape(2, 3, 7)])
        try GradCheck.check(Add(relu: true), inputs: [Shape(2, 3, 7), Shape(2, 3, 7)])
        try GradCheck.check(Add(relu: true), inputs: [Shape(2, 3, 7), Shape(2, 3, 7), Shape(2, 3, 7)])
        try GradCheck.check(Flatten(), inputs: [Shape(2, 3, 3, 5)])
        try GradCheck.check(Crop(begin: [1], end: [2]), inputs: [Shape(2, 3, 7)])
        try GradCheck.check(Crop(begin: [0, 1], end: [2, 1]), inputs: [Shape(2, 2, 5, 5)])
        try GradCheck.check(Crop(centerTo: [1, 2, 3]), inputs: [Shape(2, 2, 3, 4, 4)])
        try GradCheck.check(Pad(begin: [2], end: [1]), inputs: [Shape(2, 3, 5)])
        try GradCheck.check(Pad(1), inputs: [Shape(2, 2, 3, 4)])
        try GradCheck.check(Pad(begin: [0, 1, 2], end: [1, 0, 1]), inputs: [Shape(1, 2, 2, 3, 3)])
    }

    /// The same value fed twice (x + x) gets both contributions.
    func testRepeatedInputGetsBothGradients() throws {
        let g = Graph()
        let x = g.input("x", Shape(1, 3))
        let y = try g.add("sum", Add(), x, x)
        let ex = try g.plan(outputs: [y], inputGradients: true)
        ex.value(x).copy(from: [1, 2, 3])
        ex.forward(mode: .inference)
        XCTAssertEqual(ex.value(y).array, [2, 4, 6])
        ex.gradient(y)!.copy(from: [1, 1, 1])
        ex.backward(mode: .inference)
        XCTAssertEqual(ex.gradient(x)!.array, [2, 2, 2])
    }

    func testShapeErrorsNameTheLayer() {
        func fails(_ layer: any Layer, _ shapes: [Shape], mentions: [String], line: UInt = #line) {
            assertEngineError(layer: "skip2", mentions: mentions, line: line) {
                let g = Graph()
                let xs = shapes.enumerated().map { g.input("x\($0.offset)", $0.element) }
                try g.add("skip2", layer, xs)
            }
        }
        fails(Concat(), [Shape(2, 3, 8, 8), Shape(2, 4, 8, 7)], mentions: ["2×3×8×8", "2×4×8×7"])
        fails(Concat(), [Shape(2, 3, 8, 8), Shape(1, 3, 8, 8)], mentions: ["2×3×8×8", "1×3×8×8"])
        fails(Concat(), [Shape(2, 3, 8), Shape(2, 3, 8, 1)], mentions: ["2×3×8", "2×3×8×1"])
        fails(Concat(), [Shape(6), Shape(6)], mentions: ["6"])
        fails(Concat(), [], mentions: ["none"])
        fails(Add(), [Shape(2, 3, 8), Shape(2, 3, 8), Shape(2, 3, 9)], mentions: ["2×3×8", "2×3×9"])
        fails(Flatten(), [Shape(7)], mentions: ["7"])
        fails(Crop(begin: [2], end: [2]), [Shape(1, 2, 4, 9)], mentions: ["1×2×4×9"])
        fails(Crop(begin: [1, 1, 1], end: [0]), [Shape(1, 2, 4, 9)], mentions: ["crop begin", "1×2×4×9"])
        fails(Crop(centerTo: [5, 5]), [Shape(1, 2, 4, 9)], mentions: ["1×2×4×9"])
        fails(Crop(centerTo: [0]), [Shape(1, 2, 4, 9)], mentions: ["crop size"])
        fails(Pad(begin: [-1], end: [0]), [Shape(1, 2, 4)], mentions: ["pad begin"])
        fails(Pad(1), [Shape(4, 8)], mentions: ["4×8"])
    }
}
