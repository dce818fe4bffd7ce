import XCTest
@testable import DataIO

/// Class-map colours: the ISPRS benchmark's six classes get its colours (white impervious
/// surfaces, blue buildings, cyan low vegetation, green trees, yellow cars, red clutter), in the
/// model's class order; any other list gets the readable default palette.
final class ClassPaletteTests: XCTestCase {
    func testISPRSClassesGetTheBenchmarkColoursInTheModelsOrder() {
        let t = ClassPalette.table(names: ["Tree", "Impervious_surfaces", "car", "Low vegetation", "Building", "Clutter/background"])
        XCTAssertEqual(t.count, 256)
        let rgba = t.prefix(6).map { [$0.0, $0.1, $0.2, $0.3] }
        XCTAssertEqual(rgba, [[0, 255, 0, 255], [255, 255, 255, 255], [255, 255, 0, 255],
                              [0, 255, 255, 255], [0, 0, 255, 255], [255, 0, 0, 255]])
        XCTAssertEqual([t[6].3, t[255].3], [0, 0])  // no class 6; NODATA transparent
    }

    func testOtherClassListsGetTheDefaultPalette() {
        let names = ["tree", "building", "car", "low vegetation", "impervious surfaces", "water"]
        let t = ClassPalette.table(names: names), d = ClassPalette.table(classes: 6)
        XCTAssertEqual(t.map { [$0.0, $0.1, $0.2, $0.3] }, d.map { [$0.0, $0.1, $0.2, $0.3] })
        XCTAssertEqual([t[0].0, t[0].1, t[0].2], [ClassPalette.base[0].0, ClassPalette.base[0].1, ClassPalette.base[0].2])
    }
}
