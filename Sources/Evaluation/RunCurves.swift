import Foundation
import Experiment
import Settings

/// The learning curves of a run, read from RUN_DIR/metrics.jsonl: training loss per model over
/// its global step, validation accuracy (and loss) per model per round.
public struct RunCurves {
    public struct Point { public let x: Double; public let y: Double }
    public struct Validation {
        public let round: Int
        public let loss: Double?
        public let accuracy: Double?
        public let isFinal: Bool
    }

    public let runDir: String
    /// Model names in order of first appearance.
    public let models: [String]
    /// model → (global step, loss) in file order; non-finite losses ("nan") left out.
    public let loss: [String: [Point]]
    /// model → validations in file order.
    public let validations: [String: [Validation]]

    public init(runDir: String) throws {
        let path = runDir + "/metrics.jsonl"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvalError(FileManager.default.fileExists(atPath: path) ? "\(path): cannot read" : "\(path): no such file (is \(runDir) a run directory?)")
        }
        self.runDir = runDir
        var models: [String] = [], loss: [String: [Point]] = [:], vals: [String: [Validation]] = [:]
        func note(_ m: String) { if !models.contains(m) { models.append(m) } }
        func finite(_ v: Double) -> Double? { v.isFinite ? v : nil }
        func number(_ v: Any?) -> Double? {
            // JSON true/false parse as char-typed numbers: not figures.
            guard let n = v as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
            let d = n.doubleValue
            return d.isFinite ? d : nil
        }
        for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            guard let o = JSONValue.foundationObject(Data(text.utf8)) else {
                throw EvalError("\(path):\(i + 1): not a JSON object")
            }
            guard let type = o["type"] as? String, type == "step" || type == "validation" else { continue }
            guard let model = o["model"] as? String else { throw EvalError("\(path):\(i + 1): \(type) record has no \"model\"") }
            switch MetricRecord(json: o) {
            case .step(let s):
                guard number(o["global_step"]) != nil else { throw EvalError("\(path):\(i + 1): step record has no numeric \"global_step\"") }
                note(model)
                if let l = finite(s.loss) { loss[model, default: []].append(Point(x: Double(s.globalStep), y: l)) }
            case .validation(let v):
                guard number(o["round"]) != nil else { throw EvalError("\(path):\(i + 1): validation record has no numeric \"round\"") }
                note(model)
                vals[model, default: []].append(Validation(round: v.round, loss: finite(v.loss), accuracy: finite(v.overallAccuracy),
                                                           isFinal: v.final))
            default: continue
            }
        }
        guard !models.isEmpty else { throw EvalError("\(path): holds no step or validation records") }
        self.models = models
        self.loss = loss
        self.validations = vals
    }

    /// The figure each model is judged by: its validation marked final, else its last one.
    public func lastValidation(_ model: String) -> Validation? {
        let v = validations[model] ?? []
        return v.last(where: \.isFinal) ?? v.last
    }

    /// Two panels: training loss over global step, validation accuracy over round; one
    /// polyline per model in each (class "loss" / "accuracy", data-model the name).
    public var svg: String {
        let lossSeries = models.map { ($0, loss[$0] ?? []) }
        let accSeries = models.map { m in
            (m, (validations[m] ?? []).compactMap { v in v.accuracy.map { Point(x: Double(v.round), y: $0) } })
        }
        let panelW = 440, panelH = 300, legendH = 20 * models.count + 10
        let width = 2 * panelW + 20, height = panelH + legendH + 10
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += LinePanel.svg(title: "training loss", xLabel: "global step", series: lossSeries, kind: "loss",
                           x0: 0, y0: 0, width: panelW, height: panelH, markers: false)
        s += LinePanel.svg(title: "validation accuracy", xLabel: "round", series: accSeries, kind: "accuracy",
                           x0: panelW + 20, y0: 0, width: panelW, height: panelH, markers: true)
        for (i, m) in models.enumerated() {
            let y = panelH + 20 + 20 * i
            s += "<line x1=\"60\" y1=\"\(y)\" x2=\"90\" y2=\"\(y)\" stroke=\"\(LinePanel.color(i))\" stroke-width=\"2\"/>"
            s += "<text x=\"96\" y=\"\(y + 4)\">\(ReportText.xml(m))</text>\n"
        }
        return s + "</svg>\n"
    }

    public var html: String {
        let rows: [[String]] = models.map { m in
            let v = lastValidation(m)
            return [m, String((loss[m] ?? []).count), ReportText.fixed((loss[m] ?? []).last?.y),
                    v.map { String($0.round) } ?? "n/a", ReportText.fixed(v?.loss), ReportText.fixed(v?.accuracy),
                    v.map { $0.isFinal ? "yes" : "no" } ?? "n/a"]
        }
        let body = "<p>run <code>\(ReportText.xml(runDir))</code></p>\n"
            + ReportText.htmlTable(["model", "steps", "last training loss", "validation round", "validation loss",
                                    "validation accuracy", "final"], rows)
            + "<h2>Curves</h2>\n" + svg
        return ReportText.htmlPage(title: "rstrain run report", body: body)
    }

    /// Model, validation round, loss, accuracy per model (its final or last validation).
    public var text: String {
        ReportText.table([["model", "steps", "last loss", "val round", "val loss", "val accuracy"]] + models.map { m in
            let v = lastValidation(m)
            return [m, String((loss[m] ?? []).count), ReportText.fixed((loss[m] ?? []).last?.y),
                    v.map { String($0.round) } ?? "n/a", ReportText.fixed(v?.loss), ReportText.fixed(v?.accuracy)]
        })
    }

    /// curves.svg and report.html in `dir`.
    public func write(to dir: String) throws {
        try ReportFiles.write([("curves.svg", svg), ("report.html", html)], to: dir)
    }
}

/// One line chart: axes with round-number ticks, one polyline per series.
enum LinePanel {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    static func color(_ i: Int) -> String { palette[i % palette.count] }

    static func svg(title: String, xLabel: String, series: [(String, [RunCurves.Point])], kind: String,
                    x0: Int, y0: Int, width: Int, height: Int, markers: Bool) -> String {
        let pts = series.flatMap(\.1)
        let left = Double(x0 + 55), right = Double(x0 + width - 10), top = Double(y0 + 25), bottom = Double(y0 + height - 35)
        var (xmin, xmax) = (pts.map(\.x).min() ?? 0, pts.map(\.x).max() ?? 1)
        var (ymin, ymax) = (pts.map(\.y).min() ?? 0, pts.map(\.y).max() ?? 1)
        if xmax <= xmin { xmin -= 0.5; xmax += 0.5 }
        if ymax <= ymin { ymin -= 0.5; ymax += 0.5 }
        let xt = ticks(xmin, xmax), yt = ticks(ymin, ymax)
        xmin = min(xmin, xt.first!); xmax = max(xmax, xt.last!); ymin = min(ymin, yt.first!); ymax = max(ymax, yt.last!)
        func px(_ x: Double) -> Double { left + (x - xmin) / (xmax - xmin) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (y - ymin) / (ymax - ymin) * (bottom - top) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var s = "<g class=\"panel-\(kind)\">\n"
        s += "<text x=\"\(f((left + right) / 2))\" y=\"\(y0 + 15)\" text-anchor=\"middle\" font-weight=\"bold\">\(ReportText.xml(title))</text>\n"
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\" fill=\"none\" stroke=\"#888\"/>\n"
        for t in xt {
            s += "<line x1=\"\(f(px(t)))\" y1=\"\(f(bottom))\" x2=\"\(f(px(t)))\" y2=\"\(f(bottom + 4))\" stroke=\"#888\"/>"
            s += "<text x=\"\(f(px(t)))\" y=\"\(f(bottom + 15))\" text-anchor=\"middle\">\(label(t))</text>\n"
        }
        for t in yt {
            s += "<line x1=\"\(f(left - 4))\" y1=\"\(f(py(t)))\" x2=\"\(f(right))\" y2=\"\(f(py(t)))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(label(t))</text>\n"
        }
        s += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(bottom + 30))\" text-anchor=\"middle\">\(ReportText.xml(xLabel))</text>\n"
        for (i, (name, points)) in series.enumerated() where !points.isEmpty {
            let list = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            s += "<polyline class=\"\(kind)\" data-model=\"\(ReportText.xml(name))\" fill=\"none\" stroke=\"\(color(i))\" stroke-width=\"1.5\" points=\"\(list)\"/>\n"
            if markers {
                for p in points { s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"\(color(i))\"/>" }
                s += "\n"
            }
        }
        return s + "</g>\n"
    }

    /// About five ticks at 1, 2 or 5 × 10^n spacing covering [lo, hi].
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        let raw = (hi - lo) / 5
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        let start = floor(lo / step) * step, end = ceil(hi / step) * step
        return stride(from: start, through: end + step / 2, by: step).map { $0 }
    }

    static func label(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e9 { return String(Int(v)) }
        return String(format: "%g", v)
    }
}
