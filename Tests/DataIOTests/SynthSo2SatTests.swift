@testable import DataIO
import Foundation
import TestSupport
import XCTest

/// The so2sat preset: So2Sat LCZ42's HDF5 layout as h5py reads it, and patches whose class
/// shows in their data.
final class SynthSo2SatTests: XCTestCase {
    func testLayoutWithOurReader() throws {
        let (o, report) = try SynthFixtures.so2sat.get()
        XCTAssertEqual(report.shards.map(\.path), [o.outDir + "/shard_000.h5", o.outDir + "/shard_001.h5"])
        let f = try HDF5File(o.shardPath(0))
        XCTAssertEqual(try f.datasetNames(), ["label", "sen1", "sen2"])
        XCTAssertEqual(try f.shape(of: "sen1"), [300, 32, 32, 8])
        XCTAssertEqual(try f.shape(of: "sen2"), [300, 32, 32, 10])
        XCTAssertEqual(try f.shape(of: "label"), [300, 17])
        XCTAssertEqual(report.shards[0].classCounts.reduce(0, +), 300)
    }

    func testH5pyReadsShapesOneHotLabelsAndSensibleValues() throws {
        let (o, _) = try SynthFixtures.so2sat.get()
        try python("""
        import sys, h5py, numpy as np
        f = h5py.File(sys.argv[1], "r")
        assert sorted(f.keys()) == ["label", "sen1", "sen2"], list(f.keys())
        s1, s2, y = f["sen1"][:], f["sen2"][:], f["label"][:]
        assert s1.shape == (300, 32, 32, 8) and s2.shape == (300, 32, 32, 10) and y.shape == (300, 17), (s1.shape, s2.shape, y.shape)
        assert s1.dtype == np.float32 and s2.dtype == np.float32 and y.dtype == np.float32
        assert set(np.unique(y)) <= {0.0, 1.0} and (y.sum(axis=1) == 1).all(), "one-hot"
        assert len(np.unique(y.argmax(1))) >= 8, "many zones per file"
        # Sentinel-2 reflectance: mostly 0..0.6, median about 0.1-0.3.
        assert 0 < s2.min() and np.percentile(s2, 99.5) < 1.0 and 0.05 < np.median(s2) < 0.4, np.percentile(s2, [0, 50, 99.5])
        # Sentinel-1: complex parts centred on 0, Lee intensities positive, VV above VH.
        assert abs(s1[..., 0].mean()) < 0.01 and abs(s1[..., 2].mean()) < 0.02
        assert (s1[..., 4] > 0).all() and (s1[..., 5] > 0).all() and s1[..., 5].mean() > s1[..., 4].mean()
        ndvi = (s2[..., 6] - s2[..., 2]) / (s2[..., 6] + s2[..., 2])
        c = y.argmax(1)
        water, trees = ndvi[c == 16].mean(), ndvi[c == 10].mean()
        assert water < 0 < trees, (water, trees)
        print("ok")
        """, o.shardPath(0))
    }

    func testTheClassIsLearnableAcrossShards() throws {
        // A nearest-class-mean classifier on a few patch statistics, fitted on one shard (city),
        // scores far above chance (1/17) on the other: the class shapes the data.
        let (o, _) = try SynthFixtures.so2sat.get()
        try python("""
        import sys, h5py, numpy as np
        def features(path):
            f = h5py.File(path, "r")
            s1, s2, y = f["sen1"][:], f["sen2"][:], f["label"][:]
            ndvi = (s2[..., 6] - s2[..., 2]) / (s2[..., 6] + s2[..., 2])
            x = np.concatenate([s2.mean((1, 2)), s2.std((1, 2)), ndvi.mean((1, 2))[:, None], ndvi.std((1, 2))[:, None],
                                np.log(s1[..., 4:6].mean((1, 2))), np.log(s1[..., 4:6]).std((1, 2))], axis=1)
            return x, y.argmax(1)
        xa, ya = features(sys.argv[1]); xb, yb = features(sys.argv[2])
        mu, sd = xa.mean(0), xa.std(0) + 1e-6
        xa, xb = (xa - mu) / sd, (xb - mu) / sd
        classes = [k for k in range(17) if (ya == k).sum() >= 2]
        centres = np.stack([xa[ya == k].mean(0) for k in classes])
        pred = np.array(classes)[((xb[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)]
        seen = np.isin(yb, classes)
        acc = (pred[seen] == yb[seen]).mean()
        assert acc > 0.5, acc
        print("accuracy", acc)
        """, o.shardPath(0), o.shardPath(1))
    }

    func testShardsAreDifferentCitiesAndDeterministic() throws {
        let (o, report) = try SynthFixtures.so2sat.get()
        XCTAssertNotEqual(report.shards[0].region, report.shards[1].region)
        XCTAssertNotEqual(report.shards[0].classCounts, report.shards[1].classCounts)
        let again = try scratch()
        var same = o
        same.outDir = again
        same.shards = 1
        try Synth.generate(same)
        let a = try HDF5File(o.shardPath(0)), b = try HDF5File(same.shardPath(0))
        for name in ["sen1", "sen2", "label"] {
            XCTAssertEqual(try a.readFloats(name), try b.readFloats(name), name)
        }
        var other = same
        other.seed += 1
        other.overwrite = true
        try Synth.generate(other)
        XCTAssertNotEqual(try a.readFloats("sen2"), try HDF5File(other.shardPath(0)).readFloats("sen2"))
    }

    /// Runs a python3 script with h5py; skips only if h5py cannot be imported.
    func python(_ script: String, _ args: String...) throws {
        guard onPath("python3") else { throw XCTSkip("python3 is not on PATH") }
        let probe = try runProcess("python3", ["-c", "import h5py, numpy"])
        guard probe.status == 0 else { throw XCTSkip("h5py cannot be imported (python3 -m pip install h5py numpy)") }
        let r = try runProcess("python3", ["-c", script] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
    }
}
