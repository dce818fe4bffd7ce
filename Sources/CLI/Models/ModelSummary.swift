import Engine
import Models

/// A Keras-summary-like table: layer (op), output shape per sample, parameters, the algorithm
/// planned for the model's batch (convolutions), inputs; totals.
struct ModelSummary {
    let model: Model
    init(_ m: Model) { model = m }

    var text: String {
        let g = model.graph
        var rows: [(String, String, String, String, String)] = [("input (input)", perSample(model.inputShape), "0", "", "")]
        var total = 0, state = 0
        for n in g.nodes {
            let ins = n.inputs.map { g.shape($0) }
            let count = n.layer.parameters(ins).reduce(0) { $0 + $1.shape.count }
            state += n.layer.state(ins).reduce(0) { $0 + $1.shape.count }
            total += count
            let from = n.inputs.count > 1 ? n.inputs.map { name(of: $0) }.joined(separator: ", ") : ""
            let algorithm = g.layerPlan(n).algorithm?.description ?? ""
            rows.append(("\(n.name) (\(n.layer.kind(for: ins)))", perSample(g.shape(n.output)), grouped(count), algorithm, from))
        }
        let w0 = max(24, rows.map(\.0.count).max()!), w1 = max(14, rows.map(\.1.count).max()!), w2 = max(9, rows.map(\.2.count).max()!)
        let w3 = max(9, rows.map(\.3.count).max()!)
        func pad(_ s: String, _ w: Int) -> String { s.padding(toLength: w, withPad: " ", startingAt: 0) }
        func lpad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        var out = ["Model: \(model.arch) (\(model.task.rawValue)), input \(perSample(model.inputShape)) per sample"]
        let rule = String(repeating: "─", count: w0 + w1 + w2 + w3 + 18)
        out.append(rule)
        out.append("\(pad("Layer (type)", w0))  \(pad("Output shape", w1))  \(lpad("Param #", w2))  \(pad("Algorithm", w3))  Inputs")
        out.append(rule)
        for r in rows {
            let line = "\(pad(r.0, w0))  \(pad(r.1, w1))  \(lpad(r.2, w2))  \(pad(r.3, w3))  \(r.4)"
            out.append(String(line.reversed().drop { $0 == " " }.reversed()))
        }
        out.append(rule)
        out.append("Total params: \(grouped(total))")
        out.append("Non-trainable state (batch-norm running statistics): \(grouped(state))")
        out.append("Output: \(perSample(model.outputShape)) per sample")
        out.append("Algorithms: as planned for a micro-batch of \(model.graph.shape(model.input).batch) (--batch)")
        return out.joined(separator: "\n")
    }

    private func name(of v: Value) -> String {
        model.graph.nodes.first { $0.output == v }?.name ?? "input"
    }
    private func perSample(_ s: Shape) -> String { Shape(Array(s.dims.dropFirst())).description }
}

/// 1945210 → "1,945,210".
func grouped(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, c) in s.reversed().enumerated() {
        if i > 0 && i % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return String(out.reversed())
}
