import Engine
import Foundation

/// Per-band count, mean and M2 (the sum of squared deviations from the mean) of the valid
/// pixels (mask ≠ 0) of a dataset, accumulated in Double.
///
/// Each batch's band values are reduced exactly (a two-pass mean and M2 over the batch), then
/// merged with Chan et al.'s pairwise formula, which is numerically stable:
///
///     n = nA + nB,  δ = meanB − meanA,
///     mean = meanA + δ·nB/n,
///     M2 = M2A + M2B + δ²·nA·nB/n.
///
/// `merge` applies it to statistics from several shards. For an all-reduce that can only sum
/// (MPI_SUM), each rank sends `sums(shift:)` = (n, Σ(x−s), Σ(x−s)²) per band about a shift `s`
/// every rank shares (e.g. rank 0's means, broadcast first); `init(sums:shift:)` rebuilds
/// mean = s + Σ(x−s)/n and M2 = Σ(x−s)² − (Σ(x−s))²/n. With s near the mean the cancellation
/// in M2 is small. Variance = M2/n (population), std = √variance.
public struct BandStatistics: Codable, Equatable, Sendable {
    public var bandNames: [String]?
    public var count: [Double]
    public var mean: [Double]
    public var m2: [Double]

    public init(bands: Int, bandNames: [String]? = nil) {
        self.bandNames = bandNames
        count = [Double](repeating: 0, count: bands)
        mean = count
        m2 = count
    }

    public var bands: Int { count.count }
    public var variance: [Double] { zip(m2, count).map { $1 > 0 ? $0 / $1 : 0 } }
    public var std: [Double] { variance.map { $0.squareRoot() } }

    /// Adds band `b`'s (n, mean, M2) to this one's (Chan's merge).
    public mutating func merge(band b: Int, count nB: Double, mean mB: Double, m2 m2B: Double) {
        guard nB > 0 else { return }
        let nA = count[b], n = nA + nB
        let delta = mB - mean[b]
        mean[b] += delta * nB / n
        m2[b] += m2B + delta * delta * nA * nB / n
        count[b] = n
    }

    /// Merges another shard's statistics into these.
    public mutating func merge(_ other: BandStatistics) {
        precondition(other.bands == bands, "merging statistics of \(other.bands) bands into \(bands)")
        for b in 0..<bands { merge(band: b, count: other.count[b], mean: other.mean[b], m2: other.m2[b]) }
    }

    /// Adds the valid values of rows 0..<batch.count of `batch`: pixels with mask ≠ 0 (under a
    /// date mask, the dates a pixel has).
    public mutating func add(_ batch: SampleBatch) {
        let c = batch.shapes.channels
        precondition(c == bands, "a batch of \(c) bands into statistics of \(bands)")
        let per = batch.shapes.image.count / c
        for b in 0..<c {
            var n = 0.0, s = 0.0
            for i in 0..<batch.count {
                let x = batch.imageRow(i) + b * per, (m, hw) = batch.valueMask(i)
                for q in 0..<per where m[q % hw] != 0 { n += 1; s += Double(x[q]) }
            }
            guard n > 0 else { continue }
            let mu = s / n
            var ss = 0.0
            for i in 0..<batch.count {
                let x = batch.imageRow(i) + b * per, (m, hw) = batch.valueMask(i)
                for q in 0..<per where m[q % hw] != 0 { let d = Double(x[q]) - mu; ss += d * d }
            }
            merge(band: b, count: n, mean: mu, m2: ss)
        }
    }

    /// Statistics of `dataset`'s samples (all, or `indices`), read `batchSize` at a time.
    public static func compute(_ dataset: SampleDataset, indices: [Int]? = nil, batchSize: Int = 64,
                               bandNames: [String]? = nil) throws -> BandStatistics {
        var st = BandStatistics(bands: dataset.shapes.channels, bandNames: bandNames)
        let reader = try dataset.makeReader()
        let batch = SampleBatch(shapes: dataset.shapes, capacity: batchSize)
        let all = indices ?? Array(0..<dataset.count)
        for start in stride(from: 0, to: all.count, by: batchSize) {
            try reader.read(Array(all[start..<min(start + batchSize, all.count)]), into: batch)
            st.add(batch)
        }
        return st
    }

    /// Per band (n, Σ(x−s), Σ(x−s)²) about `shift` (one per band): what an all-reduce sums.
    public func sums(shift: [Double]) -> [Double] {
        precondition(shift.count == bands)
        var out: [Double] = []
        for b in 0..<bands {
            let d = mean[b] - shift[b]
            out += [count[b], count[b] * d, m2[b] + count[b] * d * d]
        }
        return out
    }

    /// Rebuilds statistics from summed `sums(shift:)` (3 values per band).
    public init(sums: [Double], shift: [Double], bandNames: [String]? = nil) {
        precondition(sums.count == 3 * shift.count)
        self.init(bands: shift.count, bandNames: bandNames)
        for b in 0..<shift.count {
            let (n, s1, s2) = (sums[3 * b], sums[3 * b + 1], sums[3 * b + 2])
            guard n > 0 else { continue }
            count[b] = n
            mean[b] = shift[b] + s1 / n
            m2[b] = max(s2 - s1 * s1 / n, 0)
        }
    }

    // MARK: JSON

    private struct File: Codable {
        var bands: [String]?
        var count: [Double]
        var mean: [Double]
        var m2: [Double]
        var std: [Double]
    }

    /// Writes `{"bands", "count", "mean", "m2", "std"}` (std for people; it is recomputed on read).
    public func write(to path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try enc.encode(File(bands: bandNames, count: count, mean: mean, m2: m2, std: std))
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw DataError(path: path, "cannot write band statistics: \(error.localizedDescription)")
        }
    }

    public static func read(from path: String) throws -> BandStatistics {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError(path: path, "cannot read band statistics (no such file?)") }
        let f: File
        do { f = try JSONDecoder().decode(File.self, from: data) } catch {
            throw DataError(path: path, "not band statistics JSON: \(error)")
        }
        guard f.count.count == f.mean.count, f.m2.count == f.mean.count, f.bands.map({ $0.count == f.mean.count }) ?? true else {
            throw DataError(path: path, "band statistics of unequal lengths (count \(f.count.count), mean \(f.mean.count), m2 \(f.m2.count))")
        }
        var s = BandStatistics(bands: f.mean.count, bandNames: f.bands)
        s.count = f.count
        s.mean = f.mean
        s.m2 = f.m2
        return s
    }
}
