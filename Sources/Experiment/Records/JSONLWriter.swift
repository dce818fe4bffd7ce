import Foundation
import Settings

/// One JSON object per line, appended to a run file (metrics.jsonl, schedule.jsonl).
///
/// Keys are sorted and numbers exact (see `JSONText`). Each line reaches the kernel in one
/// write before `write` returns, so a killed run leaves whole lines, and at worst a torn last
/// one, which `truncate` removes on resume.
public final class JSONLWriter {
    public let path: String
    private let file: OutputFile

    /// `append`: continue the file (on resume, after `truncate`); otherwise start it empty.
    public init(path: String, append: Bool) throws {
        self.path = path
        file = try OutputFile(path: path, append: append)
    }

    /// Writes `object` as one line. A value with no JSON form throws before anything is written.
    public func write(_ object: [String: Any]) throws {
        var line: String
        do { line = try JSONText.encode(object) } catch { throw ReportError(path: path, "\(error)") }
        line += "\n"
        try file.write(Array(line.utf8))
    }

    /// Forces the lines written so far to the disk (e.g. before a checkpoint is declared valid).
    public func sync() throws { try file.sync() }

    public func close() { try? file.close() }

    /// Cuts `path` back to its leading lines for which `keepWhile` holds: on resume, the lines
    /// of steps after the checkpoint go, and so does a torn last line (no newline). Returns the
    /// number of lines kept; a missing file keeps 0 and stays missing. A complete line that is
    /// not a JSON object throws, naming the line: that is damage, not a kill.
    @discardableResult
    public static func truncate(path: String, keepWhile: ([String: Any]) -> Bool) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReportError(path: path, "cannot read: \(errnoText())")
        }
        var kept = 0, keptBytes = 0, start = data.startIndex
        while let newline = data[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = data[start..<newline]
            let object: [String: Any]
            do {
                guard let o = try JSONValue.parse(Data(line)).object?.foundation else {
                    throw ReportError(path: path, line: kept + 1, "not a JSON object")
                }
                object = o
            } catch let e as ReportError {
                throw e
            } catch {
                throw ReportError(path: path, line: kept + 1, "not valid JSON: \(String(decoding: line.prefix(80), as: UTF8.self))")
            }
            guard keepWhile(object) else { break }
            kept += 1
            start = newline + 1
            keptBytes = start - data.startIndex
        }
        if keptBytes < data.count {
            // One call: the file is either as it was or cut at a line boundary.
            guard truncateFile(path, keptBytes) == 0 else {
                throw ReportError(path: path, "cannot truncate to \(keptBytes) bytes: \(errnoText())")
            }
        }
        return kept
    }
}

// The system call under a name the static method above does not shadow.
private func truncateFile(_ path: String, _ bytes: Int) -> Int32 { truncate(path, off_t(bytes)) }
