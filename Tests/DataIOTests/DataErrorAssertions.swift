import DataIO
import XCTest

extension XCTestCase {
    /// Runs `body`, which must throw a `DataError` whose path is `file` and whose text holds
    /// every string of `words` (case-insensitive).
    func assertDataError(file path: String, _ words: [String], source: StaticString = #filePath, line: UInt = #line,
                         _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("no error (expected one naming \(path))", file: source, line: line)
        } catch let e as DataError {
            XCTAssertEqual(e.path, path, "\(e)", file: source, line: line)
            let text = "\(e)"
            XCTAssertTrue(text.contains(path), text, file: source, line: line)
            for w in words { XCTAssertTrue(text.lowercased().contains(w.lowercased()), "'\(w)' not in: \(text)", file: source, line: line) }
        } catch {
            XCTFail("not a DataError: \(error)", file: source, line: line)
        }
    }
}
