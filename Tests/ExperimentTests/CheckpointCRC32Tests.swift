import XCTest
@testable import Experiment

/// The slicing-by-8 CRC-32 against zlib's check value and a one-bit-at-a-time reference.
final class CheckpointCRC32Tests: XCTestCase {
    /// The textbook definition: reflected polynomial 0xEDB88320, one bit per step.
    func reference(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return ~c
    }

    func testCheckValue() {
        var crc = CRC32()
        crc.update("123456789")
        XCTAssertEqual(crc.value, 0xCBF4_3926)            // zlib.crc32(b"123456789")
        XCTAssertEqual(crc.hex, "cbf43926")
        var empty = CRC32()
        empty.update("")
        XCTAssertEqual(empty.hex, "00000000")
    }

    /// Pieces of every length and alignment give the same CRC as the whole, and as the reference.
    func testPiecesMatchTheReference() {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<4099).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let expected = reference(bytes)
        var whole = CRC32()
        bytes.withUnsafeBytes { whole.update($0) }
        XCTAssertEqual(whole.value, expected)
        var pieces = CRC32()
        var at = 0, len = 0
        while at < bytes.count {
            let end = min(bytes.count, at + len)
            bytes[at..<end].withUnsafeBytes { pieces.update($0) }
            at = end; len = (len + 3) % 23
        }
        XCTAssertEqual(pieces.value, expected)
        var floats = CRC32()
        let f: [Float] = [1, -0.0, .nan, .leastNonzeroMagnitude * 3]
        f.withUnsafeBufferPointer { floats.update($0) }
        XCTAssertEqual(floats.value, reference(f.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }))
    }
}
