import ArgumentParser
import Foundation
import Training

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a predicted map against a reference raster, or draw a run's learning curves.",
        discussion: """
        Class maps: confusion matrix, overall accuracy, Cohen's kappa, per-class precision, recall, \
        F1 and IoU, mean IoU and F1 (macro over the classes present in either map) and boundary F1. \
        Pixels that are NODATA in either file, or whose reference label is outside 0..<K, are left out. \
        --regression: RMSE, MAE and R² per band. --run: training loss and validation accuracy curves \
        from RUN_DIR/metrics.jsonl. See docs/eval.md.
        """
    )

    @Option(help: "The predicted raster (class numbers, or values with --regression).")
    var prediction: String?

    @Option(help: "The reference raster on the same grid (labels, or values with --regression).")
    var reference: String?

    @Option(help: "Number of classes K (default: one more than the largest label in either file).")
    var classes: Int?

    @Option(help: "A value treated as NODATA in both files, besides each file's own NODATA.")
    var nodata: Double?

    @Option(help: "Boundary F1 tolerance in pixels (Chebyshev distance).")
    var boundaryTolerance: Int = 1

    @Flag(help: "Compare float rasters band by band: RMSE, MAE, R².")
    var regression = false

    @Option(name: .customLong("run"), help: "A run directory: draw its curves from metrics.jsonl instead of scoring rasters.")
    var runDir: String?

    @Flag(help: "Print JSON instead of the text tables.")
    var json = false

    @Option(help: "Write the report files to this directory (created if missing).")
    var out: String?

    func validate() throws {
        if runDir != nil {
            guard prediction == nil, reference == nil, !regression, !json, classes == nil, nodata == nil else {
                throw ValidationError("--run takes only --out (no --prediction, --reference, --regression, --json, --classes or --nodata)")
            }
            return
        }
        guard prediction != nil, reference != nil else {
            throw ValidationError("give --prediction and --reference (or --run RUN_DIR)")
        }
        if regression && classes != nil { throw ValidationError("--classes does not apply with --regression") }
        if let classes, classes < 1 { throw ValidationError("--classes must be at least 1, got \(classes)") }
        if boundaryTolerance < 0 { throw ValidationError("--boundary-tolerance must be at least 0, got \(boundaryTolerance)") }
    }

    func run() throws {
        if let runDir {
            let curves = try RunCurves(runDir: runDir)
            if let out { try curves.write(to: out) }
            print(curves.text, terminator: "")
            if let out { print("wrote curves.svg and report.html to \(out)") }
            return
        }
        let p = prediction!, r = reference!
        if regression {
            let m = try RegressionMetrics(prediction: p, reference: r, noData: nodata)
            if let out { try m.write(to: out) }
            print(try json ? m.json() : m.text, terminator: "")
            return
        }
        let e = try ClassificationEvaluation(prediction: p, reference: r, classes: classes, noData: nodata,
                                             boundaryTolerance: boundaryTolerance)
        if let out { try e.write(to: out) }
        print(try json ? e.json() : e.text, terminator: "")
    }
}
