@testable import DataIO
import Foundation
import XCTest

/// The class spectra (generated table vs the committed CSV, and whether they look like the
/// real thing), the season curves and the acquisition dates.
final class SynthSpectraTests: XCTestCase {
    /// scripts/data/class_spectra.csv, found from this file's place in the repository.
    static let csvPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/data/class_spectra.csv").path

    func testGeneratedTableAgreesWithTheCSV() throws {
        let text = try String(contentsOfFile: Self.csvPath, encoding: .utf8)
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        XCTAssertTrue(text.contains("earthlib") && text.contains("MIT"), "the CSV must say where its numbers come from")
        let header = lines[0].split(separator: ",").map(String.init)
        XCTAssertEqual(header, ["sensor", "kind", "value", "name", "state", "band", "center_um", "fwhm_um", "mean", "std", "spectra"])
        var checked = 0
        for line in lines.dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            let entry = try XCTUnwrap(ClassSpectraTable.entries.first { $0.sensor == f[0] && $0.kind == f[1] && $0.name == f[3] && $0.state == f[4] },
                                      "no table entry for \(line)")
            let bands = try XCTUnwrap(ClassSpectraTable.bands[f[0]])
            let b = try XCTUnwrap(bands.firstIndex(of: f[5]), "unknown band in \(line)")
            XCTAssertEqual(entry.mean[b], Float(f[8]), "\(line)")
            XCTAssertEqual(entry.std[b], Float(f[9]), "\(line)")
            XCTAssertEqual(ClassSpectraTable.centres[f[0]]![b], Float(f[6]), "\(line)")
            if f[1] == "class" {
                XCTAssertEqual(ClassSpectraTable.classes.first { $0.name == f[3] }?.value, UInt8(f[2]), "\(line)")
            }
            checked += 1
        }
        // Every table value appears in the CSV: one row per band of every entry.
        let expected = ClassSpectraTable.entries.reduce(0) { $0 + $1.mean.count }
        XCTAssertEqual(checked, expected)
        XCTAssertEqual(ClassSpectraTable.bands["sentinel2"]!.count, 10)
        XCTAssertEqual(ClassSpectraTable.bands["landsat"]!.count, 6)
    }

    func testClassSpectraLookLikeTheRealThing() {
        for s in [ClassSpectra.sentinel2, ClassSpectra.landsat] {
            let red = s.band(s.sensor == "sentinel2" ? "B04" : "B4"), nir = s.band(s.sensor == "sentinel2" ? "B08" : "B5")
            let green = s.band(s.sensor == "sentinel2" ? "B03" : "B3"), swir = s.band(s.sensor == "sentinel2" ? "B11" : "B6")
            // Green vegetation at its peak: NIR far above red (NDVI > 0.6).
            for v in [ClassSpectra.forest, ClassSpectra.cropland, ClassSpectra.grassland] {
                let p = s.peakMean[Int(v)]
                XCTAssertGreaterThan((p[nir] - p[red]) / (p[nir] + p[red]), 0.6, "\(s.sensor) class \(v)")
                // ... and greener at the peak than dormant.
                let d = s.dormantMean[Int(v)]
                XCTAssertGreaterThan(p[nir] / p[red], d[nir] / d[red], "\(s.sensor) class \(v)")
            }
            // Water: dark in the visible (0.02–0.06), near 0 in NIR and SWIR, darkest of all in NIR.
            let w = s.peakMean[Int(ClassSpectra.water)]
            XCTAssertTrue((0.02...0.06).contains(w[green]), "\(s.sensor) water green \(w[green])")
            XCTAssertLessThan(w[nir], 0.01)
            XCTAssertLessThan(w[swir], 0.01)
            for c in ClassSpectra.classes where c.value != ClassSpectra.water {
                XCTAssertLessThan(w[nir], s.peakMean[Int(c.value)][nir], "\(s.sensor): \(c.name) darker than water in NIR")
                XCTAssertLessThan(w[nir], s.dormantMean[Int(c.value)][nir], "\(s.sensor): \(c.name) darker than water in NIR")
            }
            // Bare soil and sand: brighter than vegetation in red and SWIR, no red edge.
            let soil = s.peakMean[Int(ClassSpectra.bareSoil)], forest = s.peakMean[Int(ClassSpectra.forest)]
            XCTAssertGreaterThan(soil[red], 3 * forest[red])
            XCTAssertGreaterThan(soil[swir], forest[swir])
            XCTAssertLessThan(soil[nir] / soil[red], 2)
            // Within-class variation is there, and smaller than the class means.
            for c in ClassSpectra.classes {
                for b in s.bands.indices {
                    XCTAssertGreaterThan(s.peakStd[Int(c.value)][b], 0, "\(s.sensor) \(c.name)")
                }
            }
        }
    }

    func testSeasonCurves() {
        // A deciduous stand and a crop field are green in summer, not in winter; NDVI follows.
        var deciduous: UInt64 = 0
        while Phenology.curve(class: ClassSpectra.forest, cell: deciduous).base > 0.5 { deciduous += 1 }
        let forest = Phenology.curve(class: ClassSpectra.forest, cell: deciduous)
        XCTAssertGreaterThan(forest.greenness(dayOfYear: 190), 0.9)
        XCTAssertLessThan(forest.greenness(dayOfYear: 20), 0.3)
        let s = ClassSpectra.sentinel2
        func ndvi(_ v: UInt8, _ g: Float) -> Float {
            let m = s.mean(class: v, greenness: g)
            return (m[s.band("B08")] - m[s.band("B04")]) / (m[s.band("B08")] + m[s.band("B04")])
        }
        XCTAssertGreaterThan(ndvi(ClassSpectra.cropland, 1), ndvi(ClassSpectra.cropland, 0) + 0.5)
        // Every crop type has a season: green at some point, bare at another.
        for (name, c) in Phenology.crops where name != "ley / fallow" {
            let g = stride(from: 1, through: 365, by: 5).map { c.greenness(dayOfYear: Float($0)) }
            XCTAssertGreaterThan(g.max()!, 0.9, name)
            XCTAssertLessThan(g.min()!, 0.1, name)
        }
        XCTAssertEqual(Phenology.curve(class: ClassSpectra.water, cell: 5).greenness(dayOfYear: 100), 1)
    }

    func testDates() {
        let d = CalendarDate(year: 2020, month: 2, day: 29)
        XCTAssertEqual(CalendarDate(daysSinceEpoch: d.daysSinceEpoch), d)
        XCTAssertEqual(d.description, "2020-02-29")
        XCTAssertEqual(d.dayOfYear, 60)
        XCTAssertEqual(CalendarDate(daysSinceEpoch: 0).description, "1970-01-01")
        let one = Phenology.dates(count: 1, revisit: 5, key: 3)
        XCTAssertEqual(one.count, 1)
        XCTAssertTrue((6...8).contains(one[0].month), "a single date is in summer: \(one[0])")
        let six = Phenology.dates(count: 6, revisit: 5, key: 3)
        XCTAssertEqual(six, six.sorted())
        XCTAssertEqual(Set(six.map(\.description)).count, 6)
        for (a, b) in zip(six, six.dropFirst()) { XCTAssertEqual((b.daysSinceEpoch - a.daysSinceEpoch) % 5, 0) }
        XCTAssertLessThan(six.first!.month, 6)
        XCTAssertGreaterThan(six.last!.month, 8)
    }

    func testNoiseIsSmoothAndDeterministic() {
        // Neighbouring points of a smooth field differ little; the same key gives the same field.
        var maxStep: Float = 0
        for i in 0..<1000 {
            let x = Double(i) * 0.01
            maxStep = max(maxStep, abs(Noise.fbm(9, x + 0.01, 3.3, octaves: 3) - Noise.fbm(9, x, 3.3, octaves: 3)))
        }
        XCTAssertLessThan(maxStep, 0.05)
        XCTAssertEqual(Noise.fbm(9, 12.5, -3.25, octaves: 4), Noise.fbm(9, 12.5, -3.25, octaves: 4))
        XCTAssertNotEqual(Noise.fbm(9, 12.5, -3.25, octaves: 4), Noise.fbm(10, 12.5, -3.25, octaves: 4))
        // Quantiles: about that fraction of the plane lies below them.
        let q = Noise.fbmQuantile(octaves: 3, 0.9)
        var below = 0
        for j in 0..<100 { for i in 0..<100 where Noise.fbm(77, Double(i) * 1.37, Double(j) * 1.41, octaves: 3) < q { below += 1 } }
        XCTAssertEqual(Double(below) / 10_000, 0.9, accuracy: 0.04)
    }
}
