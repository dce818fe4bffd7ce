@testable import DataIO
import Engine
import Foundation
import XCTest

/// Bad input to the datasets (So2Sat HDF5, chip folders, tile windows read through the loader)
/// gives a `DataError` naming the file and what is wrong. The tile repository's own cases are
/// in `TilesErrorTests`; wrong So2Sat channel counts, missing datasets and row counts in
/// `So2SatDatasetTests`.
final class DatasetErrorTests: XCTestCase {
    var fx: TileFixture!
    override func setUpWithError() throws { fx = try TileFixture("dataset-errors") }
    override func tearDown() { fx.remove() }

    /// An HDF5 file at `root/name` holding `datasets` (name, shape), zero-filled.
    func h5(_ name: String, _ datasets: [(String, [Int])]) throws -> String {
        let path = fx.root + "/" + name
        let f = try HDF5File(path, mode: .create)
        for (d, shape) in datasets { try f.writeDataset(d, shape: shape, [Float](repeating: 0, count: shape.reduce(1, *))) }
        try f.close()
        return path
    }

    func testSo2SatFileMissingOrNotHDF5() throws {
        let missing = fx.root + "/nowhere/training.h5"
        assertDataError(file: missing, ["no such file"]) { _ = try So2SatDataset(path: missing) }
        let text = fx.root + "/training.h5"
        try Data("sen1 sen2 label, but as text".utf8).write(to: URL(fileURLWithPath: text))
        assertDataError(file: text, ["not an HDF5 file"]) { _ = try So2SatDataset(path: text) }
    }

    func testTruncatedSo2SatFile() throws {
        // A real synth shard cut short: HDF5 notices on open (end of file before the end of
        // its address space) or the read of the lost rows fails; either way the file is named.
        let src = try SynthFixtures.so2sat.get().report.shards[0].path
        let path = fx.root + "/cut.h5"
        try FileManager.default.copyItem(atPath: src, toPath: path)
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        XCTAssertGreaterThan(size, 1_000_000)
        XCTAssertEqual(truncate(path, off_t(size / 2)), 0)
        assertDataError(file: path, []) {
            let d = try So2SatDataset(path: path)
            _ = try d.batch(Array(0..<d.count))
        }
        do { _ = try So2SatDataset(path: path).batch(Array(0..<300)) } catch { print("truncated:", error) }
    }

    func testSo2SatShapesOtherThanTheLayout() throws {
        // label not N×K.
        let flat = try h5("flat-label.h5", [("sen1", [2, 4, 4, 8]), ("label", [34])])
        assertDataError(file: flat, ["dataset 'label'", "expected N×K"]) { _ = try So2SatDataset(path: flat, modality: .sen1) }
        // Patches that are not square; a rank-3 image dataset.
        let oblong = try h5("oblong.h5", [("sen1", [2, 4, 6, 8]), ("label", [2, 17])])
        assertDataError(file: oblong, ["dataset 'sen1'", "[2, 4, 6, 8]", "H = W"]) { _ = try So2SatDataset(path: oblong, modality: .sen1) }
        let rank3 = try h5("rank3.h5", [("sen2", [2, 16, 10]), ("label", [2, 17])])
        assertDataError(file: rank3, ["dataset 'sen2'", "N×H×W×10"]) { _ = try So2SatDataset(path: rank3, modality: .sen2) }
        // Sentinel-1 and Sentinel-2 patches of different sizes cannot be fused.
        let mixed = try h5("mixed.h5", [("sen1", [2, 4, 4, 8]), ("sen2", [2, 8, 8, 10]), ("label", [2, 17])])
        assertDataError(file: mixed, ["dataset 'sen2'", "8×8", "4×4"]) { _ = try So2SatDataset(path: mixed, modality: .both) }
        XCTAssertNoThrow(try So2SatDataset(path: mixed, modality: .sen2))
    }

    func testAChipThatIsNotATIFF() throws {
        try fx.raster("chips/A/1.tif", width: 8, height: 8, bands: 3) { _, _, _ in 1 }
        try fx.dir("chips/B")
        let bad = fx.root + "/chips/B/2.tif"
        try Data("not a chip".utf8).write(to: URL(fileURLWithPath: bad))
        assertDataError(file: bad, ["cannot open"]) { _ = try ChipFolderDataset(root: fx.root + "/chips", validate: true) }
        let d = try ChipFolderDataset(root: fx.root + "/chips")
        XCTAssertNoThrow(try d.batch([0]))
        assertDataError(file: bad, ["cannot open"]) { _ = try d.batch([1]) }
    }

    func testTargetThatDoesNotOverlapTheImage() throws {
        try fx.raster("t/image.tif", width: 16, height: 16) { _, _, _ in 1 }
        let target = try fx.raster("t/target.tif", width: 16, height: 16, x0: 400_000) { _, _, _ in 1 }
        assertDataError(file: target, ["does not overlap"]) { _ = try TileRepository(path: fx.root) }
    }

    func testAFileGoneAfterIndexingFailsTheLoaderNamingIt() throws {
        // The shard was indexed, then a band file went away (a disk unmounted, a file moved):
        // the loader's next batch throws naming it, never a zero-filled window.
        try fx.raster("t/B02.tif", width: 32, height: 32) { _, y, x in Float(y * 32 + x) }
        let b03 = try fx.raster("t/B03.tif", width: 32, height: 32) { _, y, x in Float(y * 32 + x) }
        let grid = try WindowGrid(try TileRepository(path: fx.root), options: .plain(window: 16))
        let d = try WindowDataset(grid: grid)
        try FileManager.default.removeItem(atPath: b03)
        let l = Loader(d, batchSize: 2, shuffle: false, workers: 2)
        assertDataError(file: b03, ["no such file"]) { _ = try l.next() }
        l.close()
    }
}
