import DataIO

/// Per-band error of a predicted float raster against a reference on the same grid: RMSE, MAE
/// and R² (1 − SS_res / SS_tot, SS_tot about the reference's mean). Pixels where either file
/// holds NODATA (its own, or `noData`) or a non-finite value are left out, band by band.
public struct RegressionMetrics {
    public struct Band {
        public let band: Int          // 1-based, as in GDAL
        public let pixels: Int
        public let rmse: Double?
        public let mae: Double?
        /// nil when the reference is constant over the counted pixels (SS_tot = 0).
        public let r2: Double?
    }

    public let predictionPath: String
    public let referencePath: String
    public let bands: [Band]

    /// Reads each band a strip of rows at a time (about 4M pixels, or `stripRows`), so memory
    /// stays bounded whatever the scene size.
    public init(prediction: String, reference: String, noData: Double? = nil, stripRows: Int? = nil) throws {
        let p = try Raster(prediction), r = try Raster(reference)
        try LabelPair.checkSameGrid(p, r)
        guard p.bandCount == r.bandCount, p.bandCount > 0 else {
            throw EvalError("prediction \(prediction) has \(p.bandCount) bands but reference \(reference) has \(r.bandCount): regression compares band by band")
        }
        predictionPath = prediction
        referencePath = reference
        let w = r.width, h = r.height, strip = max(1, stripRows ?? min(h, (4 << 20) / max(w, 1)))
        bands = try (1...r.bandCount).map { b in
            let pnd = try p.noData(band: b), rnd = try r.noData(band: b)
            var sums = Sums()
            var y = 0
            while y < h {
                let n = min(strip, h - y)
                var pv: [Double] = try p.read(x: 0, y: y, width: w, height: n, bands: [b], as: Double.self)
                let rv: [Double] = try r.read(x: 0, y: y, width: w, height: n, bands: [b], as: Double.self)
                // NODATA becomes NaN in the prediction: `add` skips non-finite pairs.
                for i in 0..<pv.count where pv[i] == pnd || rv[i] == rnd || pv[i] == noData || rv[i] == noData { pv[i] = .nan }
                sums.add(prediction: pv, reference: rv)
                y += n
            }
            return sums.band(b)
        }
    }

    /// The figures of one band from its pixel pairs; pairs with a non-finite value are skipped.
    static func band(_ b: Int, prediction p: [Double], reference t: [Double]) -> Band {
        var s = Sums()
        s.add(prediction: p, reference: t)
        return s.band(b)
    }

    /// One band's sums, merged strip by strip: squared and absolute errors, and the reference's
    /// count, mean and sum of squared deviations (Chan et al.'s pairwise update, so SS_tot does
    /// not lose digits to cancellation as Σt² − (Σt)²/n would).
    struct Sums {
        var n = 0, mean = 0.0, m2 = 0.0, sse = 0.0, sae = 0.0

        mutating func add(prediction p: [Double], reference t: [Double]) {
            // The strip's own mean first (two passes over the strip), then merged.
            var k = 0, sum = 0.0
            for i in 0..<p.count where p[i].isFinite && t[i].isFinite { k += 1; sum += t[i] }
            guard k > 0 else { return }
            let m = sum / Double(k)
            var dev = 0.0
            for i in 0..<p.count where p[i].isFinite && t[i].isFinite {
                let e = p[i] - t[i]
                sse += e * e
                sae += abs(e)
                dev += (t[i] - m) * (t[i] - m)
            }
            let total = n + k, d = m - mean
            m2 += dev + d * d * Double(n) * Double(k) / Double(total)
            mean += d * Double(k) / Double(total)
            n = total
        }

        func band(_ b: Int) -> Band {
            guard n > 0 else { return Band(band: b, pixels: 0, rmse: nil, mae: nil, r2: nil) }
            return Band(band: b, pixels: n, rmse: (sse / Double(n)).squareRoot(), mae: sae / Double(n),
                        r2: m2 > 0 ? 1 - sse / m2 : nil)
        }
    }
}
