import Foundation
import TestSupport
import XCTest
@testable import Distributed

/// Every run config in configs/ is checked by `inspect` on the data its README says to make,
/// then trained briefly on 2 ranks (one epoch, short rounds) to the end.
final class ExampleRunConfigTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The data each example expects, as configs/README.md makes it (smaller tiles); made once
    /// per process, a failed synth failing each example with its message.
    static var data: String { get throws { try made.get() } }

    private static let made = Result { () throws -> String in
        let dir = try Scratch.shared("examples")
        let exe = try rstrainBinary()
        for args in [["--preset", "sentinel2", "--out", "out/demo", "--tiles-per-shard", "1", "--size", "256"],
                     ["--preset", "so2sat", "--out", "out/so2sat", "--tiles-per-shard", "128"],
                     ["--preset", "landsat", "--out", "out/landsat-ts", "--tiles-per-shard", "1", "--size", "96", "--dates", "6", "--cloud-nodata"],
                     ["--preset", "sentinel2", "--out", "out/s2-ts", "--tiles-per-shard", "1", "--size", "128", "--dates", "8"]] {
            var a = args
            a[3] = dir + "/" + a[3]
            let r = try runProcess(exe, ["synth"] + a + ["--shards", "2", "--seed", "2"], timeout: 300)
            guard r.status == 0 else { throw TestSetupError("synth \(args.joined(separator: " ")) failed: \(r.stderr)") }
        }
        return dir
    }

    func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let src = Self.root + "/configs/\(name)", base = try Self.data
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: src))) as? [String: Any])
        // Same config, data under the scratch directory, a short run.
        var data = try XCTUnwrap(json["data"] as? [String: Any])
        data["shards"] = (data["shards"] as? [Any])?.map { s -> Any in
            if let p = s as? String { return base + "/" + p }
            var o = s as! [String: Any]
            o["path"] = base + "/" + (o["path"] as! String)
            return o
        }
        json["data"] = data
        json["run_dir"] = base + "/runs/" + name
        json["epochs"] = 1
        json["round_fraction"] = 0.25
        json["checkpoint"] = nil
        let cfg = base + "/" + name
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: cfg))
        let exe = try rstrainBinary()
        let inspect = try runProcess(exe, ["inspect", cfg], timeout: 300)
        XCTAssertEqual(inspect.status, 0, inspect.stdout + inspect.stderr, file: file, line: line)
        XCTAssertTrue(inspect.stdout.contains("no problems found"), inspect.stdout, file: file, line: line)
        let r = try TrainingRun.mpirun(2, [cfg], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr, file: file, line: line)
        for m in (json["models"] as? [[String: Any]] ?? []) {
            let weights = base + "/runs/\(name)/final/\(m["name"] as! String).h5"
            XCTAssertTrue(FileManager.default.fileExists(atPath: weights), weights, file: file, line: line)
        }
    }

    func testDemo() throws { try check("demo.json") }
    func testSo2SatResNet() throws { try check("so2sat_resnet.json") }
    func testTempCNNTimeSeries() throws { try check("tempcnn_timeseries.json") }
    func testUNet3DTimeSeries() throws { try check("unet3d_timeseries.json") }
    func testDataParallelUNet() throws { try check("data_parallel_unet.json") }
}
