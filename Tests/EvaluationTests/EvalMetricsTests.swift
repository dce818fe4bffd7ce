import DataIO
import Foundation
import TestSupport
import XCTest
@testable import Evaluation

/// The figures on the hand-made 4×4 pair (EvalFixture), worked out by hand:
///
/// Excluded: (y0,x3) reference 9 ∉ 0..<3, (y3,x3) reference NODATA, (y3,x0) prediction NODATA → 3;
/// 13 pixels counted. Confusion (rows reference, columns predicted):
///     ref 0: 3 1 0   (row sum 4)
///     ref 1: 1 4 0   (row sum 5)
///     ref 2: 0 1 3   (row sum 4)
///     column sums 4 6 3; diagonal 10.
/// OA = 10/13. pe = (4·4 + 5·6 + 4·3)/169 = 58/169; kappa = (130/169 − 58/169)/(111/169) = 72/111.
/// class 0: P 3/4, R 3/4, F1 3/4,  IoU 3/(4+4−3) = 3/5
/// class 1: P 4/6, R 4/5, F1 8/11, IoU 4/(5+6−4) = 4/7
/// class 2: P 3/3, R 3/4, F1 6/7,  IoU 3/(4+3−3) = 3/4
/// mIoU = (3/5 + 4/7 + 3/4)/3 = 269/420; mean F1 = (3/4 + 8/11 + 6/7)/3 = 719/924.
///
/// Boundaries (counted pixels with a counted 4-neighbour of another class), as (y,x):
///   reference: (0,1) (0,2) (1,0) (1,1) (1,2) (2,0) (2,1) (2,2) (3,2)          → 9
///     ((1,3), (2,3) and (3,1) touch only their own class or excluded pixels)
///   prediction: the same nine and (3,1) (its right neighbour (3,2) is 1)       → 10
/// Tolerance 0: precision 9/10, recall 9/9, F1 = 2·0.9/1.9 = 18/19.
/// Tolerance 1: (3,1) is next to the reference boundary pixel (3,2): P = R = F1 = 1.
final class EvalMetricsTests: ScratchTestCase {
    func evaluate(tolerance: Int, classes: Int? = 3) throws -> ClassificationEvaluation {
        let (p, r) = try EvalFixture.write(to: dir)
        return try ClassificationEvaluation(prediction: p, reference: r, classes: classes, boundaryTolerance: tolerance)
    }

    func testConfusionAccuracyKappaAndPerClassFiguresMatchTheHandCount() throws {
        let e = try evaluate(tolerance: 0)
        let m = e.metrics
        XCTAssertEqual(m.classes, 3)
        XCTAssertEqual(m.confusion, [3, 1, 0,
                                     1, 4, 0,
                                     0, 1, 3])
        XCTAssertEqual(m.pixels, 13)
        XCTAssertEqual(e.excludedPixels, 3)
        XCTAssertEqual(try XCTUnwrap(m.overallAccuracy), 10.0 / 13, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.kappa), 72.0 / 111, accuracy: 1e-12)
        let expected: [(p: Double, r: Double, f1: Double, iou: Double)] = [
            (3.0 / 4, 3.0 / 4, 3.0 / 4, 3.0 / 5),
            (4.0 / 6, 4.0 / 5, 8.0 / 11, 4.0 / 7),
            (1, 3.0 / 4, 6.0 / 7, 3.0 / 4),
        ]
        for (c, x) in expected.enumerated() {
            let f = m.perClass[c]
            XCTAssertEqual(try XCTUnwrap(f.precision), x.p, accuracy: 1e-12, "class \(c)")
            XCTAssertEqual(try XCTUnwrap(f.recall), x.r, accuracy: 1e-12, "class \(c)")
            XCTAssertEqual(try XCTUnwrap(f.f1), x.f1, accuracy: 1e-12, "class \(c)")
            XCTAssertEqual(try XCTUnwrap(f.iou), x.iou, accuracy: 1e-12, "class \(c)")
        }
        XCTAssertEqual(m.perClass.map(\.referencePixels), [4, 5, 4])
        XCTAssertEqual(m.perClass.map(\.predictedPixels), [4, 6, 3])
        XCTAssertEqual(try XCTUnwrap(m.meanIoU), 269.0 / 420, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.meanF1), 719.0 / 924, accuracy: 1e-12)
        // Row-normalised: row 1 is 1/5, 4/5, 0.
        XCTAssertEqual(m.normalizedConfusion[3], 0.2, accuracy: 1e-12)
        XCTAssertEqual(m.normalizedConfusion[4], 0.8, accuracy: 1e-12)
    }

    func testBoundaryF1AtToleranceZeroAndOne() throws {
        let b0 = try evaluate(tolerance: 0).boundary
        XCTAssertEqual(b0.referenceBoundaryPixels, 9)
        XCTAssertEqual(b0.predictedBoundaryPixels, 10)
        XCTAssertEqual(try XCTUnwrap(b0.precision), 0.9, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(b0.recall), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(b0.f1), 18.0 / 19, accuracy: 1e-12)
        let b1 = try evaluate(tolerance: 1).boundary
        XCTAssertEqual(try XCTUnwrap(b1.precision), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(b1.recall), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(b1.f1), 1, accuracy: 1e-12)
    }

    /// A vertical edge shifted by two columns on a 6×6 grid: reference classes 0 | 1 between
    /// columns 1 and 2 (boundary columns 1, 2), prediction between 3 and 4 (boundary columns
    /// 3, 4), 6 pixels per column. t=0: nothing matches, F1 0. t=1: prediction column 3 is next
    /// to reference column 2 and vice versa, column 4 / 1 are not: P = R = 6/12, F1 1/2.
    /// t=2: every boundary pixel is within 2 columns of the other map's: F1 1.
    func testBoundaryToleranceIsChebyshevDistance() {
        let ref = (0..<36).map { Int32($0 % 6 < 2 ? 0 : 1) }
        let pred = (0..<36).map { Int32($0 % 6 < 4 ? 0 : 1) }
        let f1 = (0...2).map { BoundaryF1(prediction: pred, reference: ref, width: 6, height: 6, tolerance: $0) }
        XCTAssertEqual(f1.map(\.predictedBoundaryPixels), [12, 12, 12])
        XCTAssertEqual(f1.map(\.referenceBoundaryPixels), [12, 12, 12])
        XCTAssertEqual(f1.map { $0.f1! }, [0, 0.5, 1])
        XCTAssertEqual(f1[1].precision, 0.5)
        XCTAssertEqual(f1[1].recall, 0.5)
        // Transposed (a horizontal edge) the same figures: the filter is square.
        let refT = (0..<36).map { ref[($0 % 6) * 6 + $0 / 6] }, predT = (0..<36).map { pred[($0 % 6) * 6 + $0 / 6] }
        XCTAssertEqual((0...2).map { BoundaryF1(prediction: predT, reference: refT, width: 6, height: 6, tolerance: $0).f1! }, [0, 0.5, 1])
    }

    /// Without --classes, K is one more than the largest label: the reference's 9 then counts
    /// (as class 9, predicted 1) and classes 3…8, absent from both maps, are left out of the mean.
    func testClassCountDefaultsToLargestLabelAndAbsentClassesLeaveTheMean() throws {
        let m = try evaluate(tolerance: 0, classes: nil).metrics
        XCTAssertEqual(m.classes, 10)
        XCTAssertEqual(m.pixels, 14)
        XCTAssertEqual(m.confusion[9 * 10 + 1], 1)
        XCTAssertNil(m.perClass[5].iou)
        XCTAssertNil(m.perClass[5].precision)
        // IoU: class 0 3/5, class 1 4/8 (one more predicted pixel), class 2 3/4, class 9 0 → mean over 4.
        XCTAssertEqual(try XCTUnwrap(m.meanIoU), (3.0 / 5 + 4.0 / 8 + 3.0 / 4 + 0) / 4, accuracy: 1e-12)
    }

    func testNodataOptionExcludesAValueInBothFiles() throws {
        let (p, r) = try EvalFixture.write(to: dir)
        // 2 as NODATA: the reference's 2s (4 counted before) and the prediction's 2s go too.
        let m = try ClassificationEvaluation(prediction: p, reference: r, classes: 3, noData: 2).metrics
        // Left: (0,0)(0,1)(1,0) 0→0, (1,1) 0→1, (0,2) 1→0, (1,2)(1,3)(2,2)(2,3) 1→1; (3,2) ref 2 gone.
        XCTAssertEqual(m.confusion, [3, 1, 0, 1, 4, 0, 0, 0, 0])
        XCTAssertNil(m.perClass[2].iou)
    }

    func testMismatchedGridsAreRefusedNamingBothFiles() throws {
        let (p, _) = try EvalFixture.write(to: dir)
        let shifted = dir + "/shifted.tif", wide = dir + "/wide.tif"
        var gt = EvalFixture.geoTransform
        gt[0] += 10
        try GeoTIFF.write(shifted, width: 4, height: 4, bands: 1, data: EvalFixture.reference, geoTransform: gt, tileSize: 16)
        try GeoTIFF.write(wide, width: 5, height: 4, bands: 1, data: [UInt8](repeating: 0, count: 20), geoTransform: EvalFixture.geoTransform, tileSize: 16)
        for other in [shifted, wide] {
            XCTAssertThrowsError(try ClassificationEvaluation(prediction: p, reference: other)) { e in
                let text = String(describing: e)
                XCTAssertTrue(text.contains(p) && text.contains(other) && text.contains("grid"), text)
            }
        }
    }

    func testPredictedClassOutsideTheRangeIsAnError() throws {
        let (p, r) = try EvalFixture.write(to: dir)
        XCTAssertThrowsError(try ClassificationEvaluation(prediction: p, reference: r, classes: 1)) { e in
            let text = String(describing: e)
            XCTAssertTrue(text.contains(p) && text.contains("outside 0..<1"), text)
        }
    }
}

