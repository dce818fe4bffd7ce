import DataIO
import Engine
import Foundation
import TestSupport
import XCTest
@testable import Evaluation

/// Eval reads scenes a strip of rows at a time. Every strip size must give exactly the figures
/// of the whole scene at once: the hand-counted 4×4 pair one row per strip, and a random
/// 37×23 map of blobs against a perturbed copy, checked against the whole-array BoundaryF1 and
/// a confusion matrix counted here, for strips of 1, 2, 5 and all rows and tolerances 0–3.
final class EvalStreamingTests: ScratchTestCase {
    func testOneRowStripsGiveTheHandCountedFigures() throws {
        let (p, r) = try EvalFixture.write(to: dir)
        for t in 0...1 {
            let e = try ClassificationEvaluation(prediction: p, reference: r, classes: 3, boundaryTolerance: t, stripRows: 1)
            XCTAssertEqual(e.metrics.confusion, [3, 1, 0, 1, 4, 0, 0, 1, 3])
            XCTAssertEqual(e.excludedPixels, 3)
            XCTAssertEqual(try XCTUnwrap(e.boundary.f1), t == 0 ? 18.0 / 19 : 1, accuracy: 1e-12)
        }
    }

    func testAnyStripSizeEqualsTheWholeScene() throws {
        let (w, h, k) = (37, 23, 4)
        var rng = SplitMix64(seed: 7)
        // Blocky reference (3×3 cells), prediction = reference with 15% of pixels changed, and
        // a few NODATA pixels (255) in each.
        var ref = [UInt8](repeating: 0, count: w * h), pred = ref
        let cells = (0..<((w / 3 + 1) * (h / 3 + 1))).map { _ in UInt8(rng.next() % UInt64(k)) }
        for y in 0..<h { for x in 0..<w { ref[y * w + x] = cells[(y / 3) * (w / 3 + 1) + x / 3] } }
        for i in 0..<(w * h) {
            pred[i] = rng.next() % 100 < 15 ? UInt8(rng.next() % UInt64(k)) : ref[i]
            if rng.next() % 50 == 0 { pred[i] = 255 }
            if rng.next() % 50 == 0 { ref[i] = 255 }
        }
        let gt = [0.0, 10, 0, 0, 0, -10]
        let pp = dir + "/pred.tif", rp = dir + "/ref.tif"
        try GeoTIFF.write(pp, width: w, height: h, bands: 1, data: pred, geoTransform: gt, noData: 255, tileSize: 16)
        try GeoTIFF.write(rp, width: w, height: h, bands: 1, data: ref, geoTransform: gt, noData: 255, tileSize: 16)
        // The whole-scene figures, from arrays built here.
        let pa = zip(pred, ref).map { $0 == 255 || $1 == 255 ? Int32(-1) : Int32($0) }
        let ra = zip(pred, ref).map { $0 == 255 || $1 == 255 ? Int32(-1) : Int32($1) }
        var confusion = [Int](repeating: 0, count: k * k)
        for i in 0..<pa.count where pa[i] >= 0 { confusion[Int(ra[i]) * k + Int(pa[i])] += 1 }
        XCTAssertGreaterThan(pa.filter { $0 < 0 }.count, 0)
        for t in 0...3 {
            let whole = BoundaryF1(prediction: pa, reference: ra, width: w, height: h, tolerance: t)
            XCTAssertGreaterThan(whole.predictedBoundaryPixels, 50)
            for strip in [1, 2, 5, h] {
                let e = try ClassificationEvaluation(prediction: pp, reference: rp, boundaryTolerance: t, stripRows: strip)
                XCTAssertEqual(e.metrics.classes, k)
                XCTAssertEqual(e.metrics.confusion, confusion, "strip \(strip)")
                XCTAssertEqual(e.excludedPixels, pa.filter { $0 < 0 }.count)
                XCTAssertEqual(e.boundary.predictedBoundaryPixels, whole.predictedBoundaryPixels, "tolerance \(t), strip \(strip)")
                XCTAssertEqual(e.boundary.referenceBoundaryPixels, whole.referenceBoundaryPixels, "tolerance \(t), strip \(strip)")
                XCTAssertEqual(e.boundary.precision, whole.precision, "tolerance \(t), strip \(strip)")
                XCTAssertEqual(e.boundary.recall, whole.recall, "tolerance \(t), strip \(strip)")
            }
        }
    }

    /// Strip-merged sums against the two-pass figures of the whole band, by hand: reference
    /// 1…12 (mean 6.5, SS_tot 143), prediction = reference + (1, −1, 2, 0, …) repeating.
    func testRegressionStripsMergeToTheWholeBandFigures() throws {
        let (w, h) = (3, 4)
        let t = (1...12).map(Float.init), d: [Float] = [1, -1, 2, 0]
        let p = t.enumerated().map { $1 + d[$0 % 4] }
        let gt = [0.0, 1, 0, 4, 0, -1]
        try GeoTIFF.write(dir + "/p.tif", width: w, height: h, bands: 1, data: p, geoTransform: gt, tileSize: 16)
        try GeoTIFF.write(dir + "/t.tif", width: w, height: h, bands: 1, data: t, geoTransform: gt, tileSize: 16)
        // SSE = 3·(1 + 1 + 4 + 0) = 18, SAE = 3·4 = 12 over 12 pixels.
        for strip in [1, 3, 4] {
            let b = try RegressionMetrics(prediction: dir + "/p.tif", reference: dir + "/t.tif", stripRows: strip).bands[0]
            XCTAssertEqual(b.pixels, 12)
            XCTAssertEqual(try XCTUnwrap(b.rmse), (18.0 / 12).squareRoot(), accuracy: 1e-12, "strip \(strip)")
            XCTAssertEqual(try XCTUnwrap(b.mae), 1, accuracy: 1e-12, "strip \(strip)")
            XCTAssertEqual(try XCTUnwrap(b.r2), 1 - 18.0 / 143, accuracy: 1e-12, "strip \(strip)")
        }
    }
}
