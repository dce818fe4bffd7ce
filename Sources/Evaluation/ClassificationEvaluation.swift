import DataIO
import Foundation
import Experiment

/// `rstrain eval` on a class map: the pair of rasters, the confusion-matrix figures and the
/// boundary F1, with their text, JSON, CSV, SVG and HTML forms.
public struct ClassificationEvaluation {
    public let predictionPath: String
    public let referencePath: String
    public let metrics: ClassificationMetrics
    public let boundary: BoundaryF1
    /// Pixels left out (NODATA in either file, reference label outside 0..<classes).
    public let excludedPixels: Int
    /// One label per class: the class table's name, else the reference's category name when it
    /// has one, else the number.
    public let classLabels: [String]
    /// "#rrggbb" per class from the colour table ("" for none), or nil: the reference's, or with a
    /// class table the prediction's (the reference's table is by label value, not class index).
    public let classColors: [String]?
    /// The reference's values were mapped to class indices through a class table.
    public let classTable: ClassTable?
    /// K when the reference holds class proportions (one band per class), else nil.
    public let proportionBands: Int?
    /// With `soft`: Σ_p t_{p,pred(p)} and Σ_p Σ_c t_{p,c} over the counted pixels, each pixel's
    /// shares normalised to sum 1 (so `mass` is the counted pixel count).
    public let softSums: (agreed: Double, mass: Double)?

    /// The share of the labelled area the predicted class covers; nil without `soft` (or pixels).
    /// A hint when the figures look like a labelling mistake rather than a bad map: reference
    /// values that are a class table's (1…K) against a prediction's class indices (0…K−1) —
    /// the reference holds no 0, and far more pixels agree as `reference − 1 = predicted` than
    /// as equal. nil with a class table, a proportions reference, or no such pattern.
    public var hint: String? {
        let m = metrics, k = m.classes
        guard classTable == nil, proportionBands == nil, k > 1, m.pixels > 0 else { return nil }
        let rows = m.confusionRows
        guard rows[0].reduce(0, +) == 0 else { return nil }
        let shifted = (1..<k).reduce(0) { $0 + rows[$1][$1 - 1] }
        let share = Double(shifted) / Double(m.pixels), oa = m.overallAccuracy ?? 0
        guard share >= 0.5, share >= 2 * oa else { return nil }
        return String(format: "%.1f%% of the pixels agree as reference − 1 = predicted, against %.1f%% as equal: the reference's labels look like a class table's values (1…), not class indices (0…); pass --class-table with the repository (or its shard.json) whose table maps them", 100 * share, 100 * oa)
    }

    public var softAccuracy: Double? { softSums.flatMap { $0.mass > 0 ? $0.agreed / $0.mass : nil } }

    /// Reads both maps a strip of rows at a time (`LabelPair.stripRows`, or `stripRows`), so
    /// memory stays bounded whatever the scene size. With `classTable` the reference holds label
    /// values, mapped to class indices through it (see `LabelPair`), and its names label the classes.
    /// A reference of K > 1 bands holds class proportions: its arg-max is the reference class, and
    /// `soft` (which needs one) adds the soft agreement.
    public init(prediction: String, reference: String, classes: Int? = nil, noData: Double? = nil,
                boundaryTolerance: Int = 1, stripRows: Int? = nil, classTable: ClassTable? = nil, soft: Bool = false) throws {
        guard boundaryTolerance >= 0 else { throw EvalError("--boundary-tolerance must be at least 0, got \(boundaryTolerance)") }
        let pair = try LabelPair(prediction: prediction, reference: reference, classes: classes, noData: noData,
                                 classTable: classTable)
        if soft && pair.proportionBands == nil {
            throw EvalError("--soft needs a proportions reference (one band per class), but \(reference) has 1 band")
        }
        proportionBands = pair.proportionBands
        predictionPath = prediction
        referencePath = reference
        self.classTable = classTable
        let (w, h) = (pair.width, pair.height), strip = max(1, stripRows ?? pair.stripRows)
        // K×K counts; without a given K it grows with the largest class seen (both maps).
        var k = pair.classes ?? 1
        var confusion = [Int](repeating: 0, count: k * k)
        var edges = BoundaryF1.Counts(tolerance: boundaryTolerance)
        var excluded = 0
        var agreed = 0.0, mass = 0.0
        var a = 0
        while a < h {
            let b = min(h, a + strip), lo = max(0, a - edges.halo), hi = min(h, b + edges.halo)
            let s = try pair.readStrip(rows: lo..<hi)
            let (p, r) = (s.prediction, s.reference)
            edges.add(prediction: p, reference: r, width: w, keep: (a - lo)..<(b - lo), atTop: lo == 0, atBottom: hi == h)
            for i in ((a - lo) * w)..<((b - lo) * w) {
                guard p[i] >= 0 else { excluded += 1; continue }
                let need = Int(max(p[i], r[i])) + 1
                if need > k {
                    var grown = [Int](repeating: 0, count: need * need)
                    for y in 0..<k { for x in 0..<k { grown[y * need + x] = confusion[y * k + x] } }
                    (k, confusion) = (need, grown)
                }
                confusion[Int(r[i]) * k + Int(p[i])] += 1
            }
            // Pixel by pixel in raster order whatever the strip, so the sums are the same for any strip height.
            if soft, let t = s.agreement {
                for i in ((a - lo) * w)..<((b - lo) * w) where p[i] >= 0 { agreed += t[i]; mass += 1 }
            }
            a = b
        }
        softSums = soft ? (agreed, mass) : nil
        metrics = ClassificationMetrics(confusion: confusion, classes: k)
        boundary = BoundaryF1(edges)
        excludedPixels = excluded
        // A proportions reference names its classes by band description; colours, like a class
        // table's, come from the prediction (the reference's colour table is band 1's only).
        let names: [String]?, colors: [String]?
        if let t = classTable {
            (names, colors) = (t.names, Raster.categories(prediction, classes: k).colors)
        } else if pair.proportionBands != nil {
            (names, colors) = (try pair.referenceBandNames(), Raster.categories(prediction, classes: k).colors)
        } else {
            (names, colors) = Raster.categories(reference, classes: k)
        }
        classLabels = (0..<k).map { c in
            if let n = names?[c], !n.isEmpty { return n }
            return String(c)
        }
        classColors = colors
    }

    // MARK: - JSON

    public var jsonObject: [String: Any] {
        let m = metrics, k = m.classes
        var o: [String: Any] = [
            "kind": "classification", "prediction": predictionPath, "reference": referencePath,
            "classes": k, "class_names": classLabels, "pixels": m.pixels, "excluded_pixels": excludedPixels,
            "overall_accuracy": ReportText.json(m.overallAccuracy), "kappa": ReportText.json(m.kappa),
            "mean_iou": ReportText.json(m.meanIoU), "mean_f1": ReportText.json(m.meanF1),
            "mean_convention": "macro over classes present in the reference or the prediction",
            "per_class": m.perClassJSON(labels: classLabels),
            "confusion": m.confusionRows, "confusion_normalized": m.normalizedRows,
            "boundary": ["tolerance": boundary.tolerance, "precision": ReportText.json(boundary.precision),
                         "recall": ReportText.json(boundary.recall), "f1": ReportText.json(boundary.f1),
                         "predicted_pixels": boundary.predictedBoundaryPixels,
                         "reference_pixels": boundary.referenceBoundaryPixels] as [String: Any],
        ]
        // The reference's label value of each class, when a class table mapped them.
        if let t = classTable { o["class_values"] = t.values }
        if let k = proportionBands { o["reference_bands"] = k }
        if let hint { o["hint"] = hint }
        if let t = softSums {
            o["soft_accuracy"] = ReportText.json(softAccuracy)
            o["soft_agreed"] = t.agreed
            o["soft_mass"] = t.mass
        }
        return o
    }

    public func json() throws -> String { try JSONText.encode(jsonObject) + "\n" }

    // MARK: - Text

    /// The summary, the per-class table and the confusion matrix (rows reference, columns predicted).
    public var text: String {
        let m = metrics
        var s = "prediction \(predictionPath)\nreference  \(referencePath)\n"
        s += "pixels \(m.pixels) counted, \(excludedPixels) excluded (\(excludedMeaning))\n\n"
        s += ReportText.table(summaryRows)
        s += "\n" + ReportText.table(perClassRows)
        s += "\nconfusion (rows reference, columns predicted)\n"
        s += m.confusionText(labels: classLabels)
        if let hint { s += "\nhint: \(hint)\n" }
        return s
    }

    /// Why a pixel is left out.
    var excludedMeaning: String {
        proportionBands != nil ? "NODATA, non-finite, or a reference pixel with no share"
            : classTable == nil ? "NODATA or reference outside 0..<\(metrics.classes)"
            : "NODATA, or a reference value the class table does not list"
    }

    var perClassRows: [[String]] { metrics.perClassRows(labels: classLabels) }

    /// The headline figures, shared by the text and the HTML report.
    var summaryRows: [[String]] {
        let m = metrics
        return [
            ["overall accuracy", ReportText.fixed(m.overallAccuracy)],
            ["kappa", ReportText.fixed(m.kappa)],
            ["mean IoU", ReportText.fixed(m.meanIoU)],
            ["mean F1", ReportText.fixed(m.meanF1)],
            ["boundary F1 (tolerance \(boundary.tolerance) px)", ReportText.fixed(boundary.f1)],
            ["boundary precision", ReportText.fixed(boundary.precision)],
            ["boundary recall", ReportText.fixed(boundary.recall)],
        ] + (softSums == nil ? [] : [["soft accuracy", ReportText.fixed(softAccuracy)]])
    }

    // MARK: - CSV

    public var metricsCSV: String { metrics.metricsCSV(labels: classLabels) }

    public var confusionCSV: String { metrics.confusionCSV(labels: classLabels) }

    /// The headline figures, one per row (`figure,value`; an undefined one is an empty field).
    public var summaryCSV: String {
        let m = metrics
        var rows: [(String, Double?)] = [("overall_accuracy", m.overallAccuracy), ("kappa", m.kappa), ("mean_iou", m.meanIoU),
                                         ("mean_f1", m.meanF1), ("boundary_f1", boundary.f1),
                                         ("boundary_precision", boundary.precision), ("boundary_recall", boundary.recall)]
        if softSums != nil { rows.append(("soft_accuracy", softAccuracy)) }
        return "figure,value\n" + rows.map { "\($0.0),\(ReportText.csv($0.1))\n" }.joined()
    }

    // MARK: - SVG, HTML

    public var confusionSVG: String {
        metrics.confusionSVG(labels: classLabels, colors: classColors)
    }

    public var html: String {
        let m = metrics
        var body = "<p>prediction <code>\(ReportText.xml(predictionPath))</code><br>reference <code>\(ReportText.xml(referencePath))</code><br>"
        body += "\(m.pixels) pixels counted, \(excludedPixels) excluded (\(ReportText.xml(excludedMeaning)))</p>\n"
        body += ReportText.htmlTable(["figure", "value"], summaryRows)
        let rows = perClassRows
        body += "<h2>Per class</h2>\n" + ReportText.htmlTable(rows[0], Array(rows.dropFirst()))
        body += "<h2>Confusion (row-normalised)</h2>\n" + confusionSVG
        return ReportText.htmlPage(title: "rstrain eval", body: body)
    }

    /// metrics.json, metrics.csv, summary.csv, confusion.csv, confusion.svg and report.html in `dir`.
    public func write(to dir: String) throws {
        try ReportFiles.write([("metrics.json", try json()), ("metrics.csv", metricsCSV), ("summary.csv", summaryCSV),
                               ("confusion.csv", confusionCSV),
                               ("confusion.svg", confusionSVG), ("report.html", html)], to: dir)
    }
}
