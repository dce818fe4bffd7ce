import Experiment

/// The baseline's figures from a K×K confusion matrix (row: true class, column: predicted), as
/// summed over ranks: computed by `ClassificationMetrics`, the same code as `rstrain eval`, so the
/// forest and the deep models are judged alike.
public struct BaselineFigures {
    public let confusion: [Int64]
    public let classes: Int

    public var total: Int64 { confusion.reduce(0, +) }
    public var correct: Int64 { (0..<classes).reduce(0) { $0 + confusion[$1 * classes + $1] } }
    /// NaN when there are no validation pixels.
    public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : .nan }

    /// baseline.json's figures: accuracy, kappa, mean IoU, pixels, chance, the matrix and per-class
    /// counts and figures (NaN where a figure has no pixels to stand on).
    public func json() -> [String: Any] {
        let k = classes
        let m = ClassificationMetrics(confusion: confusion.map { Int($0) }, classes: k)
        let rows = (0..<k).map { Array(confusion[$0 * k..<($0 + 1) * k]) }
        let perClass: [[String: Any]] = m.perClass.enumerated().map { c, p in
            ["class": c, "pixels": p.referencePixels, "predicted": p.predictedPixels, "correct": rows[c][c],
             "recall": p.recall ?? .nan, "precision": p.precision ?? .nan, "f1": p.f1 ?? .nan, "iou": p.iou ?? .nan]
        }
        return ["overall_accuracy": accuracy, "kappa": m.kappa ?? .nan, "mean_iou": m.meanIoU ?? .nan,
                "pixels": total, "correct": correct, "classes": k, "chance": 1 / Double(k),
                "confusion": rows, "per_class": perClass]
    }
}
