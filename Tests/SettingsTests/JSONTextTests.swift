import Foundation
import Settings
import XCTest

/// The parser (RFC 8259, errors with line and column) and the writer.
final class JSONTextTests: XCTestCase {
    func syntaxError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONSyntaxError? {
        do { _ = try JSONValue.parse(text); XCTFail("parsed: \(text)", file: file, line: line); return nil } catch {
            guard let e = error as? JSONSyntaxError else { XCTFail("\(error)", file: file, line: line); return nil }
            return e
        }
    }

    func testParsesEveryKindOfValue() throws {
        let v = try JSONValue.parse(" \n{\"a\": [1, -2.5e3, true, false, null, \"x\"], \"b\": {\"c\": {}}, \"d\": []}\r\n\t")
        XCTAssertEqual(v, ["a": [1, -2500, true, false, nil, "x"], "b": ["c": [:]], "d": []])
        XCTAssertEqual(try JSONValue.parse("7"), 7)
        XCTAssertEqual(try JSONValue.parse("\"top\""), "top")
        XCTAssertEqual(try JSONValue.parse(Data([0xEF, 0xBB, 0xBF] + Array("[]".utf8))), [])
    }

    func testStringEscapes() throws {
        let v = try JSONValue.parse(#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u4E2D", "\ud83d\ude00", "é中😀"]"#)
        XCTAssertEqual(v, ["a\"b\\c/d\u{08}\u{0C}\n\r\t", "é中", "😀", "é中😀"])
        // Written back: quotes, backslashes and control characters escaped, the rest as is.
        XCTAssertEqual(try JSONValue.string("a\"b\\c/\n\u{01}é😀").text(), #""a\"b\\c/\n\u0001é😀""#)
        let s = "tab\there \"quoted\" \\ \u{7F} \u{1F} ü"
        XCTAssertEqual(try JSONValue.parse(try JSONValue.string(s).text()), .string(s))
    }

    func testSyntaxErrorsGiveLineAndColumn() {
        let trailing = syntaxError("{\n  \"a\": 1,\n  \"b\": 2,\n}")
        XCTAssertEqual(trailing?.line, 4)
        XCTAssertEqual(trailing?.column, 1)
        XCTAssertEqual(trailing?.message, "trailing comma before '}'")
        XCTAssertEqual(syntaxError("[1, 2,]")?.description, "line 1, column 7: trailing comma before ']'")
        let open = syntaxError("{\"name\": \"unet}")
        XCTAssertEqual(open.map { [$0.line, $0.column] }, [1, 10])
        XCTAssertEqual(open?.message, "unterminated string")
        XCTAssertEqual(syntaxError("[\"line\nbreak\"]")?.message, "unterminated string")
        let escape = syntaxError("[\"ok\",\n \"bad \\x escape\"]")
        XCTAssertEqual(escape.map { [$0.line, $0.column] }, [2, 7])
        XCTAssertTrue(escape?.message.hasPrefix("invalid escape '\\x'") ?? false, "\(String(describing: escape))")
        // Columns count characters, not bytes.
        XCTAssertEqual(syntaxError("[\"é\", x]")?.column, 7)
    }

    func testOtherSyntaxErrors() {
        for (text, fragment) in [
            ("", "end of input"), ("[1 2]", "expected ',' or ']'"), ("{\"a\" 1}", "expected ':'"), ("{a: 1}", "expected a key"),
            ("[01]", "not a JSON number"), ("[1.]", "not a JSON number"), ("[.5]", "expected a value"), ("[+1]", "expected a value"),
            ("[-]", "not a JSON number"), ("[tru]", "expected a value"), ("[NaN]", "expected a value"), ("[1] x", "after the JSON value"),
            ("{\"a\": 1, \"a\": 2}", "duplicate key 'a'"), ("[\"\\ud800\"]", "lone surrogate"), ("[\"\\udc00\"]", "lone surrogate"),
            ("[\"\\u12\"]", "four hex digits"), ("[\"a\tb\"]", "control character U+0009"),
            (String(repeating: "[", count: 600) + String(repeating: "]", count: 600), "nesting deeper than 512"),
        ] {
            let e = syntaxError(text)
            XCTAssertTrue(e?.message.contains(fragment) ?? false, "\(text): \(String(describing: e))")
        }
        XCTAssertNotNil(try? JSONValue.parse(String(repeating: "[", count: 500) + String(repeating: "]", count: 500)))
    }

    func testWriterKeepsKeyOrderAndIndents() throws {
        var o: JSONObject = ["z": 1, "a": [true, nil], "m": [:]]
        o["b"] = "x"
        o["z"] = 2
        XCTAssertEqual(Array(o.keys), ["z", "a", "m", "b"])
        XCTAssertEqual(try JSONValue.object(o).text(), #"{"z":2,"a":[true,null],"m":{},"b":"x"}"#)
        XCTAssertEqual(try JSONValue.object(o).text(pretty: true), """
        {
          "z": 2,
          "a": [
            true,
            null
          ],
          "m": {},
          "b": "x"
        }
        """)
        // A parsed document keeps its order when written back.
        let text = #"{"run_dir":"r","seed":18446744073709551615,"data":{"window":32,"shards":["a"]},"lr":0.3944873595505618}"#
        XCTAssertEqual(try JSONValue.parse(text).text(), text)
        o["a"] = nil
        XCTAssertEqual(Array(o.keys), ["z", "m", "b"])
        XCTAssertEqual(o, ["b": "x", "m": [:], "z": 2], "equality ignores the order")
    }

    /// JSONSerialization-style values in and out, for callers that still hold [String: Any].
    func testFoundationBridge() throws {
        let text = #"{"b": true, "i": 16, "u": 18446744073709551615, "d": 0.25, "s": "x", "n": null, "a": [1, false, [2.5]]}"#
        let fromFoundation = try XCTUnwrap(JSONValue(foundation: try JSONSerialization.jsonObject(with: Data(text.utf8))))
        XCTAssertEqual(fromFoundation, try JSONValue.parse(text))
        XCTAssertEqual(fromFoundation["b"], true)
        XCTAssertEqual(fromFoundation["i"]?.number?.text, "16")
        XCTAssertEqual(fromFoundation["u"]?.uint64, .max)
        let swift: [String: Any] = ["arch": "unet", "filters": 16, "dropout": 0.1, "f": Float(0.1), "on": true, "levels": [1, 2]]
        let v = try XCTUnwrap(JSONValue(foundation: swift))
        XCTAssertEqual(v, ["arch": "unet", "dropout": 0.1, "f": 0.1, "filters": 16, "levels": [1, 2], "on": true])
        XCTAssertEqual(Array(try XCTUnwrap(v.object).keys), ["arch", "dropout", "f", "filters", "levels", "on"], "sorted")
        XCTAssertNil(JSONValue(foundation: ["date": Date()]))
        // Back: what JSONSerialization would have made, so old readers keep working.
        let back = try XCTUnwrap(try JSONValue.parse(text).foundation as? [String: Any])
        XCTAssertEqual(back["b"] as? Bool, true)
        XCTAssertEqual(back["i"] as? Int, 16)
        XCTAssertEqual(back["u"] as? UInt64, .max)
        XCTAssertEqual(back["d"] as? Double, 0.25)
        XCTAssertTrue(back["n"] is NSNull)
        XCTAssertEqual(JSONValue(foundation: back), try JSONValue.parse(text))
        // As a resumed run compares the spec it saved (read by JSONSerialization) with the config's.
        let saved = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertTrue(NSDictionary(dictionary: saved).isEqual(to: back))
    }
}
