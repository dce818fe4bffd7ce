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

    public init(prediction: String, reference: String, noData: Double? = nil) throws {
        let p = try Raster(prediction), r = try Raster(reference)
        try LabelPair.checkSameGrid(p, r)
        guard p.bandCount == r.bandCount, p.bandCount > 0 else {
            throw EvalError("prediction \(prediction) has \(p.bandCount) bands but reference \(reference) has \(r.bandCount): regression compares band by band")
        }
        predictionPath = prediction
        referencePath = reference
        let w = r.width, h = r.height
        bands = try (1...r.bandCount).map { b in
            let pnd = try p.noData(band: b), rnd = try r.noData(band: b)
            var pv: [Double] = try p.read(x: 0, y: 0, width: w, height: h, bands: [b], as: Double.self)
            let rv: [Double] = try r.read(x: 0, y: 0, width: w, height: h, bands: [b], as: Double.self)
            // NODATA becomes NaN in the prediction: `band` skips non-finite pairs, without an index list.
            for i in 0..<pv.count where pv[i] == pnd || rv[i] == rnd || pv[i] == noData || rv[i] == noData { pv[i] = .nan }
            return RegressionMetrics.band(b, prediction: pv, reference: rv)
        }
    }

    /// The figures of one band from its pixel pairs; pairs with a non-finite value are skipped.
    static func band(_ b: Int, prediction p: [Double], reference t: [Double]) -> Band {
        // Two passes: the mean first, so SS_tot does not lose digits to cancellation.
        var n = 0, sum = 0.0
        for i in 0..<p.count where p[i].isFinite && t[i].isFinite { n += 1; sum += t[i] }
        guard n > 0 else { return Band(band: b, pixels: 0, rmse: nil, mae: nil, r2: nil) }
        let mean = sum / Double(n)
        var sse = 0.0, sae = 0.0, sst = 0.0
        for i in 0..<p.count where p[i].isFinite && t[i].isFinite {
            let e = p[i] - t[i]
            sse += e * e
            sae += abs(e)
            sst += (t[i] - mean) * (t[i] - mean)
        }
        return Band(band: b, pixels: n, rmse: (sse / Double(n)).squareRoot(), mae: sae / Double(n),
                    r2: sst > 0 ? 1 - sse / sst : nil)
    }
}
