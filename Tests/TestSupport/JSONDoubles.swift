import XCTest

/// Asserts that a double read back from JSON (a metrics file, a command's `--json` output) is
/// `expected` to within `relative` · |expected|.
///
/// Why not `==`: Foundation's JSONSerialization on Linux mis-rounds some 17-digit numbers by an
/// ulp (0.3944873595505618 reads back as 0.3944873595505617), and which numbers are hit depends
/// on the value, so on trained weights and the BLAS kernels that made them. 1e-12 is far above
/// an ulp (2.2e-16 relative) and far below any real disagreement; the callers compare the
/// integer counts behind such a ratio exactly.
public func XCTAssertEqualAfterJSON(_ value: Double?, _ expected: Double, relative: Double = 1e-12,
                                   _ message: @autoclosure () -> String = "",
                                   file: StaticString = #filePath, line: UInt = #line) {
    guard let value else {
        return XCTFail("no number where \(expected) was expected. \(message())", file: file, line: line)
    }
    XCTAssertEqual(value, expected, accuracy: relative * abs(expected), message(), file: file, line: line)
}
