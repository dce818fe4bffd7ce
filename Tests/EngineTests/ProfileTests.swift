import Foundation
import TestSupport
import XCTest
@testable import Engine

/// The executor's optional per-layer profile.
final class ProfileTests: XCTestCase {
    private func graph() throws -> (Graph, Value, Value) {
        let g = Graph()
        let x = g.input("x", Shape(2, 3, 8, 8))
        var h = try g.add("conv", Conv(outChannels: 4, kernel: 3, padding: 1), x)
        h = try g.add("bn", BatchNorm(relu: true), h)
        h = try g.add("pool", MaxPool(kernel: 2), h)
        let y = try g.add("conv2", Conv(outChannels: 5, kernel: 1), h)
        return (g, x, y)
    }

    func testEntriesFlopsAndReport() throws {
        let (g, x, y) = try graph()
        let ex = try g.plan(outputs: [y])
        ex.parameters.initialize(seed: 1)
        let p = ExecutorProfile()
        ex.profile = p
        XCTAssertEqual(p.entries.map(\.name), ["conv", "bn", "pool", "conv2"])
        XCTAssertEqual(p.entries.map(\.kind), ["conv2d", "batchnorm_relu", "maxpool", "conv2d"])
        // The planned algorithms (3 channels at 8×8: too much padding per tap row for tap rows).
        XCTAssertEqual(p.entries.map(\.algorithm), ["patches", nil, nil, "implicit-gemm"])
        // conv: 2·N·O·(C·9)·P = 2·2·4·27·64; the first layer computes no input gradient.
        XCTAssertEqual(p.entries[0].flops.forward, 2 * 2 * 4 * 27 * 64)
        XCTAssertFalse(p.entries[0].inputGradients)
        XCTAssertEqual(p.entries[0].backwardFlops, p.entries[0].flops.forward)
        XCTAssertTrue(p.entries[3].inputGradients)
        XCTAssertEqual(p.entries[3].backwardFlops, 2 * p.entries[3].flops.forward)
        XCTAssertEqual(p.entries[1].flops, .zero)

        for i in 0..<ex.value(x).count { ex.value(x).data[i] = Float(i % 7) - 3 }
        for step in 0..<3 {
            ex.forward(mode: .training(seed: UInt64(step)))
            ex.gradient(y)!.fill(0.5)
            ex.backward(mode: .training(seed: UInt64(step)))
        }
        XCTAssertTrue(p.entries.allSatisfy { $0.forwardCalls == 3 && $0.backwardCalls == 3 })
        XCTAssertTrue(p.entries.allSatisfy { $0.forwardSeconds >= 0 && $0.backwardSeconds >= 0 })
        XCTAssertGreaterThan(p.totalSeconds, 0)
        p.measure("optimizer") {}
        let text = p.report(top: 3, steps: 3)
        XCTAssertTrue(text.contains("thread CPU time per step over 3 step(s)"), text)
        XCTAssertTrue(text.contains("… 3 more"), text) // 4 layers + 2 extras (zeroing, optimizer), top 3
        XCTAssertTrue(text.contains("by kind:"), text)
        let all = p.report(top: 10, steps: 3)
        XCTAssertNotNil(all.range(of: #"\nconv +conv2d +patches +2×3×8×8 → 2×4×8×8 "#, options: .regularExpression), all)
        p.reset()
        XCTAssertTrue(p.entries.allSatisfy { $0.forwardCalls == 0 && $0.seconds == 0 })
        XCTAssertEqual(p.extras.count, 0)
    }

    /// Profiling changes nothing the step computes.
    func testSameResultsWithAndWithoutProfile() throws {
        func run(_ profiled: Bool) throws -> ([Float], [Float]) {
            let (g, x, y) = try graph()
            let ex = try g.plan(outputs: [y])
            ex.parameters.initialize(seed: 1)
            if profiled { ex.profile = ExecutorProfile(clock: .wall) }
            for i in 0..<ex.value(x).count { ex.value(x).data[i] = Float(i % 5) - 2 }
            ex.forward(mode: .training(seed: 1))
            ex.gradient(y)!.fill(0.25)
            ex.backward(mode: .training(seed: 1))
            return (ex.value(y).array, ex.parameters.grads.buffer.map { $0 })
        }
        let a = try run(false), b = try run(true)
        XCTAssertEqual(a.0, b.0)
        XCTAssertEqual(a.1, b.1)
    }
}
