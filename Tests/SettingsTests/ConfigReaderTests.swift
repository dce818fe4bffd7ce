import Settings
import XCTest

/// Settings read through ConfigReader: typed getters, defaults, unknown keys, and errors that
/// name the key by its JSON path and the document.
final class ConfigReaderTests: XCTestCase {
    let doc = #"""
    {"name": "run", "epochs": 3, "lr": 0.001, "augment": true, "levels": [1, 2, 4], "mode": "exact", "seed": 1e3,
     "data": {"window": 32, "shards": ["a", {"path": "b", "ranks": [1]}, {"path": 7}]}}
    """#

    func reader(_ text: String? = nil) throws -> ConfigReader {
        ConfigReader(try XCTUnwrap(JSONValue.parse(text ?? doc).object), context: "test.json")
    }

    func error(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
        do { try body(); XCTFail("no error", file: file, line: line); return nil } catch {
            guard let e = error as? ConfigError else { XCTFail("\(error)", file: file, line: line); return nil }
            XCTAssertEqual(e.context, "test.json", file: file, line: line)
            return e
        }
    }

    enum Mode: String { case fast, exact }

    func testTypedGettersAndDefaults() throws {
        var r = try reader()
        XCTAssertEqual(try r.string("name"), "run")
        XCTAssertEqual(try r.positive("epochs"), 3)
        XCTAssertEqual(try r.double("lr"), 0.001)
        XCTAssertEqual(try r.float("lr"), Float(0.001))
        XCTAssertEqual(try r.bool("augment"), true)
        XCTAssertEqual(try r.ints("levels"), [1, 2, 4])
        XCTAssertEqual(try r.choice("mode", default: Mode.fast), .exact)
        XCTAssertEqual(try r.int("seed"), 1000)
        XCTAssertEqual(try r.int("micro_batch", default: 8), 8)
        XCTAssertEqual(try r.choice("reduction", default: Mode.fast), .fast)
        XCTAssertNil(try r.optionalObject("watchdog"))
        var data = try r.object("data")
        XCTAssertEqual(data.path, "data")
        XCTAssertEqual(try data.int("window"), 32)
        let shards = try XCTUnwrap(try data.array("shards"))
        XCTAssertEqual(shards.map(\.path), ["data.shards[0]", "data.shards[1]", "data.shards[2]"])
        XCTAssertEqual(shards[0].value, "a")
        var s1 = try shards[1].reader()
        XCTAssertEqual(try s1.string("path"), "b")
        XCTAssertEqual(try s1.array("ranks")?.compactMap(\.value.int), [1])
        try s1.rejectUnknown()
        try data.rejectUnknown()
        try r.rejectUnknown()
    }

    func testMissingAndWrongTypesKeepTheirMessages() throws {
        var r = try reader()
        XCTAssertEqual(error { _ = try r.string("run_dir") }?.description, "test.json: key 'run_dir' is missing")
        XCTAssertEqual(error { _ = try r.int("lr") }?.message, "must be an integer, got 0.001")
        XCTAssertEqual(error { _ = try r.double("name") }?.message, "must be a number, got run")
        XCTAssertEqual(error { _ = try r.string("epochs") }?.message, "must be a string, got 3")
        XCTAssertEqual(error { _ = try r.bool("epochs") }?.message, "must be true or false, got 3")
        XCTAssertEqual(error { _ = try r.ints("name") }?.message, "must be a list of integers, got run")
        XCTAssertEqual(error { _ = try r.int("augment") }?.message, "must be an integer, got true")
        XCTAssertEqual(error { _ = try r.object("name") }?.message, "must be a JSON object")
        XCTAssertEqual(error { _ = try r.array("name") }?.message, "must be a list")
        XCTAssertEqual(error { _ = try r.choice("name", default: Mode.fast) }?.message, "has unknown value 'run'")
        var small = try reader(#"{"workers": 0, "levels": [1, 2.5]}"#)
        XCTAssertEqual(error { _ = try small.positive("workers") }?.message, "must be at least 1, got 0")
        XCTAssertEqual(error { _ = try small.ints("levels") }?.message, "must be a list of integers, got [1,2.5]")
    }

    /// Unknown keys are refused (the first alphabetically), listing the keys read — defaults
    /// included — or the given list.
    func testUnknownKeysAreRefusedWithTheKnownList() throws {
        var r = try reader(#"{"epochs": 1, "windw": 3, "epoch": 2, "off": null}"#)
        _ = try r.int("epochs")
        _ = try r.int("window", default: 256)
        _ = try r.bool("off", default: false)
        XCTAssertEqual(error { try r.rejectUnknown() }?.description,
                       "test.json: key 'epoch' is not a known setting (known: epochs, off, window)")
        XCTAssertEqual(error { try r.rejectUnknown(known: ["epochs", "window"]) }?.message,
                       "is not a known setting (known: epochs, window)")
    }

    /// Errors inside a nested object or a list element name the whole path.
    func testErrorsCarryThePath() throws {
        var r = try reader()
        var data = try r.object("data")
        XCTAssertEqual(error { _ = try data.string("kind") }?.key, "data.kind")
        let shards = try XCTUnwrap(try data.array("shards"))
        var bad = try shards[2].reader()
        XCTAssertEqual(error { _ = try bad.string("path") }?.description, "test.json: key 'data.shards[2].path' must be a string, got 7")
        XCTAssertEqual(error { _ = try shards[0].reader(orError: "must be an object") }?.description,
                       "test.json: key 'data.shards[0]' must be an object")
        var s1 = try shards[1].reader()
        _ = try s1.string("path")
        XCTAssertEqual(error { try s1.rejectUnknown() }?.key, "data.shards[1].ranks")
        XCTAssertEqual(shards[1].error("is owned twice").key, "data.shards[1]")
        XCTAssertEqual(try r.section("watchdog").path, "watchdog")
        XCTAssertEqual(ConfigError(key: "min_lr", "is missing", context: "learning-rate schedule").nested(in: "schedule").description,
                       "learning-rate schedule: key 'schedule.min_lr' is missing")
    }
}
