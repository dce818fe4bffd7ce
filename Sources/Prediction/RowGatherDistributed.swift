import DataIO
import Distributed
import Foundation

/// Brings a distributed scene's finished rows to rank 0, in order, a strip at a time. Rank 0
/// writes its own band as it goes; another rank cannot send while rank 0 is still busy with
/// earlier rows (its sends would wait, and so would its model), so it spools its strips to an
/// unlinked temporary file on its local disk and streams them once its band is done. No rank
/// ever holds more than a strip in memory.
///
/// Messages from rank r: per strip [first row, end row] (Int64, tag 1), its classes (UInt8,
/// rows × width, tag 2) and averages (Float, C × rows × width, tag 3), then [-1, -1].
final class RowGather {
    let world: Communicator
    let width: Int, channels: Int
    let classes: Bool, averages: Bool
    private var spoolFile: UnsafeMutablePointer<FILE>?

    init(world: Communicator, width: Int, channels: Int, classes: Bool, averages: Bool) {
        (self.world, self.width, self.channels, self.classes, self.averages) = (world, width, channels, classes, averages)
    }

    deinit { if let spoolFile { fclose(spoolFile) } }

    /// Keeps rows `rows` (another rank than 0) until `send`.
    func spool(rows: Range<Int>, classes c: UnsafePointer<UInt8>?, averages a: UnsafePointer<Float>?) throws {
        if spoolFile == nil {
            guard let f = tmpfile() else { throw DataError(path: NSTemporaryDirectory(), "cannot create a temporary file for finished rows: \(String(cString: strerror(errno)))") }
            spoolFile = f
        }
        let m = rows.count * width
        var head = [Int64(rows.lowerBound), Int64(rows.upperBound)]
        var ok = fwrite(&head, 8, 2, spoolFile) == 2
        if classes, let c { ok = ok && fwrite(c, 1, m, spoolFile) == m }
        if averages, let a { ok = ok && fwrite(a, 4, channels * m, spoolFile) == channels * m }
        guard ok else { throw DataError(path: NSTemporaryDirectory(), "cannot spool finished rows \(rows): \(String(cString: strerror(errno)))") }
    }

    /// Streams the spooled strips to rank 0, then the end mark.
    func send() throws {
        if let f = spoolFile {
            rewind(f)
            var head = [Int64](repeating: 0, count: 2)
            while fread(&head, 8, 2, f) == 2 {
                let m = Int(head[1] - head[0]) * width
                try head.withUnsafeBufferPointer { try world.send($0, to: 0, tag: 1) }
                if classes {
                    var c = [UInt8](repeating: 0, count: m)
                    guard fread(&c, 1, m, f) == m else { throw DataError(path: NSTemporaryDirectory(), "spooled rows cut short") }
                    try c.withUnsafeBufferPointer { try world.send($0, to: 0, tag: 2) }
                }
                if averages {
                    var a = [Float](repeating: 0, count: channels * m)
                    guard fread(&a, 4, channels * m, f) == channels * m else { throw DataError(path: NSTemporaryDirectory(), "spooled rows cut short") }
                    try a.withUnsafeBufferPointer { try world.send($0, to: 0, tag: 3) }
                }
            }
        }
        let end: [Int64] = [-1, -1]
        try end.withUnsafeBufferPointer { try world.send($0, to: 0, tag: 1) }
    }

    /// Rank 0: every other rank's strips, rank by rank (bands are in rank order), into `sink`.
    func receive(into sink: StripSums.Sink) throws {
        for r in 1..<world.size {
            var head = [Int64](repeating: 0, count: 2)
            while true {
                try head.withUnsafeMutableBufferPointer { _ = try world.recv($0, from: r, tag: 1) }
                guard head[0] >= 0 else { break }
                let rows = Int(head[0])..<Int(head[1]), m = rows.count * width
                var c = [UInt8](repeating: 0, count: classes ? m : 0), a = [Float](repeating: 0, count: averages ? channels * m : 0)
                if classes { try c.withUnsafeMutableBufferPointer { _ = try world.recv($0, from: r, tag: 2) } }
                if averages { try a.withUnsafeMutableBufferPointer { _ = try world.recv($0, from: r, tag: 3) } }
                try c.withUnsafeBufferPointer { cb in
                    try a.withUnsafeBufferPointer { ab in
                        try sink(rows, classes ? cb.baseAddress : nil, averages ? ab.baseAddress : nil)
                    }
                }
            }
        }
    }
}
