import Foundation

/// The row-normalised confusion matrix as an SVG heat map: white (0) to dark blue (1), each
/// cell labelled with its share and, on hover, its count.
enum ConfusionHeatMap {
    static func svg(normalized: [Double], counts: [Int], labels: [String], colors: [String]?) -> String {
        let k = labels.count
        let cell = k <= 10 ? 48 : max(14, 480 / k)
        let labelWidth = min(200, 16 + 7 * (labels.map(\.count).max() ?? 1))
        let left = labelWidth + 30, top = labelWidth + 30
        let width = left + k * cell + 20, height = top + k * cell + 20
        let x = ReportText.xml
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<text x=\"\(left + k * cell / 2)\" y=\"14\" text-anchor=\"middle\" font-weight=\"bold\">predicted</text>\n"
        s += "<text x=\"14\" y=\"\(top + k * cell / 2)\" text-anchor=\"middle\" font-weight=\"bold\" transform=\"rotate(-90 14 \(top + k * cell / 2))\">reference</text>\n"
        for c in 0..<k {
            let swatch = colors.flatMap { $0[c].isEmpty ? nil : $0[c] }
            let cx = left + c * cell + cell / 2, ry = top + c * cell + cell / 2
            // Column labels run upwards so long names fit; row labels end at the matrix.
            s += "<text x=\"\(cx)\" y=\"\(top - 8)\" transform=\"rotate(-90 \(cx) \(top - 8))\" dominant-baseline=\"middle\">\(x(labels[c]))</text>\n"
            s += "<text x=\"\(left - 8)\" y=\"\(ry)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(x(labels[c]))</text>\n"
            if let swatch {
                s += "<rect x=\"\(left - 6)\" y=\"\(top + c * cell)\" width=\"4\" height=\"\(cell)\" fill=\"\(x(swatch))\"/>\n"
                s += "<rect x=\"\(left + c * cell)\" y=\"\(top - 6)\" width=\"\(cell)\" height=\"4\" fill=\"\(x(swatch))\"/>\n"
            }
        }
        for r in 0..<k {
            for c in 0..<k {
                let v = normalized[r * k + c]
                let fill = shade(v)
                s += "<rect x=\"\(left + c * cell)\" y=\"\(top + r * cell)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(fill)\" stroke=\"#ddd\">"
                s += "<title>reference \(x(labels[r])), predicted \(x(labels[c])): \(counts[r * k + c]) pixels (\(ReportText.fixed(v, 3)))</title></rect>\n"
                if cell >= 28 {
                    s += "<text x=\"\(left + c * cell + cell / 2)\" y=\"\(top + r * cell + cell / 2)\" text-anchor=\"middle\" dominant-baseline=\"middle\" fill=\"\(v > 0.5 ? "#fff" : "#222")\">\(ReportText.fixed(v, 2))</text>\n"
                }
            }
        }
        return s + "</svg>\n"
    }

    /// White to #08306b, linear in each channel.
    static func shade(_ v: Double) -> String {
        let t = min(max(v, 0), 1)
        func mix(_ a: Double) -> Int { Int((255 + (a - 255) * t).rounded()) }
        return String(format: "#%02x%02x%02x", mix(8), mix(48), mix(107))
    }
}
