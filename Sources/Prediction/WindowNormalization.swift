import DataIO
import Engine

extension WindowSample {
    /// The window's C×[T×]W×W planes normalised as in training into `dst`: band c's planes share
    /// its coefficients (`Normalization.coefficients`, one per band); masked pixels, and without
    /// the strict time-series mask pixels missing at that date, are 0.
    func normalised(bands: Int, scale: [Double], offset: [Double], into dst: UnsafeMutablePointer<Float>) {
        let n = mask.count, planes = image.count / n, dates = planes / bands, m = mask.data
        for q in 0..<planes {
            let c = q / dates, s = scale[c], o = offset[c]
            let valid = dateMask.map { $0.data + (q % dates) * n } ?? m
            let src = image.data + q * n, d = dst + q * n
            for p in 0..<n { d[p] = valid[p] != 0 ? Float(Double(src[p]) * s + o) : 0 }
        }
    }
}
