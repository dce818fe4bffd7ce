@testable import DataIO
import Engine
import Foundation
import TestSupport
import XCTest

final class NormalizationTests: XCTestCase {
    /// Values near 1e4 (a DN scale) with a small spread; every 5th pixel of odd samples masked,
    /// and band 1 of sample 3 set to 65535 on masked pixels (a NODATA that must not count).
    func dataset() -> FakeDataset {
        FakeDataset(count: 7, channels: 3, size: 5,
                    value: { i, b, p in Float(10_000 + 1000 * b) + Float((i * 31 + p * 7 + b) % 17) * 0.25 },
                    masked: { i, p in i % 2 == 1 && p % 5 == 0 })
    }

    /// The plain two-pass mean and population std over the valid pixels, in Double.
    func reference(_ d: FakeDataset, _ samples: Range<Int>) -> (mean: [Double], std: [Double], n: [Double]) {
        var mean = [Double](), std = [Double](), ns = [Double]()
        for b in 0..<d.shapes.channels {
            var xs: [Double] = []
            for i in samples { for p in 0..<d.shapes.mask.count where !d.masked(i, p) { xs.append(Double(d.value(i, b, p))) } }
            let m = xs.reduce(0, +) / Double(xs.count)
            mean.append(m)
            std.append((xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count)).squareRoot())
            ns.append(Double(xs.count))
        }
        return (mean, std, ns)
    }

    func testStatisticsExcludeMaskedPixelsAndMatchATwoPassReference() throws {
        let d = dataset()
        let st = try BandStatistics.compute(d, batchSize: 3)
        let ref = reference(d, 0..<7)
        XCTAssertEqual(st.count, ref.n)
        XCTAssertEqual(st.count[0], Double(7 * 25 - 3 * 5))
        for b in 0..<3 {
            XCTAssertEqual(st.mean[b], ref.mean[b], accuracy: 1e-9)
            XCTAssertEqual(st.std[b], ref.std[b], accuracy: 1e-9)
        }
    }

    func testShardStatisticsMergeAndAllReduceSumsGiveTheWhole() throws {
        let d = dataset()
        let whole = try BandStatistics.compute(d)
        let a = try BandStatistics.compute(d, indices: [0, 1, 2])
        let b = try BandStatistics.compute(d, indices: [3, 4, 5, 6])
        var merged = a
        merged.merge(b)
        for k in 0..<3 {
            XCTAssertEqual(merged.count[k], whole.count[k])
            XCTAssertEqual(merged.mean[k], whole.mean[k], accuracy: 1e-9)
            XCTAssertEqual(merged.m2[k], whole.m2[k], accuracy: 1e-6 * whole.m2[k])
        }
        // What an MPI_SUM all-reduce would do: sums about a shared shift, added element-wise.
        let shift = a.mean
        let summed = zip(a.sums(shift: shift), b.sums(shift: shift)).map { $0 + $1 }
        let reduced = BandStatistics(sums: summed, shift: shift)
        for k in 0..<3 {
            XCTAssertEqual(reduced.mean[k], whole.mean[k], accuracy: 1e-9)
            XCTAssertEqual(reduced.std[k], whole.std[k], accuracy: 1e-9)
        }
        // An empty shard changes nothing.
        var withEmpty = whole
        withEmpty.merge(BandStatistics(bands: 3))
        XCTAssertEqual(withEmpty, whole)
    }

    func testJSONRoundTripAndErrorsNameTheFile() throws {
        let path = try scratch() + "/stats.json"
        var st = try BandStatistics.compute(dataset())
        st.bandNames = ["B02", "B03", "B04"]
        try st.write(to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.contains("\"std\"") && text.contains("B03"), text)
        XCTAssertEqual(try BandStatistics.read(from: path), st)
        try "{\"count\": [1], \"mean\": [1, 2], \"m2\": [0]}".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BandStatistics.read(from: path)) { XCTAssertTrue("\($0)".contains(path), "\($0)") }
        XCTAssertThrowsError(try BandStatistics.read(from: path + ".missing")) { XCTAssertTrue("\($0)".contains(".missing"), "\($0)") }
    }

    /// normalization.json is read back bit for bit, also for values whose 17-digit texts some JSON
    /// readers round one ulp off (0.3944873595505618 = 2247/5696).
    func testAwkwardValuesRoundTripBitForBit() throws {
        let path = try scratch() + "/stats.json"
        let awkward = [2247.0 / 5696.0, 0.1, 1.0 / 3.0, 5e-324, 1.7976931348623157e308, 123456.789e-20]
        var st = BandStatistics(bands: awkward.count)
        (st.count, st.mean, st.m2) = (awkward, awkward.reversed(), awkward.map { $0 / 7 })
        try st.write(to: path)
        let back = try BandStatistics.read(from: path)
        XCTAssertEqual(back.count.map(\.bitPattern), st.count.map(\.bitPattern))
        XCTAssertEqual(back.mean.map(\.bitPattern), st.mean.map(\.bitPattern))
        XCTAssertEqual(back.m2.map(\.bitPattern), st.m2.map(\.bitPattern))
    }

    func testApplyingStatisticsGivesZeroMeanUnitStdAndLeavesMaskedPixelsZero() throws {
        let d = dataset()
        let st = try BandStatistics.compute(d)
        let batch = try d.batch(Array(0..<7))
        Normalization.statistics(st).apply(to: batch)
        let after = BandStatistics.compute(batch: batch)
        for b in 0..<3 {
            XCTAssertEqual(after.mean[b], 0, accuracy: 1e-4)
            XCTAssertEqual(after.std[b], 1, accuracy: 1e-4)
        }
        XCTAssertEqual(batch.image.data[1 * 75 + 0], 0, "sample 1 pixel 0 is masked")

        let r = try d.batch([2])
        Normalization.reflectance().apply(to: r)
        XCTAssertEqual(r.image.data[25 + 3], d.value(2, 1, 3) / 10_000, accuracy: 1e-6)
        let a = try d.batch([2])
        Normalization.affine(scale: [1, 2, 3], offset: [0, 0, -1]).apply(to: a)
        XCTAssertEqual(a.image.data[50 + 3], d.value(2, 2, 3) * 3 - 1)
        // Normalisations are Codable (a config can hold one).
        let n = Normalization.statistics(st)
        XCTAssertEqual(try JSONDecoder().decode(Normalization.self, from: JSONEncoder().encode(n)), n)
    }
}

extension BandStatistics {
    static func compute(batch: SampleBatch) -> BandStatistics {
        var s = BandStatistics(bands: batch.shapes.channels)
        s.add(batch)
        return s
    }
}
