/// Pixel accuracy and per-class figures from a K×K confusion matrix (row: true class,
/// column: predicted), as summed over ranks.
struct Metrics {
    let confusion: [Int64]
    let classes: Int

    var total: Int64 { confusion.reduce(0, +) }
    var correct: Int64 { (0..<classes).reduce(0) { $0 + confusion[$1 * classes + $1] } }
    /// NaN when there are no validation pixels.
    var accuracy: Double { total > 0 ? Double(correct) / Double(total) : .nan }

    /// baseline.json's figures: accuracy, pixels, chance, the matrix and per-class counts
    /// (recall and precision NaN where a class has no pixels / no predictions).
    func json() -> [String: Any] {
        let k = classes
        let rows = (0..<k).map { Array(confusion[$0 * k..<($0 + 1) * k]) }
        let perClass: [[String: Any]] = (0..<k).map { c in
            let actual = rows[c].reduce(0, +)
            let predicted = (0..<k).reduce(Int64(0)) { $0 + rows[$1][c] }
            let hit = rows[c][c]
            return ["class": c, "pixels": actual, "predicted": predicted, "correct": hit,
                    "recall": actual > 0 ? Double(hit) / Double(actual) : Double.nan,
                    "precision": predicted > 0 ? Double(hit) / Double(predicted) : Double.nan]
        }
        return ["accuracy": accuracy, "pixels": total, "correct": correct, "classes": k, "chance": 1 / Double(k),
                "confusion": rows, "per_class": perClass]
    }
}
