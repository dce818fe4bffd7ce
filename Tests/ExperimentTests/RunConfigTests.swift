import DataIO
import Engine
import Settings
import XCTest
@testable import Experiment

final class RunConfigTests: XCTestCase {
    let base: [String: Any] = [
        "run_dir": "out/run",
        "data": ["shards": ["a", ["path": "b", "ranks": [1]]], "window": 32],
        "models": [["name": "u", "model": ["arch": "unet", "bands": 10, "classes": 8, "filters": 4, "levels": 2]]],
    ]

    func parse(_ json: [String: Any]) throws -> RunConfig {
        try RunConfig(data: try JSONSerialization.data(withJSONObject: json), file: "test.json")
    }

    /// `json` with the value at a dotted path replaced (nil removes it).
    func with(_ path: String, _ value: Any?) -> [String: Any] {
        func set(_ o: [String: Any], _ keys: ArraySlice<String>) -> [String: Any] {
            var o = o
            let k = keys.first!
            if keys.count == 1 { o[k] = value } else { o[k] = set(o[k] as? [String: Any] ?? [:], keys.dropFirst()) }
            return o
        }
        return set(base, path.split(separator: ".").map(String.init)[...])
    }

    func assertRefused(_ json: [String: Any], key: String, _ fragment: String = "", line: UInt = #line) {
        XCTAssertThrowsError(try parse(json), line: line) { e in
            guard let c = e as? ConfigError else { return XCTFail("\(e)", line: line) }
            XCTAssertEqual(c.key, key, "\(c)", line: line)
            XCTAssertEqual(c.context, "test.json", line: line)
            XCTAssertTrue(fragment.isEmpty || c.message.contains(fragment), "\(c)", line: line)
        }
    }

    func testDefaults() throws {
        let c = try parse(base)
        XCTAssertEqual(c.mode, .roundRobin)
        XCTAssertEqual(c.reduction, .fast)
        XCTAssertEqual(c.microBatch, 8)
        XCTAssertEqual(c.batch, 8)
        XCTAssertEqual(c.data.shards.map(\.name), ["a", "b"])
        XCTAssertEqual(c.data.shards[1].ranks, [1])
        XCTAssertEqual(c.data.tiles.windowSize, 32)
        XCTAssertEqual(c.data.normalization, .statistics)
        XCTAssertEqual(c.models[0].optimizer, .adam)
        XCTAssertEqual(c.models[0].schedule, .constant(lr: 1e-3))
        XCTAssertEqual(c.checkpointKeep, 3)
        XCTAssertNil(c.checkpointEvery)
    }

    func testRefusedWithThePathOfTheKey() {
        assertRefused(with("epochs", 0), key: "epochs", "at least 1")
        assertRefused(with("epoch", 3), key: "epoch", "not a known setting")
        assertRefused(with("data.windw", 3), key: "data.windw", "not a known setting")
        assertRefused(with("data.window", "big"), key: "data.window", "integer")
        assertRefused(with("mode", "ring"), key: "mode", "unknown value")
        assertRefused(with("data.shards", [["path": "a", "rank": [0]]]), key: "data.shards[0].rank", "not a known setting")
        assertRefused(with("data.shards", [["path": "a", "ranks": [0], "hosts": ["h"]]]), key: "data.shards[0].hosts")
        assertRefused(with("data.shards", ["a", "x/a"]), key: "data.shards", "two shards named 'a'")
        assertRefused(with("data.modality", "sen2"), key: "data.modality", "So2Sat")
        assertRefused(with("data.normalization", ["type": "scale", "divisor": 0]), key: "data.normalization.divisor")
        assertRefused(with("models", [["name": "u", "model": ["arch": "unet", "filtrs": 3]]]), key: "models[0].model.filtrs")
        assertRefused(with("models", [["name": "u", "model": ["arch": "unet"]], ["name": "u", "model": ["arch": "unet"]]]), key: "models[1].name")
        assertRefused(with("models", [["name": "u", "model": ["arch": "unet"], "optimizer": ["type": "adam", "momentum": 0.9]]]),
                      key: "models[0].optimizer.momentum", "sgd only")
        assertRefused(with("optimizer", ["type": "sgd", "lr": -1]), key: "optimizer.lr")
        assertRefused(with("watchdog", ["warn_seconds": 10, "abort_seconds": 5]), key: "watchdog.abort_seconds")
        assertRefused(with("checkpoint", ["every": 5]), key: "checkpoint.every", "not a known setting")
        assertRefused(with("models", [["name": "u", "model": "no/such/file.json"]]), key: "models[0].model", "cannot be read")
    }

    /// Unset, the all-reduce follows the group's hosts: 256 KB chunks after backward on one host,
    /// 4 MB buckets (16 MB from 8 ranks) overlapped with backward across hosts (fast mode; exact
    /// never overlaps).
    /// Set, the keys win; out-of-range values are refused by key.
    func testAllreduceSettingsFollowTheHostsUnlessSet() throws {
        let c = try parse(base)
        XCTAssertEqual(c.allreduceDefaults(hosts: 1, ranks: 2).bucketBytes, 256 << 10)
        XCTAssertEqual(c.allreduceDefaults(hosts: 1, ranks: 16).bucketBytes, 256 << 10)
        XCTAssertFalse(c.allreduceDefaults(hosts: 1, ranks: 2).overlap)
        XCTAssertEqual(c.allreduceDefaults(hosts: 3, ranks: 3).bucketBytes, 4 << 20)
        XCTAssertEqual(c.allreduceDefaults(hosts: 4, ranks: 16).bucketBytes, 16 << 20)
        XCTAssertTrue(c.allreduceDefaults(hosts: 3, ranks: 3).overlap)
        let exact = try parse(with("reduction", "exact"))
        XCTAssertEqual(exact.allreduceDefaults(hosts: 3, ranks: 3).bucketBytes, 4 << 20)
        XCTAssertFalse(exact.allreduceDefaults(hosts: 3, ranks: 3).overlap)
        var set = base
        set["allreduce_bucket_mb"] = 1.5
        set["overlap_allreduce"] = false
        let s = try parse(set)
        XCTAssertEqual(s.allreduceDefaults(hosts: 3, ranks: 16).bucketBytes, 3 << 19)
        XCTAssertFalse(s.allreduceDefaults(hosts: 3, ranks: 3).overlap)
        set["overlap_allreduce"] = true
        XCTAssertTrue(try parse(set).allreduceDefaults(hosts: 1, ranks: 2).overlap)
        assertRefused(with("allreduce_bucket_mb", 0), key: "allreduce_bucket_mb", "between")
        assertRefused(with("allreduce_bucket_mb", 2048), key: "allreduce_bucket_mb", "between")
        var bad = with("reduction", "exact")
        bad["overlap_allreduce"] = true
        assertRefused(bad, key: "overlap_allreduce", "fast reduction only")
    }

    func testMissingConfigFileIsNamed() {
        XCTAssertThrowsError(try RunConfig(path: "/no/such/dir/config.json")) { e in
            XCTAssertTrue("\(e)".contains("/no/such/dir/config.json") && "\(e)".contains("does not exist"), "\(e)")
        }
    }

    func testFingerprintIgnoresSafeChanges() throws {
        let a = try parse(base).fingerprint
        XCTAssertEqual(try parse(with("epochs", 5)).fingerprint, a, "more epochs resume")
        XCTAssertEqual(try parse(with("data.shards", ["a", ["path": "b", "ranks": [0]]])).fingerprint, a, "placement does not change results")
        XCTAssertNotEqual(try parse(with("seed", 7)).fingerprint, a)
        XCTAssertNotEqual(try parse(with("data.window", 64)).fingerprint, a)
    }

    /// `models[i].loss`: the task's loss by default; the other one of its task by name; a loss of
    /// the other task, class weights beside a loss they do not weight, and a loss on a forest are
    /// refused naming the key.
    func testLossIsChosenPerModelAndCheckedAgainstItsTask() throws {
        let unet: [String: Any] = ["arch": "unet", "bands": 10, "classes": 8, "filters": 4, "levels": 2]
        let regressor: [String: Any] = ["arch": "unet", "bands": 10, "classes": 2, "filters": 4, "levels": 2, "task": "regression"]
        func model(_ spec: [String: Any], _ extra: [String: Any] = [:]) -> [String: Any] {
            with("models", [["name": "u", "model": spec].merging(extra) { $1 }])
        }
        XCTAssertEqual(try parse(base).models[0].loss, .crossEntropy)
        XCTAssertEqual(try parse(model(regressor)).models[0].loss, .mse)
        XCTAssertEqual(try parse(model(unet, ["loss": "binary_cross_entropy"])).models[0].loss, .binaryCrossEntropy)
        XCTAssertEqual(try parse(model(regressor, ["loss": "l1"])).models[0].loss, .l1)
        XCTAssertEqual(try parse(base).models[0].model?.arch, "unet", "the spec is parsed once, with the config")
        assertRefused(model(unet, ["loss": "mse"]), key: "models[0].loss", "classification")
        assertRefused(model(regressor, ["loss": "cross_entropy"]), key: "models[0].loss", "regression")
        assertRefused(model(unet, ["loss": "hinge"]), key: "models[0].loss", "unknown value")
        assertRefused(model(unet, ["loss": "binary_cross_entropy", "class_weights": [1, 2]]), key: "models[0].class_weights",
                      "cross_entropy")
        let forest: [String: Any] = ["name": "rf", "model": ["arch": "random_forest"], "loss": "l1"]
        assertRefused(with("models", [["name": "u", "model": unet], forest]), key: "models[1].loss", "random_forest")
    }

    /// binary_cross_entropy learns class proportions: data with hard labels only is refused
    /// before training, naming the model's loss.
    func testBinaryCrossEntropyNeedsClassProportions() throws {
        let c = try parse(with("models", [["name": "u", "loss": "binary_cross_entropy",
                                           "model": ["arch": "unet", "bands": 10, "classes": 8, "filters": 4, "levels": 2]]]))
        let hard = SampleShapes(image: Shape(10, 32, 32), mask: Shape(32, 32), soft: nil, hard: Shape(32, 32), classes: 8)
        XCTAssertThrowsError(try Feed.choose(for: c.models[0], index: 0, sample: hard, scene: false, file: c.file)) { e in
            XCTAssertEqual((e as? ConfigError)?.key, "models[0].loss", "\(e)")
            XCTAssertTrue("\(e)".contains("proportions"), "\(e)")
        }
        let soft = SampleShapes(image: Shape(10, 32, 32), mask: Shape(32, 32), soft: Shape(8, 32, 32), hard: nil, classes: 8)
        XCTAssertEqual(try Feed.choose(for: c.models[0], index: 0, sample: soft, scene: false, file: c.file).kind, .dense)
    }
}
