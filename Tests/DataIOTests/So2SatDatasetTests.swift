@testable import DataIO
import Engine
import Foundation
import TestSupport
import XCTest

final class So2SatDatasetTests: ScratchTestCase {
    func tmp(_ name: String) -> String { dir + "/" + name }

    /// A tiny So2Sat-layout file with known values: sen1[n,y,x,c] = 1000n + 100c + 10y + x.
    func writeTiny(_ path: String, n: Int = 3, patch: Int = 2, s1: Int = 8, s2: Int = 10, labels: [Float]? = nil) throws {
        func values(_ c: Int, base: Float) -> [Float] {
            var v = [Float](repeating: 0, count: n * patch * patch * c)
            for i in 0..<n { for y in 0..<patch { for x in 0..<patch { for ch in 0..<c {
                v[((i * patch + y) * patch + x) * c + ch] = base + Float(1000 * i + 100 * ch + 10 * y + x)
            } } } }
            return v
        }
        let f = try HDF5File(path, mode: .create)
        try f.writeDataset("sen1", shape: [n, patch, patch, s1], values(s1, base: 0))
        try f.writeDataset("sen2", shape: [n, patch, patch, s2], values(s2, base: 0.5))
        var l = labels ?? [Float](repeating: 0, count: n * 17)
        if labels == nil { for i in 0..<n { l[i * 17 + (i * 5) % 17] = 1 } }
        try f.writeDataset("label", shape: [n, 17], l)
        try f.close()
    }

    func testTinyFileNHWCBecomesNCHWFusedAndSoftLabelsKeepTheirArgmax() throws {
        let path = tmp("tiny.h5")
        var soft = [Float](repeating: 0, count: 3 * 17)
        soft[0 * 17 + 3] = 0.6; soft[0 * 17 + 4] = 0.4
        soft[1 * 17 + 16] = 1
        soft[2 * 17 + 7] = 0.5; soft[2 * 17 + 2] = 0.5   // tie: the lower class
        try writeTiny(path, labels: soft)
        let d = try So2SatDataset(path: path, modality: .both)
        XCTAssertEqual(d.shapes.image, Shape(18, 2, 2))
        let b = try d.batch([2, 0])
        XCTAssertEqual(b.indices, [2, 0])
        let img = b.image.data, per = 18 * 4
        // Row 0 of the batch is sample 2: channel 3 (sen1) at (y 1, x 0).
        XCTAssertEqual(img[3 * 4 + 1 * 2 + 0], 2000 + 300 + 10)
        // Channel 8 + 9 (sen2's last) of sample 0 at (0, 1).
        XCTAssertEqual(img[per + 17 * 4 + 1], 0.5 + 900 + 1)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: b.soft!.data, count: 17)), Array(soft[34..<51]))
        XCTAssertEqual(b.hard!.data[0], 2)
        XCTAssertEqual(b.hard!.data[1], 3)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: b.mask.data, count: 8)), [Float](repeating: 1, count: 8))

        let s2 = try So2SatDataset(path: path, modality: .sen2).batch([1])
        XCTAssertEqual(s2.shapes.image, Shape(10, 2, 2))
        XCTAssertEqual(s2.image.data[0], 1000.5)
        XCTAssertEqual(s2.hard!.data[0], 16)
    }

    func testSynthShardMatchesTheFileRowByRowInAnyOrderAndRange() throws {
        let path = try SynthFixtures.so2sat.get().report.shards[0].path
        let d = try So2SatDataset(path: path, modality: .both, rows: 100..<300)
        XCTAssertEqual(d.count, 200)
        XCTAssertEqual(d.shapes.image, Shape(18, 32, 32))
        XCTAssertEqual(d.classes, 17)
        let idx = [57, 3, 4, 5, 199, 0, 120, 6]
        let b = try d.batch(idx)
        let f = try HDF5File(path)
        for (slot, i) in idx.enumerated() {
            let s1 = try f.readFloats("sen1", rows: (100 + i)..<(101 + i))
            let s2 = try f.readFloats("sen2", rows: (100 + i)..<(101 + i))
            let l = try f.readFloats("label", rows: (100 + i)..<(101 + i))
            let row = b.image.data + slot * 18 * 1024
            for p in stride(from: 0, to: 1024, by: 37) {
                for c in 0..<8 { XCTAssertEqual(row[c * 1024 + p], s1[p * 8 + c]) }
                for c in 0..<10 { XCTAssertEqual(row[(8 + c) * 1024 + p], s2[p * 10 + c]) }
            }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: b.soft!.data + slot * 17, count: 17)), l)
            XCTAssertEqual(Int(b.hard!.data[slot]), l.firstIndex(of: 1))
        }
        // Shards split the file.
        let parts = try So2SatDataset.shards(path: path, modality: .sen1, parts: 3)
        XCTAssertEqual(parts.map(\.rows), [0..<100, 100..<200, 200..<300])
        XCTAssertEqual(try parts[1].batch([7]).image.array, Array(try d.batch([7]).image.array.prefix(8 * 1024)))
    }

    func testWrongShapesAndMissingDatasetsNameTheFileAndDataset() throws {
        let bad = tmp("bad.h5")
        try writeTiny(bad, s2: 9)
        XCTAssertThrowsError(try So2SatDataset(path: bad, modality: .both)) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains(bad) && m.contains("'sen2'") && m.contains("N×32×32×10"), m)
        }
        XCTAssertNoThrow(try So2SatDataset(path: bad, modality: .sen1))

        let missing = tmp("missing.h5")
        let f = try HDF5File(missing, mode: .create)
        try f.writeDataset("sen2", shape: [2, 2, 2, 10], [Float](repeating: 0, count: 80))
        try f.writeDataset("label", shape: [2, 17], [Float](repeating: 0, count: 34))
        try f.close()
        XCTAssertThrowsError(try So2SatDataset(path: missing, modality: .sen1)) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains(missing) && m.contains("'sen1'") && m.contains("no such dataset"), m)
        }
        XCTAssertThrowsError(try So2SatDataset(path: missing, modality: .sen2).batch([0])) { e in
            XCTAssertTrue("\(e)".contains("'label'") && "\(e)".contains("no class"), "\(e)")
        }

        let rows = tmp("rows.h5")
        let g = try HDF5File(rows, mode: .create)
        try g.writeDataset("sen1", shape: [3, 2, 2, 8], [Float](repeating: 0, count: 96))
        try g.writeDataset("label", shape: [2, 17], [Float](repeating: 0, count: 34))
        try g.close()
        XCTAssertThrowsError(try So2SatDataset(path: rows, modality: .sen1)) { e in
            XCTAssertTrue("\(e)".contains(rows) && "\(e)".contains("'sen1'") && "\(e)".contains("3 rows"), "\(e)")
        }
        XCTAssertThrowsError(try So2SatDataset(path: bad, modality: .sen1, rows: 0..<4)) { e in
            XCTAssertTrue("\(e)".contains(bad), "\(e)")
        }
    }
}
