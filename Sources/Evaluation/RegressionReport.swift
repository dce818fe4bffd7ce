import Foundation
import Experiment

/// Text, JSON, CSV and HTML forms of `RegressionMetrics`.
extension RegressionMetrics {
    public var jsonObject: [String: Any] {
        ["kind": "regression", "prediction": predictionPath, "reference": referencePath,
         "bands": bands.map { b in
             ["band": b.band, "pixels": b.pixels, "rmse": ReportText.json(b.rmse), "mae": ReportText.json(b.mae),
              "r2": ReportText.json(b.r2)] as [String: Any]
         }]
    }

    public func json() throws -> String { try JSONText.encode(jsonObject) + "\n" }

    var rows: [[String]] {
        [["band", "pixels", "RMSE", "MAE", "R²"]] + bands.map {
            [String($0.band), String($0.pixels), ReportText.fixed($0.rmse), ReportText.fixed($0.mae), ReportText.fixed($0.r2)]
        }
    }

    public var text: String {
        "prediction \(predictionPath)\nreference  \(referencePath)\n\n" + ReportText.table(rows)
    }

    /// One row per band; undefined figures are empty fields.
    public var metricsCSV: String {
        "band,pixels,rmse,mae,r2\n" + bands.map {
            "\($0.band),\($0.pixels),\(ReportText.csv($0.rmse)),\(ReportText.csv($0.mae)),\(ReportText.csv($0.r2))\n"
        }.joined()
    }

    public var html: String {
        let body = "<p>prediction <code>\(ReportText.xml(predictionPath))</code><br>reference <code>\(ReportText.xml(referencePath))</code></p>\n"
            + ReportText.htmlTable(rows[0], Array(rows.dropFirst()))
        return ReportText.htmlPage(title: "rstrain eval (regression)", body: body)
    }

    /// metrics.json, metrics.csv and report.html in `dir`.
    public func write(to dir: String) throws {
        try ReportFiles.write([("metrics.json", try json()), ("metrics.csv", metricsCSV), ("report.html", html)], to: dir)
    }
}
