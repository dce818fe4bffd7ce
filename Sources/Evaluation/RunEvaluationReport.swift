import Foundation
import Experiment

/// The forms of a run evaluation: the raster mode's files (metrics.json, metrics.csv,
/// confusion.csv, confusion.svg, report.html) plus shards.csv, one row per shard.
extension RunEvaluation {
    /// The summary rows: majority-class figures, then the soft agreement when asked.
    var summaryRows: [[String]] {
        let m = metrics
        var rows = [["overall accuracy", ReportText.fixed(m.overallAccuracy)], ["kappa", ReportText.fixed(m.kappa)],
                    ["mean IoU", ReportText.fixed(m.meanIoU)], ["mean F1", ReportText.fixed(m.meanF1)]]
        if soft { rows.append(["soft accuracy", ReportText.fixed(tally.softAccuracy)]) }
        return rows
    }

    var shardHeader: [String] {
        ["shard", "pixels", "overall accuracy", "kappa", "mean IoU", "mean F1"] + (soft ? ["soft accuracy"] : [])
    }

    var shardRows: [[String]] {
        shards.map { s in
            [s.name, String(s.metrics.pixels), ReportText.fixed(s.metrics.overallAccuracy), ReportText.fixed(s.metrics.kappa),
             ReportText.fixed(s.metrics.meanIoU), ReportText.fixed(s.metrics.meanF1)]
                + (soft ? [ReportText.fixed(s.tally.softAccuracy)] : [])
        }
    }

    var countedLine: String {
        "\(metrics.pixels) held-out pixels counted (mask > 0)" + (tally.outside > 0 ? ", \(tally.outside) with a label outside 0..<\(metrics.classes) left out" : "")
    }

    // MARK: - JSON

    public var jsonObject: [String: Any] {
        let m = metrics
        func figures(_ m: ClassificationMetrics, _ t: ClassTally) -> [String: Any] {
            var o: [String: Any] = ["pixels": m.pixels, "overall_accuracy": ReportText.json(m.overallAccuracy),
                                    "kappa": ReportText.json(m.kappa), "mean_iou": ReportText.json(m.meanIoU),
                                    "mean_f1": ReportText.json(m.meanF1)]
            if soft { o["soft_accuracy"] = ReportText.json(t.softAccuracy); o["soft_agreed"] = t.agreed; o["soft_mass"] = t.mass }
            return o
        }
        var o = figures(m, tally)
        o.merge([
            "kind": "run", "config": configPath, "model": model, "weights": weightsPath, "classes": m.classes,
            "class_names": classLabels, "outside_pixels": tally.outside,
            "mean_convention": "macro over classes present in the reference or the prediction",
            "per_class": m.perClassJSON(labels: classLabels),
            "confusion": m.confusionRows, "confusion_normalized": m.normalizedRows,
            "shards": shards.map { s in figures(s.metrics, s.tally).merging(["shard": s.name, "confusion": s.metrics.confusionRows]) { $1 } },
        ]) { $1 }
        return o
    }

    public func json() throws -> String { try JSONText.encode(jsonObject) + "\n" }

    /// One evaluation's object, or an array of them for several models.
    public static func json(_ all: [RunEvaluation]) throws -> String {
        all.count == 1 ? try all[0].json() : try JSONText.encode(all.map(\.jsonObject)) + "\n"
    }

    // MARK: - Text, CSV, HTML

    public var text: String {
        var s = "model \(model) (\(weightsPath))\nvalidation set of \(configPath): every shard's held-out windows\n"
        s += countedLine + "\n\n"
        s += ReportText.table(summaryRows)
        s += "\n" + ReportText.table(metrics.perClassRows(labels: classLabels))
        s += "\nper shard\n" + ReportText.table([shardHeader] + shardRows)
        s += "\nconfusion (rows reference, columns predicted)\n" + metrics.confusionText(labels: classLabels)
        return s
    }

    /// Several models side by side, one row each. Every model is scored on the same held-out
    /// windows, but a pixel-head (patch) model counts only its patches' centre pixels (⌊W/P⌋²
    /// per window), so `pixels` says how many each row rests on.
    public static func comparison(_ all: [RunEvaluation]) -> String {
        let soft = all.contains(where: \.soft)
        let header = ["model", "pixels", "overall accuracy", "kappa", "mean IoU", "mean F1"] + (soft ? ["soft accuracy"] : [])
        let rows = all.map { e in
            [e.model, String(e.metrics.pixels), ReportText.fixed(e.metrics.overallAccuracy), ReportText.fixed(e.metrics.kappa),
             ReportText.fixed(e.metrics.meanIoU), ReportText.fixed(e.metrics.meanF1)]
                + (soft ? [e.soft ? ReportText.fixed(e.tally.softAccuracy) : "n/a"] : [])
        }
        return "models compared on the same held-out windows (pixels: what each model scored; a pixel-head model, its patches' centres)\n" + ReportText.table([header] + rows)
    }

    /// One row per shard; undefined figures are empty fields.
    public var shardsCSV: String {
        var s = "shard,pixels,overall_accuracy,kappa,mean_iou,mean_f1" + (soft ? ",soft_accuracy" : "") + "\n"
        for x in shards {
            let m = x.metrics
            s += ([ReportText.csvField(x.name), String(m.pixels), ReportText.csv(m.overallAccuracy), ReportText.csv(m.kappa),
                   ReportText.csv(m.meanIoU), ReportText.csv(m.meanF1)] + (soft ? [ReportText.csv(x.tally.softAccuracy)] : []))
                .joined(separator: ",") + "\n"
        }
        return s
    }

    public var html: String {
        var body = "<p>model <code>\(ReportText.xml(model))</code> (<code>\(ReportText.xml(weightsPath))</code>)<br>"
        body += "validation set of <code>\(ReportText.xml(configPath))</code>: every shard's held-out windows<br>"
        body += ReportText.xml(countedLine) + "</p>\n"
        body += ReportText.htmlTable(["figure", "value"], summaryRows)
        let rows = metrics.perClassRows(labels: classLabels)
        body += "<h2>Per class</h2>\n" + ReportText.htmlTable(rows[0], Array(rows.dropFirst()))
        body += "<h2>Per shard</h2>\n" + ReportText.htmlTable(shardHeader, shardRows)
        body += "<h2>Confusion (row-normalised)</h2>\n" + metrics.confusionSVG(labels: classLabels, colors: nil)
        return ReportText.htmlPage(title: "rstrain eval: \(model)", body: body)
    }

    /// metrics.json, metrics.csv, confusion.csv, confusion.svg, shards.csv and report.html in `dir`.
    public func write(to dir: String) throws {
        try ReportFiles.write([("metrics.json", try json()), ("metrics.csv", metrics.metricsCSV(labels: classLabels)),
                               ("confusion.csv", metrics.confusionCSV(labels: classLabels)),
                               ("confusion.svg", metrics.confusionSVG(labels: classLabels, colors: nil)),
                               ("shards.csv", shardsCSV), ("report.html", html)], to: dir)
    }

    /// RUN_DIR/eval/<model>.
    public var defaultOutput: String {
        (((runDir as NSString).appendingPathComponent("eval")) as NSString).appendingPathComponent(model)
    }
}
