import DataIO
import Foundation
import TestSupport
import XCTest

final class HDF5FileTests: ScratchTestCase {
    let a = (0..<20).map { Float($0) * 1.25 - 3 }                     // 4×5
    let b = (0..<36).map { Float(sin(Double($0))) }                    // 6×3×2

    func writeSample(_ path: String) throws {
        let f = try HDF5File(path, mode: .create)
        try f.writeDataset("a", shape: [4, 5], a)
        try f.writeDataset("grp/sub/b.values", shape: [6, 3, 2], b, chunks: [2, 3, 2], gzipLevel: 6)
        try f.setAttribute("epoch", Int64(7))
        try f.setAttribute("epoch", Int64(-12))                          // replaces
        try f.setAttribute("model", "unet ünïcode")
        try f.setAttribute("rows", Int64(4), on: "a")
        try f.setAttribute("unit", "reflectance", on: "grp/sub/b.values")
        try f.setAttribute("note", "a group", on: "grp")
        try f.close()
    }

    func testDatasetsAndAttributesRoundTrip() throws {
        let path = dir + "/sample.h5"
        try writeSample(path)
        let f = try HDF5File(path)
        XCTAssertEqual(try f.datasetNames(), ["a", "grp/sub/b.values"])
        XCTAssertEqual(try f.shape(of: "a"), [4, 5])
        XCTAssertEqual(try f.shape(of: "grp/sub/b.values"), [6, 3, 2])
        XCTAssertEqual(try f.readFloats("a"), a)
        XCTAssertEqual(try f.readFloats("grp/sub/b.values").map(\.bitPattern), b.map(\.bitPattern))
        XCTAssertEqual(try f.int64Attribute("epoch"), -12)
        XCTAssertEqual(try f.stringAttribute("model"), "unet ünïcode")
        XCTAssertEqual(try f.int64Attribute("rows", on: "a"), 4)
        XCTAssertEqual(try f.stringAttribute("unit", on: "grp/sub/b.values"), "reflectance")
        XCTAssertEqual(try f.stringAttribute("note", on: "grp"), "a group")
        XCTAssertNil(try f.int64Attribute("absent"))
        XCTAssertEqual(try f.attributeNames(), ["epoch", "model"])
        XCTAssertTrue(f.contains("grp/sub"))
        XCTAssertFalse(f.contains("grp/nothing/b"))
        XCTAssertThrowsError(try f.int64Attribute("model")) { e in XCTAssertTrue("\(e)".contains("model"), "\(e)") }
    }

    func testHyperslabReadAndWrite() throws {
        let path = dir + "/sample.h5"
        try writeSample(path)
        let f = try HDF5File(path, mode: .readWrite)
        XCTAssertEqual(try f.readFloats("grp/sub/b.values", rows: 2..<5), Array(b[12..<30]))
        XCTAssertEqual(try f.readFloats("a", rows: 3..<4), Array(a[15..<20]))
        XCTAssertEqual(try f.readFloats("a", rows: 1..<1), [])
        let newRows: [Float] = (0..<10).map { Float(100 + $0) }
        try newRows.withUnsafeBufferPointer { try f.write("a", rows: 1..<3, $0) }
        try f.close()
        let g = try HDF5File(path)
        XCTAssertEqual(try g.readFloats("a"), Array(a[0..<5]) + newRows + Array(a[15..<20]))
        XCTAssertThrowsError(try g.readFloats("a", rows: 3..<5)) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains(path) && m.contains("'a'") && m.contains("3..<5"), m)
        }
        var small = [Float](repeating: 0, count: 4)
        XCTAssertThrowsError(try small.withUnsafeMutableBufferPointer { try g.read("a", rows: 0..<1, into: $0) }) { e in
            XCTAssertTrue("\(e)".contains("buffer holds 4"), "\(e)")
        }
    }

    func testErrorsNameFileAndDataset() throws {
        let missing = dir + "/missing.h5"
        XCTAssertThrowsError(try HDF5File(missing)) { e in
            XCTAssertTrue("\(e)".contains(missing) && "\(e)".contains("no such file"), "\(e)")
        }
        let notH5 = dir + "/text.h5"
        try "hello".write(toFile: notH5, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try HDF5File(notH5)) { e in
            XCTAssertTrue("\(e)".contains(notH5) && "\(e)".contains("not an HDF5 file"), "\(e)")
        }
        let path = dir + "/sample.h5"
        try writeSample(path)
        let f = try HDF5File(path)
        XCTAssertThrowsError(try f.readFloats("grp/sub/nothing")) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains(path) && m.contains("grp/sub/nothing") && m.contains("no such dataset"), m)
        }
        XCTAssertThrowsError(try f.writeDataset("c", shape: [1], [1])) { e in XCTAssertTrue("\(e)".contains(path), "\(e)") }
        var wrong = [Float](repeating: 0, count: 19)
        XCTAssertThrowsError(try wrong.withUnsafeMutableBufferPointer { try f.read("a", into: $0) }) { e in
            XCTAssertTrue("\(e)".contains("'a'") && "\(e)".contains("4, 5"), "\(e)")
        }
        let w = try HDF5File(dir + "/other.h5", mode: .create)
        try w.writeDataset("x", shape: [2], [1, 2])
        XCTAssertThrowsError(try w.createDataset("x", shape: [2])) { e in XCTAssertTrue("\(e)".contains("already exists"), "\(e)") }
        XCTAssertThrowsError(try w.writeDataset("y", shape: [2, 2], [1, 2, 3])) { e in XCTAssertTrue("\(e)".contains("'y'"), "\(e)") }
        XCTAssertThrowsError(try HDF5File(dir + "/no/dir/x.h5", mode: .create)) { e in XCTAssertTrue("\(e)".contains("no/dir/x.h5"), "\(e)") }
    }

    func testWriteAtomically() throws {
        let path = dir + "/ckpt.h5"
        try HDF5File.writeAtomically(path) { f in try f.writeDataset("v", shape: [3], [1, 2, 3]) }
        struct Boom: Error {}
        // A failure half-way leaves the previous file intact and no temporary behind.
        XCTAssertThrowsError(try HDF5File.writeAtomically(path) { f in
            try f.writeDataset("v", shape: [3], [9, 9, 9])
            throw Boom()
        })
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"))
        XCTAssertEqual(try HDF5File(path).readFloats("v"), [1, 2, 3])
        try HDF5File.writeAtomically(path) { f in try f.writeDataset("v", shape: [2], [5, 6]) }
        XCTAssertEqual(try HDF5File(path).readFloats("v"), [5, 6])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"))
    }
}
