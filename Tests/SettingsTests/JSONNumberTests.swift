import Foundation
import Settings
import XCTest

/// Numbers written and read back exactly: doubles bit for bit, integers to the last digit.
final class JSONNumberTests: XCTestCase {
    /// `x` written (in an array, compact and pretty) and read back.
    func roundTrip(_ x: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        for pretty in [false, true] {
            let text = try JSONValue.array([JSONValue(x)]).text(pretty: pretty)
            let back = try XCTUnwrap(JSONValue.parse(text).array?.first?.double, text, file: file, line: line)
            XCTAssertEqual(back.bitPattern, x.bitPattern, "\(x) written as \(text) read back as \(back)", file: file, line: line)
        }
    }

    func testAwkwardDoublesRoundTripBitForBit() throws {
        let awkward: [Double] = [
            0.3944873595505618, 2247.0 / 5696.0, 0.1, 1.0 / 3.0, .leastNonzeroMagnitude /* 5e-324 */, 2.2250738585072014e-308,
            Double.leastNormalMagnitude.nextDown, 1.7976931348623157e308, -0.0, 0, 1e-7, 123456.789e-20, 3.0, -2.5, 1e21,
            1e22, 0x1p53 + 2, Double(Float.ulpOfOne), 0.30000000000000004, .pi, -.leastNonzeroMagnitude,
        ]
        for x in awkward { try roundTrip(x) }
        XCTAssertEqual(try JSONValue(-0.0).text(), "-0.0")
        XCTAssertEqual(try JSONValue(2247.0 / 5696.0).text(), "0.3944873595505618")
        XCTAssertEqual(try JSONValue.parse("5e-324").double, .leastNonzeroMagnitude)
    }

    /// Random bit patterns (every exponent, subnormals included) and random ratios of integers
    /// (the kind of value statistics and metrics are).
    func testRandomDoublesRoundTripBitForBit() throws {
        var g = SplitMix64(seed: 20240611)
        for _ in 0..<3000 {
            let bits = Double(bitPattern: g.next())
            if bits.isFinite { try roundTrip(bits) }
            try roundTrip(Double(g.next() % 100_000) / Double(g.next() % 10_000 + 1))
        }
    }

    /// Several numbers in one document (as a metrics record holds them).
    func testDocumentOfDoublesRoundTrips() throws {
        var g = SplitMix64(seed: 7)
        let xs = (0..<500).map { _ in Double(g.next() % 1_000_000) / 7919 - 50 }
        let doc: JSONValue = ["values": .array(xs.map { JSONValue($0) }), "mean": JSONValue(xs.reduce(0, +) / 500)]
        let back = try JSONValue.parse(try doc.text(pretty: true))
        XCTAssertEqual(back["values"]?.array?.compactMap(\.double).map(\.bitPattern), xs.map(\.bitPattern))
        XCTAssertEqual(back, doc)
    }

    /// 0.3944873595505618 (2247/5696) is 18 characters: Foundation's JSONSerialization on Linux
    /// reads such texts through Decimal, which can land an ulp off. Ours must not.
    func testLongTextsReadCorrectlyRounded() throws {
        let text = "[0.3944873595505618, 0.30000000000000004, 2.2250738585072014e-308]"
        let ours = try XCTUnwrap(JSONValue.parse(text).array).compactMap(\.double)
        XCTAssertEqual(ours.map(\.bitPattern), [2247.0 / 5696.0, 0.1 + 0.2, .leastNormalMagnitude].map(\.bitPattern))
        if let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [NSNumber] {
            print("JSONSerialization read \(theirs.map(\.doubleValue)), this parser \(ours)")
        }
    }

    func testIntegersAreExact() throws {
        let text = try JSONValue.array([JSONValue(Int64.max), JSONValue(Int64.min), JSONValue(UInt64.max), JSONValue(9007199254740993)]).text()
        XCTAssertEqual(text, "[9223372036854775807,-9223372036854775808,18446744073709551615,9007199254740993]")
        let a = try XCTUnwrap(JSONValue.parse(text).array)
        XCTAssertEqual(a[0].int64, Int64.max)
        XCTAssertEqual(a[1].int64, Int64.min)
        XCTAssertEqual(a[1].int, Int.min)
        XCTAssertNil(a[2].int64)
        XCTAssertEqual(a[2].uint64, UInt64.max)
        XCTAssertEqual(a[3].int, (1 << 53) + 1)
        XCTAssertEqual(a[3].uint64, (1 << 53) + 1)
        XCTAssertNil(a[1].uint64)
    }

    /// Integers written otherwise count when exact below 2^53; fractions and bools never do.
    func testIntegerValuesOfOtherTexts() throws {
        let a = try XCTUnwrap(JSONValue.parse("[1e3, 2.0, -0.0, 10.5, 1e300, true, 9007199254740993.0]").array)
        XCTAssertEqual(a.map(\.int), [1000, 2, 0, nil, nil, nil, nil])
        XCTAssertEqual(a[0], JSONValue(1000))
        XCTAssertEqual(a[1], JSONValue(2))
        XCTAssertNotEqual(a[3], JSONValue(10))
    }

    /// Floats are rounded once, from the text; a Float is written as its own shortest text.
    func testFloats() throws {
        XCTAssertEqual(try JSONValue(Float(0.1)).text(), "0.1")
        XCTAssertEqual(try JSONValue.parse("0.1").float, Float(0.1))
        var g = SplitMix64(seed: 3)
        for _ in 0..<2000 {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: g.next()))
            guard f.isFinite else { continue }
            XCTAssertEqual(try JSONValue.parse(try JSONValue(f).text()).float?.bitPattern, f.bitPattern, "\(f)")
        }
    }

    func testNonFiniteNumbersAreRefusedNamingThePath() {
        let doc: JSONValue = ["stats": ["mean": [JSONValue(1.5), JSONValue(Double.nan)]]]
        XCTAssertThrowsError(try doc.text()) {
            XCTAssertEqual($0 as? JSONWriteError, JSONWriteError(path: "stats.mean[1]", message: "nan is not a finite number: JSON cannot hold it"))
        }
        XCTAssertThrowsError(try JSONValue(Double.infinity).text(pretty: true))
        XCTAssertThrowsError(try JSONValue.parse("1e400")) { XCTAssertTrue("\($0)".contains("beyond the range of a double"), "\($0)") }
    }
}

/// A small seeded generator (Vigna's SplitMix64), so the random cases are the same every run.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
