import Foundation

/// Small text helpers shared by the evaluation reports (tables, CSV, SVG, HTML).
enum ReportText {
    /// A figure with 4 decimals, or "n/a" when undefined.
    static func fixed(_ v: Double?, _ digits: Int = 4) -> String {
        guard let v, v.isFinite else { return "n/a" }
        return String(format: "%.\(digits)f", v)
    }

    /// A figure for CSV: shortest round-trip text, or empty when undefined.
    static func csv(_ v: Double?) -> String { v.map { $0.isFinite ? "\($0)" : "" } ?? "" }

    /// A CSV field, quoted when it holds a comma, quote or line break.
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Text safe inside XML/HTML elements and attribute values.
    static func xml(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// JSON value of an optional figure (null when undefined or not finite).
    static func json(_ v: Double?) -> Any { v.flatMap { $0.isFinite ? $0 : nil } ?? NSNull() }

    /// Left-aligned first column, right-aligned others, columns two spaces apart.
    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        let widths = (0..<first.count).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, s in
                let pad = String(repeating: " ", count: widths[c] - s.count)
                return c == 0 ? s + pad : pad + s
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// Self-contained HTML page: a title, inline CSS and `body`.
    static func htmlPage(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(xml(title))</title>
        <style>
        body { font-family: sans-serif; margin: 2em; color: #222; }
        table { border-collapse: collapse; margin: 1em 0; }
        th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        th { background: #f0f0f0; }
        </style></head><body>
        <h1>\(xml(title))</h1>
        \(body)
        </body></html>

        """
    }

    /// An HTML table from a header row and data rows (text is escaped).
    static func htmlTable(_ header: [String], _ rows: [[String]]) -> String {
        var s = "<table>\n<tr>" + header.map { "<th>\(xml($0))</th>" }.joined() + "</tr>\n"
        for r in rows { s += "<tr>" + r.map { "<td>\(xml($0))</td>" }.joined() + "</tr>\n" }
        return s + "</table>\n"
    }
}

/// Writes a set of report files into a directory (created if missing), each complete or not
/// at all: all are written as NAME.tmp first, then renamed into place.
enum ReportFiles {
    static func write(_ files: [(name: String, text: String)], to dir: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw EvalError("\(dir): exists and is not a directory") }
        } else {
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            catch { throw EvalError("\(dir): cannot create the output directory: \(error.localizedDescription)") }
        }
        var written: [String] = []
        defer { for t in written { try? fm.removeItem(atPath: t) } }
        for f in files {
            let tmp = dir + "/" + f.name + ".tmp"
            guard fm.createFile(atPath: tmp, contents: Data(f.text.utf8)) else {
                throw EvalError("\(tmp): cannot write")
            }
            written.append(tmp)
        }
        for f in files {
            let tmp = dir + "/" + f.name + ".tmp", path = dir + "/" + f.name
            guard rename(tmp, path) == 0 else { throw EvalError("\(path): cannot rename \(tmp) into place: \(String(cString: strerror(errno)))") }
            written.removeAll { $0 == tmp }
        }
    }
}
