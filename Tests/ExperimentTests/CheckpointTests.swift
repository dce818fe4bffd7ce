import DataIO
import Engine
import Foundation
import TestSupport
import XCTest
@testable import Experiment

/// Checkpoints on real files: bit-for-bit round trips, pruning, damaged files skipped for the
/// previous one, h5py reading the layout the doc comment promises, final weights files.
final class CheckpointTests: ScratchTestCase {
    // MARK: Fixtures

    typealias Specs = [(name: String, spec: TensorSpec)]

    func spec(_ name: String, _ dims: [Int]) -> (name: String, spec: TensorSpec) { namedSpec(name, dims) }

    var unetParams: Specs { [spec("enc1.conv1.weight", [4, 3, 3, 3]), spec("enc1.conv1.bias", [4]), spec("head.weight", [2, 4])] }
    var unetState: Specs { [spec("enc1.bn.running_mean", [4]), spec("enc1.bn.running_var", [4])] }

    /// A model with batch-norm state and Adam after `steps` updates on seeded gradients.
    func unet(seed: UInt64, steps: Int = 3, params: Specs? = nil) throws -> (ParameterStore, Adam) {
        let store = try ParameterStore(parameters: params ?? unetParams, state: unetState)
        store.initialize(seed: seed)
        let adam = try Adam(for: store)
        try train(store, adam, steps: steps, seed: seed)
        return (store, adam)
    }

    /// A model without state and plain SGD (no optimizer tensors): the empty groups.
    func mlp(seed: UInt64) throws -> (ParameterStore, SGD) {
        let store = try ParameterStore(parameters: [spec("fc1.weight", [3, 5]), spec("fc1.bias", [3])], state: [])
        store.initialize(seed: seed)
        let sgd = try SGD(for: store)
        try train(store, sgd, steps: 2, seed: seed)
        return (store, sgd)
    }

    func train(_ store: ParameterStore, _ opt: any Optimizer, steps: Int, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed &+ 99)
        for _ in 0..<steps {
            for i in 0..<store.count { store.grads.base[i] = rng.normal() }
            try opt.update(store, learningRate: 0.01)
        }
    }

    let runState = Data(#"{"round":3,"step":120,"samplers":[{"shard":"a","position":17}],"note":"Zürich"}"#.utf8)

    /// Writes checkpoint `sequence` of both fixture models.
    @discardableResult
    func writeCheckpoint(_ store: CheckpointStore, _ sequence: Int) throws -> String {
        let (u, adam) = try unet(seed: UInt64(sequence))
        let (m, sgd) = try mlp(seed: UInt64(sequence))
        return try store.write(sequence: sequence, runState: runState,
                               models: [ModelSnapshot(name: "unet-small", store: u, optimizer: adam),
                                        ModelSnapshot(name: "mlp", store: m, optimizer: sgd)],
                               layouts: ["unet-small": u, "mlp": m])
    }

    func bits(_ b: FloatBuffer) -> [UInt32] { b.buffer.map(\.bitPattern) }

    // MARK: Round trip

    func testRoundTripIsBitForBit() throws {
        let (u, adam) = try unet(seed: 1)
        u.values.base[3] = .leastNonzeroMagnitude                 // subnormal and -0 survive
        u.values.base[5] = -0.0
        u.state.base[1] = .nan
        let (m, sgd) = try mlp(seed: 2)
        let snaps = [ModelSnapshot(name: "unet-small", store: u, optimizer: adam),
                     ModelSnapshot(name: "mlp", store: m, optimizer: sgd)]
        let store = CheckpointStore(directory: dir + "/checkpoints", keep: 2)
        // Snapshots travelled without layout: the stores give it.
        var bare = snaps
        for i in bare.indices { bare[i].layout = nil }
        let path = try store.write(sequence: 7, runState: runState, models: bare, layouts: ["unet-small": u, "mlp": m])
        XCTAssertEqual(path, dir + "/checkpoints/ckpt-000007.h5")

        let (c, rejected) = store.latestValid()
        XCTAssertTrue(rejected.isEmpty, "\(rejected)")
        let ckpt = try XCTUnwrap(c)
        XCTAssertEqual(ckpt.sequence, 7)
        XCTAssertEqual(ckpt.runState, runState)
        XCTAssertEqual(ckpt.models.map(\.name), ["unet-small", "mlp"])
        XCTAssertEqual(ckpt.models, snaps, "bitwise equal, layouts read from the file")
        let back = try XCTUnwrap(ckpt.model("unet-small"))
        XCTAssertEqual(back.values.map(\.bitPattern), bits(u.values))
        XCTAssertEqual(back.state.map(\.bitPattern), bits(u.state))
        XCTAssertEqual(back.optimizerTensors.map(\.name), ["adam.m", "adam.v"])
        XCTAssertEqual(back.optimizerStep, 3)
        XCTAssertEqual(ckpt.model("mlp")?.optimizerTensors.count, 0)

        // Restored into fresh objects, training continues exactly as the original does.
        let (u2, adam2) = try unet(seed: 50, steps: 0)
        XCTAssertNotEqual(bits(u2.values), bits(u.values))
        try back.restore(into: u2, optimizer: adam2)
        XCTAssertEqual(bits(u2.values), bits(u.values))
        XCTAssertEqual(bits(u2.state), bits(u.state))
        XCTAssertEqual(adam2.step, 3)
        try train(u, adam, steps: 2, seed: 8)
        try train(u2, adam2, steps: 2, seed: 8)
        XCTAssertEqual(bits(u2.values), bits(u.values))
        XCTAssertEqual(adam2.exportState().tensors.map { $0.data.map(\.bitPattern) },
                       adam.exportState().tensors.map { $0.data.map(\.bitPattern) })
    }

    /// Rank 0 reads checkpoints before it builds models: the layout comes from the file.
    func testLoadingNeedsNoModel() throws {
        let store = CheckpointStore(directory: dir, keep: 1)
        try writeCheckpoint(store, 4)
        let c = try Checkpoint.read(store.path(for: 4))
        let (u, _) = try unet(seed: 4)
        XCTAssertEqual(c.model("unet-small")?.layout, ModelLayout(u))
        XCTAssertEqual(c.model("unet-small")?.layout?.parameters.map(\.name), ["enc1.conv1.weight", "enc1.conv1.bias", "head.weight"])
        XCTAssertEqual(c.model("mlp")?.layout?.state, [])
    }

    // MARK: Keeping, damage, leftovers

    func testKeepsTheLastK() throws {
        let store = CheckpointStore(directory: dir, keep: 3)
        for s in 1...5 { try writeCheckpoint(store, s) }
        XCTAssertEqual(store.list(), [3, 4, 5].map { store.path(for: $0) })
        try writeCheckpoint(store, 12)
        XCTAssertEqual(store.list(), [4, 5, 12].map { store.path(for: $0) })
        XCTAssertEqual(store.latestValid().checkpoint?.sequence, 12)
    }

    func testTruncatedLatestIsRejectedForThePrevious() throws {
        let store = CheckpointStore(directory: dir, keep: 3)
        try writeCheckpoint(store, 1)
        let latest = try writeCheckpoint(store, 2)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: latest)[.size] as? Int)
        XCTAssertEqual(truncate(latest, off_t(size / 2)), 0)

        let (c, rejected) = store.latestValid()
        XCTAssertEqual(c?.sequence, 1)
        XCTAssertEqual(c?.path, store.path(for: 1))
        XCTAssertEqual(rejected.map(\.path), [latest])
        XCTAssertTrue(rejected.first?.reason.contains(latest) == true, "reason names the file: \(rejected)")
        XCTAssertThrowsError(try Checkpoint.read(latest))
    }

    /// A flipped byte in a tensor's data: HDF5 reads it fine, only the checksum notices.
    func testByteFlippedLatestIsRejectedForThePrevious() throws {
        let store = CheckpointStore(directory: dir, keep: 3)
        try writeCheckpoint(store, 1)
        let latest = try writeCheckpoint(store, 2)
        let (u, _) = try unet(seed: 2)
        let weight = try XCTUnwrap(u.value("enc1.conv1.weight"))
        let needle = Data(buffer: UnsafeBufferPointer(start: weight.data, count: weight.shape.count))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: latest))
        let at = try XCTUnwrap(bytes.range(of: needle), "the weight's raw bytes are in the file").lowerBound + 101
        bytes[at] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: latest))

        let (c, rejected) = store.latestValid()
        XCTAssertEqual(c?.sequence, 1)
        XCTAssertEqual(rejected.map(\.path), [latest])
        XCTAssertTrue(rejected.first?.reason.contains("checksum mismatch") == true, "\(rejected)")
        // The damage is only in the data: the structure still reads.
        XCTAssertEqual(try HDF5File(latest).shape(of: "models/unet-small/parameters/enc1.conv1.weight"), [4, 3, 3, 3])
    }

    func testAllDamagedGivesNoneAndEveryReason() throws {
        let store = CheckpointStore(directory: dir, keep: 2)
        for s in 1...2 { try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: try writeCheckpoint(store, s))) }
        let (c, rejected) = store.latestValid()
        XCTAssertNil(c)
        XCTAssertEqual(rejected.map(\.path), [2, 1].map { store.path(for: $0) })
        XCTAssertTrue(rejected.allSatisfy { $0.reason.contains("not an HDF5 file") }, "\(rejected)")
        XCTAssertTrue(CheckpointStore(directory: dir + "/none", keep: 1).latestValid().rejected.isEmpty)
    }

    /// A valid checkpoint under another number's name is not taken for that number.
    func testRenamedCheckpointIsRejected() throws {
        let store = CheckpointStore(directory: dir, keep: 3)
        try writeCheckpoint(store, 1)
        let two = try writeCheckpoint(store, 2)
        XCTAssertEqual(rename(two, store.path(for: 3)), 0)
        let (c, rejected) = store.latestValid()
        XCTAssertEqual(c?.sequence, 1)
        XCTAssertTrue(rejected.first?.reason.contains("holds checkpoint 2, its name says 3") == true, "\(rejected)")
    }

    /// A crash mid-write leaves ckpt-N.h5.tmp: never listed or loaded, removed by the next write.
    func testLeftoverTemporaryFileIsIgnored() throws {
        let store = CheckpointStore(directory: dir, keep: 3)
        try writeCheckpoint(store, 1)
        // A complete, valid file under the temporary name: still not a checkpoint.
        let other = CheckpointStore(directory: dir + "/other", keep: 1)
        let tmp = store.path(for: 2) + ".tmp"
        XCTAssertEqual(rename(try writeCheckpoint(other, 2), tmp), 0)
        try Data("junk".utf8).write(to: URL(fileURLWithPath: dir + "/ckpt-42.h5"))    // not the canonical spelling
        XCTAssertEqual(store.list(), [store.path(for: 1)])
        let (c, rejected) = store.latestValid()
        XCTAssertEqual(c?.sequence, 1)
        XCTAssertTrue(rejected.isEmpty, "\(rejected)")
        try writeCheckpoint(store, 3)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp))
        XCTAssertEqual(store.list(), [1, 3].map { store.path(for: $0) })
    }

    func testBadInputIsRefusedBeforeAnyFileIsMade() throws {
        let store = CheckpointStore(directory: dir + "/ck", keep: 2)
        let (u, adam) = try unet(seed: 1)
        var snap = ModelSnapshot(name: "unet-small", store: u, optimizer: adam)
        snap.layout = nil
        func refuses(_ models: [ModelSnapshot], layouts: [String: ParameterStore] = [:], state: Data? = nil,
                     keep: Int = 2, _ text: String, line: UInt = #line) {
            let s = CheckpointStore(directory: store.directory, keep: keep)
            XCTAssertThrowsError(try s.write(sequence: 1, runState: state ?? runState, models: models, layouts: layouts),
                                 line: line) { e in
                XCTAssertTrue("\(e)".contains(text), "'\(text)' not in: \(e)", line: line)
            }
        }
        refuses([snap], "no layout")
        refuses([snap, snap], layouts: ["unet-small": u], "given twice")
        var renamed = snap; renamed.name = "a/b"
        refuses([renamed], layouts: ["a/b": u], "model names must be")
        var short = snap; short.values.removeLast()
        refuses([short], layouts: ["unet-small": u], "layout has 120 parameter")
        var badOpt = snap; badOpt.optimizerTensors[1].data.removeLast()
        refuses([badOpt], layouts: ["unet-small": u], "optimizer state 'adam.v'")
        refuses([snap], layouts: ["unet-small": u], state: Data([0x7B, 0xFF, 0x7D]), "not UTF-8")
        refuses([snap], layouts: ["unet-small": u], keep: 0, "keep must be at least 1")
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.directory), "nothing written")
    }

    // MARK: Restore

    func testRestoreRefusesAnotherArchitectureNamingTheTensor() throws {
        let (u, adam) = try unet(seed: 1)
        let snap = ModelSnapshot(name: "unet-small", store: u, optimizer: adam)
        let other = [spec("enc1.conv1.weight", [4, 3, 5, 5]), spec("enc1.conv1.bias", [4]), spec("head2.weight", [2, 4])]
        let (v, adam2) = try unet(seed: 2, params: other)
        let before = (bits(v.values), adam2.exportState().tensors.map { $0.data.map(\.bitPattern) }, adam2.step)
        XCTAssertThrowsError(try snap.restore(into: v, optimizer: adam2)) { e in
            let text = "\(e)"
            for s in ["model 'unet-small'", "missing in snapshot: head2.weight", "not in model: head.weight",
                      "enc1.conv1.weight (model 4×3×5×5, snapshot 4×3×3×3)"] {
                XCTAssertTrue(text.contains(s), "'\(s)' not in: \(text)")
            }
        }
        XCTAssertEqual(bits(v.values), before.0, "nothing restored")
        XCTAssertEqual(adam2.exportState().tensors.map { $0.data.map(\.bitPattern) }, before.1)
        XCTAssertEqual(adam2.step, before.2)

        // Same architecture, another optimizer: refused, nothing changed.
        let (w, _) = try unet(seed: 3, steps: 0)
        let sgd = try SGD(for: w, momentum: 0.9)
        let wBefore = bits(w.values)
        XCTAssertThrowsError(try snap.restore(into: w, optimizer: sgd)) { e in
            XCTAssertTrue("\(e)".contains("snapshot holds adam state, the optimizer is sgd"), "\(e)")
        }
        XCTAssertEqual(bits(w.values), wBefore)

        // Tensors in another order: same names and shapes, different flat offsets.
        let swapped = [unetParams[1], unetParams[0], unetParams[2]]
        let (x, adam3) = try unet(seed: 4, steps: 0, params: swapped)
        XCTAssertThrowsError(try snap.restore(into: x, optimizer: adam3)) { e in
            XCTAssertTrue("\(e)".contains("another order (model has 'enc1.conv1.bias' where snapshot has 'enc1.conv1.weight')"), "\(e)")
        }
    }

    // MARK: h5py and final weights

    func testH5pyReadsTheLayoutAndVerifiesTheChecksum() throws {
        let store = CheckpointStore(directory: dir, keep: 1)
        let path = try writeCheckpoint(store, 5)
        let (u, _) = try unet(seed: 5)
        let w = try XCTUnwrap(u.value("enc1.conv1.weight"))
        // The recipe of CheckpointFile's doc comment, verbatim.
        let script = """
        import sys, json, zlib, h5py
        f = h5py.File(sys.argv[1], "r")
        w = f["models/unet-small/parameters/enc1.conv1.weight"]
        print(w.dtype, w.shape, repr(float(w[1, 2, 0, 1])))
        print(json.loads(f.attrs["run_state"])["note"], int(f.attrs["sequence"]))
        o = f["models/unet-small/optimizer"]
        print(o.attrs["kind"], int(o.attrs["step"]), o["adam.v"].shape, json.loads(f["models/mlp/optimizer"].attrs["order"]))
        sequence, run_state = int(f.attrs["sequence"]), f.attrs["run_state"]
        crc = zlib.crc32(f"rstrain-checkpoint {sequence}\\n".encode())
        crc = zlib.crc32(run_state.encode(), crc)
        for m in json.loads(f.attrs["models"]):
            for part in ("parameters", "state", "optimizer"):
                g = f[f"models/{m}/{part}"]
                for t in json.loads(g.attrs["order"]):
                    d = g[t]
                    crc = zlib.crc32(f"models/{m}/{part}/{t} {'x'.join(map(str, d.shape))}\\n".encode(), crc)
                    crc = zlib.crc32(d[()].astype("<f4").tobytes(), crc)
            o = f[f"models/{m}/optimizer"].attrs
            crc = zlib.crc32(f"models/{m}/optimizer {o['kind']} {o['step']}\\n".encode(), crc)
        print(format(crc, "08x") == f.attrs["checksum"], f.attrs["checksum"])
        """
        let lines = try python(script, [path]).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4, "\(lines)")
        XCTAssertEqual(lines[0], "float32 (4, 3, 3, 3) \(Double(w.data[((1 * 3 + 2) * 3 + 0) * 3 + 1]))")
        XCTAssertEqual(lines[1], "Zürich 5")
        XCTAssertEqual(lines[2], "adam 3 (\(u.count),) []")
        XCTAssertTrue(lines[3].hasPrefix("True "), "h5py's CRC-32 of the documented stream matches: \(lines[3])")
    }

    func testFinalWeightsLoadWithWeightsFile() throws {
        let (u, _) = try unet(seed: 9)
        let path = try FinalWeights.write(u, model: "unet-small", runDir: dir + "/run")
        XCTAssertEqual(path, dir + "/run/final/unet-small.h5")
        let fresh = try ParameterStore(parameters: unetParams, state: unetState)
        try WeightsFile.load(fresh, from: path)
        XCTAssertEqual(bits(fresh.values), bits(u.values))
        XCTAssertEqual(bits(fresh.state), bits(u.state))
        XCTAssertThrowsError(try FinalWeights.write(u, model: "../x", runDir: dir))
    }

    /// Runs a python3 script with h5py; skips (with the reason) only if h5py cannot be imported.
    func python(_ script: String, _ args: [String]) throws -> String {
        guard onPath("python3") else { throw XCTSkip("python3 is not on PATH") }
        let probe = try runProcess("python3", ["-c", "import h5py, numpy"])
        guard probe.status == 0 else {
            throw XCTSkip("h5py cannot be imported (python3 -m pip install h5py numpy): \(probe.stderr.suffix(200))")
        }
        let r = try runProcess("python3", ["-c", script] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
