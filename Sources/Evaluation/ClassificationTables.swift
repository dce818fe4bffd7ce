import Foundation
import Experiment

/// The per-class and confusion tables of a report, shared by the raster and the run evaluation;
/// `labels` names each class (category name or number).
extension ClassificationMetrics {
    static let perClassHeader = ["class", "name", "reference", "predicted", "precision", "recall", "F1", "IoU"]

    func perClassRows(labels: [String]) -> [[String]] {
        [Self.perClassHeader] + perClass.enumerated().map { c, f in
            [String(c), labels[c], String(f.referencePixels), String(f.predictedPixels), ReportText.fixed(f.precision),
             ReportText.fixed(f.recall), ReportText.fixed(f.f1), ReportText.fixed(f.iou)]
        }
    }

    func perClassJSON(labels: [String]) -> [Any] {
        perClass.enumerated().map { c, f in
            ["class": c, "name": labels[c], "reference_pixels": f.referencePixels, "predicted_pixels": f.predictedPixels,
             "precision": ReportText.json(f.precision), "recall": ReportText.json(f.recall),
             "f1": ReportText.json(f.f1), "iou": ReportText.json(f.iou)] as [String: Any]
        }
    }

    /// K rows of K counts (rows reference), and the row-normalised form.
    var confusionRows: [[Int]] { (0..<classes).map { r in Array(confusion[(r * classes)..<(r * classes + classes)]) } }
    var normalizedRows: [[Double]] {
        let norm = normalizedConfusion
        return (0..<classes).map { r in Array(norm[(r * classes)..<(r * classes + classes)]) }
    }

    /// The confusion matrix as a text table (rows reference, columns predicted).
    func confusionText(labels: [String]) -> String {
        ReportText.table([[""] + labels] + (0..<classes).map { r in
            [labels[r]] + (0..<classes).map { String(confusion[r * classes + $0]) }
        })
    }

    /// One row per class; undefined figures are empty fields.
    func metricsCSV(labels: [String]) -> String {
        var s = "class,name,reference_pixels,predicted_pixels,precision,recall,f1,iou\n"
        for (c, f) in perClass.enumerated() {
            s += [String(c), ReportText.csvField(labels[c]), String(f.referencePixels), String(f.predictedPixels),
                  ReportText.csv(f.precision), ReportText.csv(f.recall), ReportText.csv(f.f1), ReportText.csv(f.iou)]
                .joined(separator: ",") + "\n"
        }
        return s
    }

    /// Counts; the first column names the reference class, the header the predicted one.
    func confusionCSV(labels: [String]) -> String {
        var s = (["reference\\predicted"] + labels.map(ReportText.csvField)).joined(separator: ",") + "\n"
        for r in 0..<classes {
            s += ([ReportText.csvField(labels[r])] + (0..<classes).map { String(confusion[r * classes + $0]) })
                .joined(separator: ",") + "\n"
        }
        return s
    }

    func confusionSVG(labels: [String], colors: [String]?) -> String {
        ConfusionHeatMap.svg(normalized: normalizedConfusion, counts: confusion, labels: labels, colors: colors)
    }
}
