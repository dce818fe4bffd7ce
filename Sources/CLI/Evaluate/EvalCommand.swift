import ArgumentParser
import Distributed
import Foundation
import Evaluation

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a predicted map against a reference raster, a trained model on its run's validation set, or draw a run's learning curves.",
        discussion: """
        Class maps: confusion matrix, overall accuracy, Cohen's kappa, per-class precision, recall, \
        F1 and IoU, mean IoU and F1 (macro over the classes present in either map) and boundary F1. \
        Pixels that are NODATA in either file, or whose reference label is outside 0..<K, are left out. \
        --class-table: the reference holds a tile repository's label values (shard.json "classes"), \
        mapped to class indices (a value's position in the table) and named; the prediction always \
        holds class indices, as rstrain predict writes them. \
        A reference of K > 1 bands holds class proportions (band c = the share of class c): its \
        majority class is the reference, and --soft adds the soft accuracy. \
        --regression: RMSE, MAE and R² per band. --run: training loss and validation accuracy curves \
        from RUN_DIR/metrics.jsonl. --config: the run's final/<model>.h5 on every shard's held-out \
        windows (the trainer's split and normalisation), the same figures overall and per shard, \
        written to RUN_DIR/eval/<model>/ (under mpirun, each rank scores its shards). See docs/eval.md.
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

    @Option(name: .customLong("class-table"),
            help: "A tile repository (or its shard.json) whose class table maps the reference's label values to class indices and names the classes.")
    var classTable: String?

    @Option(help: "Boundary F1 tolerance in pixels (Chebyshev distance).")
    var boundaryTolerance: Int = 1

    @Flag(help: "Compare float rasters band by band: RMSE, MAE, R².")
    var regression = false

    @Option(name: .customLong("run"), help: "A run directory: draw its curves from metrics.jsonl instead of scoring rasters.")
    var runDir: String?

    @Option(help: "A run's config: score its final weights on its validation set (every shard's held-out windows).")
    var config: String?

    @Option(help: "With --config: the model to score (default: every model of the run).")
    var model: String?

    @Flag(help: "With --config, or a proportions reference (one band per class): also report the soft accuracy against the proportions.")
    var soft = false

    @Flag(help: "Print JSON instead of the text tables.")
    var json = false

    @Option(help: "Write the report files to this directory (created if missing; with --config, default RUN_DIR/eval/<model>, and DIR/<model> when several models are scored).")
    var out: String?

    func validate() throws {
        if config != nil {
            guard prediction == nil, reference == nil, runDir == nil, !regression, classes == nil, nodata == nil, classTable == nil else {
                throw ValidationError("--config takes only --model, --soft, --json and --out (no --prediction, --reference, --run, --regression, --classes, --nodata or --class-table)")
            }
            return
        }
        if model != nil { throw ValidationError("--model applies only with --config") }
        if soft && (runDir != nil || regression) {
            throw ValidationError("--soft applies only with --config or a class map against a proportions reference (not with --run or --regression)")
        }
        if runDir != nil {
            guard prediction == nil, reference == nil, !regression, !json, classes == nil, nodata == nil, classTable == nil else {
                throw ValidationError("--run takes only --out (no --prediction, --reference, --regression, --json, --classes, --nodata or --class-table)")
            }
            return
        }
        guard prediction != nil, reference != nil else {
            throw ValidationError("give --prediction and --reference (or --run RUN_DIR)")
        }
        if regression && classes != nil { throw ValidationError("--classes does not apply with --regression") }
        if regression && classTable != nil { throw ValidationError("--class-table does not apply with --regression") }
        if let classes, classes < 1 { throw ValidationError("--classes must be at least 1, got \(classes)") }
        if boundaryTolerance < 0 { throw ValidationError("--boundary-tolerance must be at least 0, got \(boundaryTolerance)") }
    }

    func run() throws {
        if let config { return try scoreRun(config) }
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
        let table = try classTable.map(LabelPair.classTable(at:))
        let e = try ClassificationEvaluation(prediction: p, reference: r, classes: classes, noData: nodata,
                                             boundaryTolerance: boundaryTolerance, classTable: table, soft: soft)
        if let out { try e.write(to: out) }
        print(try json ? e.json() : e.text, terminator: "")
    }

    /// --config: every rank scores its shards; rank 0 writes and prints. An EvalError is known to
    /// every rank (setup, names, weights are checked together); anything else stops the job.
    func scoreRun(_ config: String) throws {
        var evaluations: [RunEvaluation] = [], rank = 0
        let status = MPIJob.run("rstrain eval") { world in
            rank = world.rank
            do {
                evaluations = try RunEvaluation.make(configPath: config, models: model.map { [$0] } ?? [], soft: soft, world: world)
            } catch let e as EvalError {
                throw SharedFailure(["rstrain eval: \(e)"])
            }
            return 0
        }
        guard status == 0 else { throw ExitCode(status) }
        guard rank == 0 else { return }
        for e in evaluations {
            let dir = out.map { evaluations.count > 1 ? ($0 as NSString).appendingPathComponent(e.model) : $0 } ?? e.defaultOutput
            try e.write(to: dir)
            if !json { print(e.text + "wrote the report to \(dir)\n") }
        }
        if !json && evaluations.count > 1 { print(RunEvaluation.comparison(evaluations), terminator: "") }
        if json { print(try RunEvaluation.json(evaluations), terminator: "") }
    }
}
