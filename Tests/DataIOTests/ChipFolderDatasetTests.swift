import DataIO
import Engine
import Foundation
import XCTest

final class ChipFolderDatasetTests: XCTestCase {
    /// DIR/<class>/<name>.tif chips of `size`² px and `bands` bands; pixel (b, y, x) of chip
    /// `id` is 1000 id + 100 b + 10 y + x.
    func chip(_ f: TileFixture, _ rel: String, id: Int, size: Int = 8, bands: Int = 3, noData: Double? = nil) throws {
        try f.raster(rel, width: size, height: size, bands: bands, noData: noData, tile: 16) { b, y, x in
            Float(1000 * id + 100 * b + 10 * y + x)
        }
    }

    func testClassesSortedChipsStableImagesMasksAndLabels() throws {
        let f = try TileFixture("chips")
        defer { f.remove() }
        try chip(f, "River/b.tif", id: 1)
        try chip(f, "River/a.tif", id: 2)
        try chip(f, "Forest/z.tif", id: 3, noData: 3000 + 100 * 2 + 10 * 1 + 4) // band 3 at (y 1, x 4)
        try chip(f, "AnnualCrop/c.tif", id: 4)
        try f.dir("Empty")
        try "not a chip".write(toFile: f.root + "/River/notes.txt", atomically: true, encoding: .utf8)

        let d = try ChipFolderDataset(root: f.root, validate: true)
        XCTAssertEqual(d.classNames, ["AnnualCrop", "Forest", "River"])
        XCTAssertEqual(d.chips.map { ($0.path as NSString).lastPathComponent }, ["c.tif", "z.tif", "a.tif", "b.tif"])
        XCTAssertEqual(d.chips.map(\.label), [0, 1, 2, 2])
        XCTAssertEqual(d.shapes.image, Shape(3, 8, 8))
        XCTAssertEqual(d.shapes.soft, Shape(3))

        let b = try d.batch([3, 1])
        XCTAssertEqual(b.indices, [3, 1])
        // Sample 3 is River/b.tif (id 1): band 2, (y 5, x 6).
        XCTAssertEqual(b.image.data[2 * 64 + 5 * 8 + 6], 1000 + 200 + 50 + 6)
        XCTAssertEqual(b.hard!.data[0], 2)
        XCTAssertEqual(b.hard!.data[1], 1)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: b.soft!.data, count: 6)), [0, 0, 1, 0, 1, 0])
        // Forest/z.tif: the NODATA pixel of band 3 is masked and zeroed in every band.
        let m1 = b.mask.data + 64, img1 = b.image.data + 3 * 64
        XCTAssertEqual(m1[1 * 8 + 4], 0)
        XCTAssertEqual(img1[1 * 8 + 4], 0)
        XCTAssertEqual(img1[64 + 1 * 8 + 4], 0)
        XCTAssertEqual((0..<64).filter { m1[$0] == 0 }.count, 1)
        XCTAssertEqual((0..<64).filter { b.mask.data[$0] == 0 }.count, 0)
    }

    func testAChipOfAnotherSizeOrBandCountIsNamed() throws {
        let f = try TileFixture("chips-bad")
        defer { f.remove() }
        try chip(f, "A/1.tif", id: 1)
        try chip(f, "B/2.tif", id: 2, size: 16)
        try chip(f, "C/3.tif", id: 3, bands: 4)
        let bad2 = f.root + "/B/2.tif", bad3 = f.root + "/C/3.tif"
        XCTAssertThrowsError(try ChipFolderDataset(root: f.root, validate: true)) { e in
            XCTAssertTrue("\(e)".contains(bad2) && "\(e)".contains("16×16"), "\(e)")
        }
        let d = try ChipFolderDataset(root: f.root)
        XCTAssertNoThrow(try d.batch([0]))
        XCTAssertThrowsError(try d.batch([0, 2])) { e in
            XCTAssertTrue("\(e)".contains(bad3) && "\(e)".contains("4 bands"), "\(e)")
        }
        XCTAssertThrowsError(try ChipFolderDataset(root: f.root + "/nowhere")) { e in
            XCTAssertTrue("\(e)".contains("nowhere"), "\(e)")
        }
    }
}
