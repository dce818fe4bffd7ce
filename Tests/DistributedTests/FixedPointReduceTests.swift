import Engine
import Foundation
import XCTest
@testable import Distributed

/// GradientReducer in one process (comm nil): the exact fixed-point reduction, and the fast
/// float one it is measured against. Across ranks: ReduceMPITests.
final class FixedPointReduceTests: XCTestCase {
    // Buckets: mixed magnitudes, empty, large, all zero, subnormal only, cancelling pairs.
    let segments = [37, 0, 1000, 5, 257, 64]

    /// Term j (0..<m) of a set with wildly different magnitudes per bucket.
    func terms(_ m: Int, seed: UInt64 = 7) -> [[Float]] {
        var rng = SplitMix64(seed: seed)
        func signed(_ x: Float) -> Float { rng.next() & 1 == 0 ? x : -x }
        func logUniform(_ lo: Float, _ hi: Float) -> Float {
            let u = Double(rng.uniform())
            return Float(Double(lo) * Foundation.pow(Double(hi / lo), u))
        }
        let pairBase = (0..<64).map { _ in logUniform(1e-3, 1e3) }
        return (0..<m).map { j in
            var t: [Float] = []
            for _ in 0..<37 {            // 1e-30 … 1e6, zeros, subnormals
                switch rng.next() % 8 {
                case 0: t.append(0)
                case 1: t.append(signed(Float(sign: .plus, exponent: -149 + Int(rng.next() % 20), significand: 1.25)))
                default: t.append(signed(logUniform(1e-30, 1e6)))
                }
            }
            for _ in 0..<1000 { t.append(signed(logUniform(1e-4, 1e2))) }
            t += [0, -0.0, 0, -0.0, 0]
            for _ in 0..<257 { t.append(signed(Float(bitPattern: UInt32(1 + rng.next() % 0x7F_FFFF)))) }
            // Terms 2i and 2i + 1 cancel but for a small remainder (a last odd one out is small):
            // the sum is far below the terms, and float sums of it depend on the order.
            for i in 0..<64 {
                let pair = j % 2 == 0 ? pairBase[i] : -pairBase[i]
                t.append(j == m - 1 && j % 2 == 0 ? signed(1e-5) : pair * Float(1 + j / 2) + signed(1e-5))
            }
            return t
        }
    }

    /// One reduce with comm nil, terms added in `order`.
    func reduce(_ r: GradientReducer, _ terms: [[Float]], order: [Int]? = nil, total: Int? = nil,
                scale: Float = 1) throws -> (out: [Float], ok: Bool) {
        for j in order ?? Array(terms.indices) { terms[j].withUnsafeBufferPointer { r.add($0) } }
        var out = [Float](repeating: .nan, count: r.length)
        let ok = try out.withUnsafeMutableBufferPointer {
            try r.reduce(over: nil, totalTerms: total ?? terms.count, scale: scale, into: $0)
        }
        return (out, ok)
    }

    /// Σ terms[·][i] in double-double (TwoSum): exact to ~2⁻¹⁰⁶ of Σ|x|.
    func referenceSum(_ terms: [[Float]], _ i: Int) -> (hi: Double, lo: Double) {
        var hi = 0.0, lo = 0.0
        for t in terms {
            let x = Double(t[i]), s = hi + x, bb = s - hi
            lo += (hi - (s - bb)) + (x - bb)
            hi = s
        }
        return (hi, lo)
    }

    func ulp(_ x: Float) -> Float { x.isZero ? .leastNonzeroMagnitude : x.ulp }

    /// The documented exact-mode error beyond the final rounding: half a grid step per term.
    func quantisationBound(_ terms: [[Float]], bucket: Range<Int>, scale: Float) -> Double {
        let m = terms.count
        let maxAbs = terms.flatMap { $0[bucket] }.map(\.magnitude).max() ?? 0
        let e = maxAbs > 0 ? max(Int(maxAbs.exponent), -126) : -126
        var k = 0
        while (1 << k) < m { k += 1 }
        let step = Foundation.pow(2.0, Double(e + 1 - min(51, 62 - k)))
        return Double(m) * step / 2 * Double(scale.magnitude)
    }

    /// Against the high-precision sum: one float ulp plus the grid's documented rounding.
    func assertExactAccurate(_ out: [Float], _ set: [[Float]], _ segments: [Int], scale: Float,
                             file: StaticString = #filePath, line: UInt = #line) {
        var start = 0, bad = 0
        for len in segments {
            let bound = quantisationBound(set, bucket: start..<(start + len), scale: scale)
            for i in start..<(start + len) {
                let s = referenceSum(set, i)
                let ref = Float(s.hi * Double(scale) + s.lo * Double(scale))
                let tol = Double(max(ulp(ref), ulp(out[i]))) + bound
                if Double((out[i] - ref).magnitude) > tol, bad < 10 {
                    bad += 1
                    XCTFail("element \(i): \(out[i]) vs \(ref)", file: file, line: line)
                }
            }
            start += len
        }
    }

    /// Vectors longer than one all-reduce chunk, with buckets across chunk boundaries; the exact
    /// sums do not depend on the chunk size (the run config's allreduce_bucket_mb).
    func testLongVectorsAcrossChunks() throws {
        let chunk = 1000
        let segs: [Int] = [chunk + 5, 3, 0, 2 * chunk - 7, 1000]
        var rng = SplitMix64(seed: 5)
        let set: [[Float]] = (0..<5).map { _ in
            segs.enumerated().flatMap { b, len in
                (0..<len).map { _ in (rng.uniform() - 0.5) * Float(sign: .plus, exponent: 4 * b - 8, significand: 1) }
            }
        }
        let scale: Float = 1 / 5
        let exact = try reduce(GradientReducer(mode: .exact, segments: segs, chunk: chunk), set, scale: scale)
        XCTAssertTrue(exact.ok)
        assertExactAccurate(exact.out, set, segs, scale: scale)
        let whole = try reduce(GradientReducer(mode: .exact, segments: segs, chunk: 1 << 20), set, scale: scale)
        XCTAssertEqual(exact.out.map(\.bitPattern), whole.out.map(\.bitPattern))
        let fast = try reduce(GradientReducer(mode: .fast, segments: segs, chunk: chunk), set, scale: scale)
        XCTAssertTrue(fast.ok)
        for i in stride(from: 0, to: fast.out.count, by: 7) {
            // Five terms: the float sum is within 4·2⁻²⁴·Σ|x| (plus the scaling's rounding).
            let abs: Double = set.map { Double($0[i].magnitude) }.reduce(0, +)
            let ref: Double = set.map { Double($0[i]) }.reduce(0, +) * Double(scale)
            let tol: Double = 4 * 0x1p-24 * abs * Double(scale) + Double(ulp(Float(ref)))
            XCTAssertEqual(Double(fast.out[i]), ref, accuracy: tol, "element \(i)")
        }
    }

    func testExactIsOrderFreeAndAccurate() throws {
        let m = 13, set = terms(m), scale: Float = 1 / 13
        let r = GradientReducer(mode: .exact, segments: segments)
        let first = try reduce(r, set, scale: scale)
        XCTAssertTrue(first.ok)
        var rng = SplitMix64(seed: 3)
        for trial in 0..<6 {
            let order = Array(0..<m).shuffled(using: &rng)
            // Alternately the same reducer again (its pool reused) and a fresh one.
            let again = try reduce(trial % 2 == 0 ? r : GradientReducer(mode: .exact, segments: segments), set,
                                   order: order, scale: scale)
            XCTAssertEqual(again.out.map(\.bitPattern), first.out.map(\.bitPattern), "order \(order)")
        }
        assertExactAccurate(first.out, set, segments, scale: scale)
        XCTAssertTrue(first.out[1037..<1042].allSatisfy { $0 == 0 }, "all-zero bucket")
        XCTAssertFalse(first.out[1042..<1299].allSatisfy { $0 == 0 }, "subnormal bucket keeps its values")
        XCTAssertEqual(r.lastCommSeconds, 0)
    }

    /// Terms go into the sums up to four at a time: every count of terms is accurate.
    func testExactIsAccurateForEveryTermCount() throws {
        for m in 1...9 {
            let set = terms(m, seed: UInt64(m)), scale = 1 / Float(m)
            let r = try reduce(GradientReducer(mode: .exact, segments: segments), set, scale: scale)
            XCTAssertTrue(r.ok)
            assertExactAccurate(r.out, set, segments, scale: scale)
        }
    }

    /// Float addition loses 1 + 1 next to 2²⁴; the integer sum does not, in any order.
    func testExactBeyondFloatPrecision() throws {
        let set: [[Float]] = [[16_777_216], [1], [1], [-16_777_216]]
        var orders: [[Int]] = [[]]
        for _ in 0..<4 { orders = orders.flatMap { o in (0..<4).filter { !o.contains($0) }.map { o + [$0] } } }
        let r = GradientReducer(mode: .exact, segments: [1])
        for o in orders { XCTAssertEqual(try reduce(r, set, order: o).out, [2], "order \(o)") }
    }

    /// Integer-valued terms sum without any rounding: the result is the exact sum, bit for bit.
    func testExactIntegerTermsAreExact() throws {
        var rng = SplitMix64(seed: 11)
        let set = (0..<9).map { _ in (0..<300).map { _ in Float(Int(rng.next() % (1 << 21)) - (1 << 20)) } }
        let (out, ok) = try reduce(GradientReducer(mode: .exact, segments: [100, 200]), set, scale: 0.25)
        XCTAssertTrue(ok)
        for i in 0..<300 { XCTAssertEqual(out[i], Float(set.map { Double($0[i]) }.reduce(0, +) * 0.25), "element \(i)") }
    }

    func testFastIsWithinFloatSummationError() throws {
        let m = 13, set = terms(m), scale: Float = 1 / 13
        let (out, ok) = try reduce(GradientReducer(mode: .fast, segments: segments), set, scale: scale)
        XCTAssertTrue(ok)
        for i in 0..<out.count {
            let s = referenceSum(set, i), ref = Float((s.hi + s.lo) * Double(scale))
            // Recursive float summation: |error| ≤ (m − 1)·2⁻²⁴·Σ|x|, then two roundings.
            let abs = set.map { Double($0[i].magnitude) }.reduce(0, +)
            let tol = Double(m - 1) * 0x1p-24 * abs * Double(scale) + 2 * Double(ulp(ref))
            XCTAssertLessThanOrEqual(Double((out[i] - ref).magnitude), tol, "element \(i)")
        }
    }

    func testNoTermsAndZeroTermsGiveZeros() throws {
        for mode in ReductionMode.allCases {
            let r = GradientReducer(mode: mode, segments: [3, 0, 4])
            let none = try reduce(r, [], total: 0)
            XCTAssertTrue(none.ok)
            XCTAssertEqual(none.out, [Float](repeating: 0, count: 7), "\(mode)")
            let zeros = try reduce(r, [[0, -0.0, 0, 0, 0, -0.0, 0], [Float](repeating: -0.0, count: 7)], scale: 3)
            XCTAssertTrue(zeros.ok)
            XCTAssertEqual(zeros.out, [Float](repeating: 0, count: 7), "\(mode)")
        }
        // A vector of length 0 still counts its terms.
        let empty = GradientReducer(mode: .exact, segments: [])
        XCTAssertTrue(try reduce(empty, [[], []]).ok)
        XCTAssertThrowsError(try reduce(empty, [[]], total: 2))
    }

    func testNonFiniteTermsAreReportedAndDoNotStick() throws {
        let set = terms(5)
        for mode in ReductionMode.allCases {
            let r = GradientReducer(mode: mode, segments: segments)
            let clean = try reduce(GradientReducer(mode: mode, segments: segments), set)
            for bad: Float in [.nan, .infinity, -.infinity, .signalingNaN] {
                for element in [0, 500, 1362] {
                    var poisoned = set
                    poisoned[3][element] = bad
                    XCTAssertFalse(try reduce(r, poisoned).ok, "\(mode): \(bad) at \(element)")
                }
            }
            // Largest finite magnitudes are not mistaken for non-finite ones.
            var large = set
            large[1][40] = .greatestFiniteMagnitude
            large[2][41] = -.greatestFiniteMagnitude
            XCTAssertTrue(try reduce(r, large).ok, "\(mode)")
            // The same reducer afterwards: the same result as a fresh one.
            let after = try reduce(r, set)
            XCTAssertTrue(after.ok)
            XCTAssertEqual(after.out.map(\.bitPattern), clean.out.map(\.bitPattern), "\(mode)")
        }
    }

    /// 1000 (and 4097: a coarser grid) terms of the largest float magnitude: the Int64 sums
    /// must not overflow.
    func testThousandsOfTermsOfMaximalMagnitude() throws {
        let big = Float.greatestFiniteMagnitude, b = Double(big)
        let scale: Float = 1 / 8192
        for m in [1000, 4097] {
            let set: [[Float]] = (0..<m).map { j in
                [big, -big, j % 2 == 0 ? big : -big, j == 0 ? 1 : big, j < 700 ? -big : big / 2]
            }
            let r = GradientReducer(mode: .exact, segments: [5])
            let (out, ok) = try reduce(r, set, scale: scale)
            XCTAssertTrue(ok)
            // Every term but the lone 1 is a multiple of the grid step (2⁷⁷ or more), so the
            // sums are exact; the 1 is far below the result's ulp.
            let M = Double(m)
            let want = [M * b, -M * b, m % 2 == 0 ? 0 : b, (M - 1) * b + 1, -700 * b + (M - 700) * b / 2]
                .map { Float($0 * Double(scale)) }
            XCTAssertEqual(out.map(\.bitPattern), want.map(\.bitPattern), "M = \(m): \(out) vs \(want)")
            if m == 1000 {
                // Unscaled, the sum is beyond Float: +Inf, and still reported finite (the terms were).
                let (raw, rawOK) = try reduce(r, set)
                XCTAssertTrue(rawOK)
                XCTAssertEqual(raw[0], .infinity)
                XCTAssertEqual(raw[2], 0)
            }
        }
    }

    /// The grid's bound holds for every term count: M terms of the largest magnitude fit Int64.
    func testGridNeverOverflows() {
        let bits = Int32(bitPattern: Float.greatestFiniteMagnitude.bitPattern)
        for m in 1...5000 {
            let g = FixedPointGrid(maxBits: bits, terms: m)
            let q = (Double(Float.greatestFiniteMagnitude) * g.toGrid).rounded(.toNearestOrEven)
            XCTAssertLessThanOrEqual(q, 0x1p51, "M = \(m)")
            XCTAssertLessThanOrEqual(q * Double(m), 0x1p62, "M = \(m)")
            if m == 1 { XCTAssertGreaterThanOrEqual(q, 0x1p50, "the grid uses the range: M = 1") }
        }
    }

    func testTermCountMustMatchTotalTerms() throws {
        for mode in ReductionMode.allCases {
            let r = GradientReducer(mode: mode, segments: segments)
            let set = terms(3)
            XCTAssertThrowsError(try reduce(r, set, total: 2)) {
                XCTAssertEqual($0 as? ReductionError, .termCountMismatch(expected: 2, added: 3), "\(mode)")
            }
            XCTAssertEqual(r.addedTerms, 0, "cleared after throwing")
            XCTAssertThrowsError(try reduce(r, set, total: 4)) {
                XCTAssertTrue("\($0)".contains("added 3 terms in all, but totalTerms is 4"), "\($0)")
            }
            XCTAssertThrowsError(try reduce(r, set, total: -1)) {
                XCTAssertEqual($0 as? ReductionError, .invalidTotalTerms(-1))
            }
            XCTAssertTrue(try reduce(r, set).ok)
        }
    }
}
