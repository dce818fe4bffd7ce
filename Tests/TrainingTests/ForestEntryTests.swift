import DataIO
import Engine
import Foundation
import Settings
import TestSupport
@testable import Training
import XCTest
@testable import Experiment
@testable import Prediction

/// A `"random_forest"` entry in the run config: parsed with named errors, grown by the real
/// trainer under real mpirun next to a tiny U-Net, written as final/<name>.h5, scored by
/// `eval --config` and mapped by `predict`.
final class ForestEntryTests: XCTestCase {
    static let unet: [String: Any] = ["name": "unet", "model": ["arch": "unet", "dims": 2, "bands": 10, "classes": 8, "filters": 4, "levels": 2]]
    static let rf: [String: Any] = ["name": "rf", "model": ["arch": "random_forest", "trees": 8, "max_depth": 10, "samples_per_shard": 3000]]
    static let rfp: [String: Any] = ["name": "rfp", "model": ["arch": "random_forest", "trees": 6, "max_depth": 8, "samples_per_shard": 2000,
                                                             "features": "patch", "patch": 3]]

    static func config(_ name: String, runDir: String) throws -> String {
        try TrainingRun.config(name, runDir: runDir, extra: ["models": [unet, rf, rfp]], data: ["labels": "hard"])
    }

    /// The 2-rank round-robin run (made once per process).
    static let run: Result<(config: String, dir: String, log: String), Error> = Result {
        let dir = try TrainingRun.data + "/runs/forest-2"
        let cfg = try config("forest-2", runDir: dir)
        let r = try TrainingRun.mpirun(2, [cfg], timeout: 600)
        guard r.status == 0 else { throw TestSetupError("training failed: \(r.stdout)\n\(r.stderr)") }
        return (cfg, dir, r.stdout)
    }

    func configError(_ models: [[String: Any]], extra: [String: Any] = [:]) throws -> ConfigError? {
        let unused = try TrainingRun.data + "/runs/unused"   // parsed, never run
        let path = try TrainingRun.config("forest-bad", runDir: unused, extra: ["models": models].merging(extra) { $1 })
        do { _ = try RunConfig(path: path); return nil } catch let e as ConfigError { return e }
    }

    func testConfigErrorsNameTheKey() throws {
        var bad = Self.rf
        bad["model"] = ["arch": "random_forest", "trees": 0]
        var e = try XCTUnwrap(try configError([Self.unet, bad]))
        XCTAssertEqual(e.key, "models[1].model.trees")
        XCTAssertTrue(e.message.contains("must be a positive integer"), e.message)
        bad["model"] = ["arch": "random_forest", "max_depth": 2.5]
        e = try XCTUnwrap(try configError([Self.unet, bad]))
        XCTAssertEqual(e.key, "models[1].model.max_depth")
        bad["model"] = ["arch": "random_forest", "features": "voxel"]
        XCTAssertEqual(try configError([Self.unet, bad])?.key, "models[1].model.features")
        bad["model"] = ["arch": "random_forest", "features": "patch", "patch": 4]
        XCTAssertEqual(try configError([Self.unet, bad])?.key, "models[1].model.patch")
        bad["model"] = ["arch": "random_forest", "patch": 3]
        XCTAssertEqual(try configError([Self.unet, bad])?.key, "models[1].model.patch")
        bad["model"] = ["arch": "random_forest", "leaves": 3]
        XCTAssertEqual(try configError([Self.unet, bad])?.key, "models[1].model.leaves")
        var opt = Self.rf
        opt["optimizer"] = ["type": "sgd"]
        e = try XCTUnwrap(try configError([Self.unet, opt]))
        XCTAssertEqual(e.key, "models[1].optimizer")
        XCTAssertTrue(e.message.contains("random_forest"), e.message)
        XCTAssertEqual(try configError([Self.rf])?.key, "models")
        var dup = Self.rf
        dup["name"] = "unet"
        XCTAssertEqual(try configError([Self.unet, dup])?.key, "models[1].name")
        // A valid entry: the neural list keeps the U-Net alone.
        let ok = try TrainingRun.config("forest-ok", runDir: TrainingRun.data + "/runs/unused",
                                        extra: ["models": [Self.unet, Self.rf, Self.rfp]])
        let c = try RunConfig(path: ok)
        XCTAssertEqual(c.models.map(\.name), ["unet"])
        XCTAssertEqual(c.forests.map(\.name), ["rf", "rfp"])
        XCTAssertEqual(c.forests[0].forest?.trees, 8)
        XCTAssertEqual(c.forests[1].forest?.patch, 3)
        XCTAssertEqual(c.forests[1].forest?.features, .patch)
    }

    /// A model's final validation records (a forest has one; a round-robin model one per group).
    func finals(_ model: String) throws -> [[String: Any]] {
        let (_, dir, _) = try Self.run.get()
        let lines = try String(contentsOfFile: dir + "/metrics.jsonl").split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        return lines.filter { $0["type"] as? String == "validation" && $0["model"] as? String == model && $0["final"] as? Bool == true }
    }

    func finalRecord(_ model: String) throws -> [String: Any] {
        let f = try finals(model)
        XCTAssertEqual(f.count, 1, "\(model): \(f)")
        XCTAssertEqual(Set(f.first?["shards"] as? [String] ?? []), ["shard_000", "shard_001"])
        return try XCTUnwrap(f.first)
    }

    /// final/rf.h5 as h5py sees it; the forest's final validation beats chance, is printed at the
    /// end, and equals what `eval --config --model rf` reports (also under 1 rank).
    func testTwoRankRunWritesTheForestAndItsValidation() throws {
        let (cfg, dir, log) = try Self.run.get()
        let script = """
        import h5py, json, sys
        f = h5py.File(sys.argv[1], 'r')
        out = {k: [list(f['forest'][k].shape), str(f['forest'][k].dtype)] for k in f['forest']}
        out['model'] = json.loads(f.attrs['rstrain_model'])['arch']
        out['has_data'] = 'rstrain_data' in f.attrs and 'rstrain_normalization' in f.attrs
        out['trees'] = json.loads(f.attrs['rstrain_forest'])['trees']
        print(json.dumps(out))
        """
        let py = try runProcess("python3", ["-c", script, FinalWeights.path(model: "rf", runDir: dir)])
        guard py.status == 0 else { throw XCTSkip("h5py unavailable: \(py.stderr)") }
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(py.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(o["model"] as? String, "random_forest")
        XCTAssertEqual(o["has_data"] as? Bool, true)
        XCTAssertEqual(o["trees"] as? Int, 8)
        for k in ["feature", "threshold", "left", "right", "tree_start", "leaf_start", "leaf_counts"] {
            XCTAssertNotNil(o[k], "forest/\(k) missing: \(o)")
        }
        XCTAssertEqual((o["tree_start"] as? [Any])?.first as? [Int], [8])
        XCTAssertEqual(((o["leaf_counts"] as? [Any])?.first as? [Int])?.last, 8)

        let rec = try finalRecord("rf")
        let acc = try XCTUnwrap(rec["overall_accuracy"] as? Double)
        XCTAssertGreaterThan(acc, 2.0 / 8, "the forest should beat chance (1/8) clearly")
        XCTAssertTrue(log.contains("rf: validation accuracy"), log)
        XCTAssertTrue(log.contains("unet: validation accuracy"), log)
        let unet = try finals("unet")
        let uc = unet.reduce(0.0) { $0 + ($1["correct"] as? Double ?? 0) }, un = unet.reduce(0.0) { $0 + ($1["counted"] as? Double ?? 0) }
        print("measured: rf \(acc), rfp \(try finalRecord("rfp")["overall_accuracy"] ?? "?"), unet \(uc / un) over \(un) pixels")

        for n in [1, 2] {
            let e = try TrainingRun.mpirun(n, ["eval", "--config", cfg, "--model", "rf", "--json", "--out", dir + "/eval-\(n)"])
            XCTAssertEqual(e.status, 0, e.stdout + e.stderr)
            let m = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any], e.stdout)
            XCTAssertEqual(m["model"] as? String, "rf")
            XCTAssertEqual(m["pixels"] as? Int, Int(try XCTUnwrap(rec["counted"] as? Double)))
            // The counts agree exactly; the ratio went through JSON twice.
            let confusion = try XCTUnwrap(m["confusion"] as? [[Int]], "\(m)")
            XCTAssertEqual(confusion.indices.reduce(0) { $0 + confusion[$1][$1] }, Int(try XCTUnwrap(rec["correct"] as? Double)))
            XCTAssertEqualAfterJSON(m["overall_accuracy"] as? Double, acc)
        }
        // All models side by side in one report.
        let all = try TrainingRun.mpirun(1, ["eval", "--config", cfg, "--json", "--out", dir + "/eval-all"])
        XCTAssertEqual(all.status, 0, all.stderr)
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(list.compactMap { $0["model"] as? String }, ["unet", "rf", "rfp"])
    }

    /// One rank grows the same forests as two; a second run of the config reuses the files.
    func testOneRankGivesTheSameForestAndResumeReusesIt() throws {
        let (_, dir, _) = try Self.run.get()
        let one = try TrainingRun.data + "/runs/forest-1"
        let cfg = try Self.config("forest-1", runDir: one)
        let r = try TrainingRun.mpirun(1, [cfg], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        for name in ["rf", "rfp"] {
            let a = try TrainingRun.weights(FinalWeights.path(model: name, runDir: dir))
            let b = try TrainingRun.weights(FinalWeights.path(model: name, runDir: one))
            XCTAssertEqual(Set(a.keys), ["forest/feature", "forest/threshold", "forest/left", "forest/right", "forest/tree_start",
                                         "forest/leaf_start", "forest/leaf_counts"])
            XCTAssertEqual(a, b, "\(name): 1 and 2 ranks grew different forests")
        }
        let again = try TrainingRun.mpirun(1, [cfg], timeout: 600)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("rf: reusing"), again.stdout)
        XCTAssertFalse(again.stdout.contains("training pixels from"), again.stdout)
    }

    /// `predict` with the forests: every pixel of the first window: its class equals the forest applied (here, by the
    /// test's own feature code) to its normalised values or 3×3 patch, its probabilities the
    /// forest's; masked pixels are 255.
    func testPredictMatchesTheForestOnChosenPixels() throws {
        let (_, dir, _) = try Self.run.get()
        let out = dir + "/predict"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let tile = try TrainingRun.data + "/data/shard_000/tile_00"
        for name in ["rf", "rfp"] {
            let path = FinalWeights.path(model: name, runDir: dir)
            let r = try runProcess(try rstrainBinary(), ["predict", "--checkpoint", path, "--input", tile,
                                                         "--output", out + "/\(name).tif", "--probabilities", out + "/\(name)-p.tif"], timeout: 300)
            XCTAssertEqual(r.status, 0, r.stderr)
            let mapper = try ForestMapper(path: path)
            let input = try PredictInput(path: tile)
            let grid = try WindowGrid(input.repository, options: mapper.tileOptions)
            let reader = WindowReader(grid: grid)
            defer { reader.close() }
            let sample = reader.makeSample()
            let w = mapper.window, n = w * w, planes = grid.layout.imageShape.count / n, ps = mapper.patch, rad = ps / 2
            _ = try reader.read(WindowRef(tile: 0, x: 0, y: 0, size: w), into: sample)
            let (scale, offset) = mapper.model.normalization.coefficients(bands: grid.layout.channels)
            func value(_ q: Int, _ y: Int, _ x: Int) -> Float {
                guard y >= 0, y < w, x >= 0, x < w, sample.mask.data[y * w + x] != 0 else { return 0 }
                let c = q / (planes / grid.layout.channels)
                return Float(Double(sample.image.data[q * n + y * w + x]) * scale[c] + offset[c])
            }
            let map = try Raster(out + "/\(name).tif"), pm = try Raster(out + "/\(name)-p.tif")
            let (gw, gh) = (map.width, map.height)
            let classes: [UInt8] = try map.read(x: 0, y: 0, width: gw, height: gh, as: UInt8.self)
            let probs: [Float] = try pm.read(x: 0, y: 0, width: gw, height: gh)
            var checked = 0, seen = Set<UInt8>()
            // Every pixel the first window keeps (its last row and column go to the next window).
            var masked = 0
            for py in 0..<(w - 1) { for px in 0..<(w - 1) {
                guard sample.mask.data[py * w + px] != 0 else { XCTAssertEqual(classes[py * gw + px], 255); masked += 1; continue }
                var x: [Float] = []
                for q in 0..<planes { for dy in -rad...rad { for dx in -rad...rad { x.append(value(q, py + dy, px + dx)) } } }
                XCTAssertEqual(Int(classes[py * gw + px]), mapper.forest.predict(x), "\(name) pixel (\(px), \(py))")
                let p = mapper.forest.probabilities(x)
                for k in 0..<p.count { XCTAssertEqual(probs[k * gw * gh + py * gw + px], p[k], accuracy: 1e-6) }
                seen.insert(classes[py * gw + px])
                checked += 1
            } }
            XCTAssertGreaterThan(checked, 100)
            XCTAssertGreaterThan(seen.count, 1)
            let valid = classes.filter { $0 != 255 }
            XCTAssertGreaterThan(valid.count, gw * gh / 2)
            XCTAssertTrue(valid.allSatisfy { $0 < 8 })
            print("\(name): \(checked) pixels checked (classes \(seen.sorted())), \(masked) masked")
        }
    }
}
