import DataIO
import Engine
import Models
import TestSupport
import XCTest
@testable import Experiment
@testable import Prediction

/// The one record of a final weights file: what the trainer writes is what predict reads, class
/// names and colours included, numbers exact.
final class WeightsMetadataTests: XCTestCase {
    /// Values whose 17-digit texts JSONSerialization on Linux reads one ulp off.
    let awkward = [2247.0 / 5696.0, 0.1, 1.0 / 3.0, 1234.5678901234567]

    func metadata(names: [String]?, colors: [String]?) -> WeightsMetadata {
        var s = BandStatistics(bands: 4)
        s.count = [10, 10, 10, 10]
        s.mean = awkward
        s.m2 = awkward.map { $0 * $0 * 10 }
        return WeightsMetadata(spec: ["arch": "mlp", "bands": 4, "size": 2, "hidden": [3], "classes": 2], dataKind: "tiles", classes: 2,
                               classNames: names, classColors: colors, sample: [4, 2, 2], window: 2, labels: "hard",
                               resampling: .bilinear, resolution: 10, bands: ["B02", "B03", "B04", "B08"], modality: nil,
                               maskAnyDate: true, normalization: .statistics(s))
    }

    func write(_ m: WeightsMetadata) throws -> String {
        let store = try ModelSpec(m.spec).build(input: [4, 2, 2]).plan().parameters
        return try FinalWeights.write(store, model: "m", runDir: try scratch(), attributes: try m.attributes())
    }

    func testRoundTripThroughAWeightsFileIsExact() throws {
        let written = metadata(names: ["water", "forest"], colors: ["#0064c8", "#006400"])
        let read = try WeightsMetadata(path: try write(written))
        XCTAssertEqual(read.arch, "mlp")
        XCTAssertEqual(read.classNames, ["water", "forest"])
        XCTAssertEqual(read.classColors, ["#0064c8", "#006400"])
        XCTAssertEqual(read.bands, written.bands)
        XCTAssertEqual(read.sample, [4, 2, 2])
        XCTAssertEqual(read.resolution, 10)
        XCTAssertEqual(read.labels, "hard")
        guard case .statistics(let s) = read.normalization else { return XCTFail("\(read.normalization)") }
        // The means go through the file's JSON text and come back bit for bit.
        XCTAssertEqual(s.mean.map(\.bitPattern), awkward.map(\.bitPattern))
        // std is written, m2 rebuilt as std²: equal within rounding of the square and its root.
        for (a, b) in zip(s.std, awkward) { XCTAssertEqual(a, b, accuracy: 1e-15 * b) }
    }

    func testPredictNamesAndColoursClassesAsTrainingRecordedThem() throws {
        let path = try write(metadata(names: ["water", "forest"], colors: ["#0064c8", "#006400"]))
        let model = try PredictionModel(path: path)
        XCTAssertEqual(model.classNames(table: nil), ["water", "forest"])
        let t = model.palette(names: ["water", "forest"])
        XCTAssertEqual([t[0].0, t[0].1, t[0].2, t[0].3], [0, 100, 200, 255])
        XCTAssertEqual([t[1].0, t[1].1, t[1].2, t[1].3], [0, 100, 0, 255])
        // A tile's own class table wins; other names get the palette's colours.
        let table = ClassTable(values: [1, 2], names: ["sea", "wood"], nodata: [])
        XCTAssertEqual(model.classNames(table: table), ["sea", "wood"])
        XCTAssertEqual(model.palette(names: ["sea", "wood"]).prefix(2).map { [$0.0, $0.1, $0.2] },
                       ClassPalette.table(names: ["sea", "wood"]).prefix(2).map { [$0.0, $0.1, $0.2] })
        // A file without names (written before they were recorded, or unnamed data) numbers them.
        let bare = try PredictionModel(path: try write(metadata(names: nil, colors: nil)))
        XCTAssertEqual(bare.classNames(table: nil), ["class 0", "class 1"])
    }

    func testClassNamesOfTheWrongCountAreRefusedNamingTheAttribute() throws {
        var attrs = try metadata(names: nil, colors: nil).attributes()
        attrs["rstrain_data"] = attrs["rstrain_data"]!.replacingOccurrences(of: "\"classes\":2", with: "\"class_names\":[\"a\"],\"classes\":2")
        XCTAssertThrowsError(try WeightsMetadata(attributes: attrs, path: "w.h5")) { e in
            XCTAssertTrue("\(e)".contains("w.h5") && "\(e)".contains("rstrain_data") && "\(e)".contains("class_names"), "\(e)")
        }
    }
}
