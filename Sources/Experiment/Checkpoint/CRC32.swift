/// CRC-32 as zlib computes it (reflected polynomial 0xEDB88320, initial and final inversion),
/// so Python's `zlib.crc32` checks a checkpoint's checksum. Slicing-by-8: eight table look-ups
/// per 8 bytes instead of one per byte, about 1 byte per cycle, so a checkpoint of a few
/// hundred MB is checked in a fraction of a second. Feed bytes in pieces with `update`.
public struct CRC32: Sendable {
    /// The CRC of everything fed so far.
    public private(set) var value: UInt32 = 0

    public init() {}

    /// tables[k·256 + b]: the CRC contribution of byte b followed by k zero bytes.
    private static let tables: UnsafePointer<UInt32> = {
        let t = UnsafeMutablePointer<UInt32>.allocate(capacity: 8 * 256)
        for b in 0..<256 {
            var c = UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[b] = c
        }
        for k in 1..<8 {
            for b in 0..<256 {
                let prev = t[(k - 1) * 256 + b]
                t[k * 256 + b] = (prev >> 8) ^ t[Int(prev & 0xFF)]
            }
        }
        return UnsafePointer(t)
    }()

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress, !bytes.isEmpty else { return }
        let t = Self.tables
        var n = bytes.count
        var crc = ~value
        while n >= 8 {
            // Two little-endian words: the first absorbs the running CRC.
            let one = p.loadUnaligned(as: UInt32.self).littleEndian ^ crc
            let two = p.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
            crc = t[7 * 256 + Int(one & 0xFF)] ^ t[6 * 256 + Int((one >> 8) & 0xFF)]
                ^ t[5 * 256 + Int((one >> 16) & 0xFF)] ^ t[4 * 256 + Int(one >> 24)]
                ^ t[3 * 256 + Int(two & 0xFF)] ^ t[2 * 256 + Int((two >> 8) & 0xFF)]
                ^ t[1 * 256 + Int((two >> 16) & 0xFF)] ^ t[Int(two >> 24)]
            p += 8
            n -= 8
        }
        while n > 0 {
            crc = t[Int((crc ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
            p += 1
            n -= 1
        }
        value = ~crc
    }

    public mutating func update(_ text: String) {
        var s = text
        s.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Float32 values as their little-endian bytes (the in-memory layout on every platform
    /// rstrain runs on; a big-endian build would need to swap first).
    public mutating func update(_ floats: UnsafeBufferPointer<Float>) {
        #if _endian(big)
        #error("checkpoint checksums assume little-endian floats")
        #endif
        update(UnsafeRawBufferPointer(floats))
    }

    /// "cbf43926": 8 lower-case hex digits, as Python's `format(zlib.crc32(...), "08x")`.
    public var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }
}
