import Engine
import Settings
import XCTest
@testable import Experiment

/// The `schedule` setting: parsed into an LRSchedule, refused naming the key's path.
final class LRScheduleSettingTests: XCTestCase {
    private func parse(_ text: String) throws -> LRSchedule { try LRSchedule(setting: try JSONValue.parse(text)) }

    func testParse() throws {
        XCTAssertEqual(try parse(#"{"type":"exponential","initial":0.01,"decay_steps":1000,"decay_rate":0.9}"#),
                       .exponentialDecay(initial: 0.01, decaySteps: 1000, decayRate: 0.9, staircase: false))
        XCTAssertEqual(try parse(#"{"type":"exponential","initial":0.01,"decay_steps":1e3,"decay_rate":0.9,"staircase":true}"#),
                       .exponentialDecay(initial: 0.01, decaySteps: 1000, decayRate: 0.9, staircase: true))
        XCTAssertEqual(try parse(#"{"type":"constant","lr":1}"#), .constant(lr: 1))
        XCTAssertEqual(try parse(#"{"type":"step","lr":0.1,"every":30,"gamma":0.5}"#), .step(lr: 0.1, every: 30, gamma: 0.5))
        XCTAssertEqual(try parse(#"{"type":"warmup","steps":100,"start_factor":0.1,"schedule":{"type":"cosine","lr":0.1,"total_steps":900}}"#),
                       .warmup(steps: 100, startFactor: 0.1, then: .cosine(lr: 0.1, totalSteps: 900, minLR: 0)))
    }

    func testRoundTrip() throws {
        let all: [LRSchedule] = [
            .constant(lr: 0.25), .step(lr: 0.1, every: 7, gamma: 0.3),
            .exponentialDecay(initial: 0.01, decaySteps: 1000, decayRate: 0.9, staircase: true),
            .warmup(steps: 3, startFactor: 0.2, then: .cosine(lr: 0.05, totalSteps: 50, minLR: 1e-4)),
        ]
        for s in all {
            XCTAssertEqual(try parse(try s.setting.text()), s)
        }
    }

    func testErrorsNameTheKey() {
        func key(_ text: String) -> String? {
            do { _ = try parse(text); return nil } catch let e as ConfigError {
                XCTAssertTrue(e.description.contains("'\(e.key)'"), e.description)
                XCTAssertEqual(e.context, "learning-rate schedule")
                return e.key
            } catch { XCTFail("\(error)"); return nil }
        }
        XCTAssertEqual(key(#"{"type":"exponential","initial":0.01,"decay_rate":0.9}"#), "decay_steps")
        XCTAssertEqual(key(#"{"type":"exponential","initial":0.01,"decay_steps":"1000","decay_rate":0.9}"#), "decay_steps")
        XCTAssertEqual(key(#"{"type":"exponential","initial":0.01,"decay_steps":10.5,"decay_rate":0.9}"#), "decay_steps")
        XCTAssertEqual(key(#"{"type":"exponential","initial":0.01,"decay_steps":0,"decay_rate":0.9}"#), "decay_steps")
        XCTAssertEqual(key(#"{"type":"exponential","initial":0.01,"decay_steps":10,"decay_rate":0.9,"staircase":1}"#), "staircase")
        XCTAssertEqual(key(#"{"type":"constant","lr":true}"#), "lr")
        XCTAssertEqual(key(#"{"type":"constant","lr":-0.1}"#), "lr")
        XCTAssertEqual(key(#"{"type":"step","lr":0.1,"every":30,"gama":0.1}"#), "gamma")
        XCTAssertEqual(key(#"{"type":"step","lr":0.1,"every":30,"gamma":0.1,"gama":0.1}"#), "gama")
        XCTAssertEqual(key(#"{"type":"linear","lr":0.1}"#), "type")
        XCTAssertEqual(key(#"{"lr":0.1}"#), "type")
        XCTAssertEqual(key(#"[1]"#), "type")
        XCTAssertEqual(key(#"{"type":"warmup","steps":10,"schedule":{"type":"cosine","lr":0.1}}"#), "schedule.total_steps")
        XCTAssertEqual(key(#"{"type":"warmup","steps":10,"start_factor":2,"schedule":{"type":"constant","lr":0.1}}"#), "start_factor")
        XCTAssertEqual(key(#"{"type":"warmup","steps":-1,"schedule":{"type":"constant","lr":0.1}}"#), "steps")
        XCTAssertEqual(key(#"{"type":"warmup","steps":10,"schedule":5}"#), "schedule")
        XCTAssertEqual(key(#"{"type":"warmup","steps":1,"schedule":{"type":"warmup","steps":1,"schedule":{"type":"step","lr":1,"every":-2,"gamma":1}}}"#),
                       "schedule.schedule.every")
    }

    /// In a run config the path starts at the optimizer section.
    func testRunConfigPath() throws {
        let text = #"""
        {"run_dir": "r", "data": {"shards": ["a"]},
         "models": [{"name": "u", "model": {"arch": "unet"},
                     "optimizer": {"schedule": {"type": "warmup", "steps": 2, "schedule": {"type": "cosine", "lr": 0.1}}}}]}
        """#
        XCTAssertThrowsError(try RunConfig(data: Data(text.utf8), file: "c.json")) {
            XCTAssertEqual(($0 as? ConfigError)?.key, "models[0].optimizer.schedule.schedule.total_steps", "\($0)")
            XCTAssertEqual(($0 as? ConfigError)?.context, "c.json")
        }
    }
}
