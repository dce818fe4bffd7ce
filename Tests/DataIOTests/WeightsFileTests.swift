import DataIO
import Engine
import Foundation
import TestSupport
import XCTest

final class WeightsFileTests: ScratchTestCase {
    typealias Specs = [(name: String, spec: TensorSpec)]

    func spec(_ name: String, _ dims: [Int]) -> (name: String, spec: TensorSpec) { namedSpec(name, dims) }

    var params: Specs { [spec("enc1.conv1.weight", [4, 3, 3, 3]), spec("enc1.conv1.bias", [4]), spec("head.weight", [2, 4])] }
    var state: Specs { [spec("enc1.bn.running_mean", [4]), spec("enc1.bn.running_var", [4])] }

    func makeStore(seed: UInt64, params: Specs? = nil) throws -> ParameterStore {
        let s = try ParameterStore(parameters: params ?? self.params, state: state)
        s.initialize(seed: seed)
        return s
    }

    func testRoundTripIsBitwiseEqual() throws {
        let path = dir + "/model.h5"
        let saved = try makeStore(seed: 1)
        saved.values.base[3] = .leastNonzeroMagnitude                 // subnormal survives
        saved.values.base[5] = -0.0
        try WeightsFile.save(saved, to: path)
        let fresh = try makeStore(seed: 2)
        XCTAssertNotEqual(fresh.values.buffer.map(\.bitPattern), saved.values.buffer.map(\.bitPattern))
        try WeightsFile.load(fresh, from: path)
        XCTAssertEqual(fresh.values.buffer.map(\.bitPattern), saved.values.buffer.map(\.bitPattern))
        XCTAssertEqual(fresh.state.buffer.map(\.bitPattern), saved.state.buffer.map(\.bitPattern))

        let f = try HDF5File(path)
        XCTAssertEqual(Set(try f.datasetNames()), Set((params + state).map(\.name)), "one dataset per tensor, '.' names kept")
        XCTAssertEqual(try f.stringAttribute("kind", on: "enc1.conv1.weight"), "parameter")
        XCTAssertEqual(try f.stringAttribute("kind", on: "enc1.bn.running_var"), "state")
        XCTAssertEqual(try f.stringAttribute("format"), WeightsFile.format)
    }

    func testMismatchListsMissingUnexpectedAndWrongShape() throws {
        let path = dir + "/model.h5"
        try WeightsFile.save(try makeStore(seed: 1), to: path)
        // The model: conv weight of another shape, head.weight gone, head2.weight new.
        let other: Specs = [spec("enc1.conv1.weight", [4, 3, 5, 5]), spec("enc1.conv1.bias", [4]), spec("head2.weight", [2, 4])]
        let model = try makeStore(seed: 3, params: other)
        let before = model.values.buffer.map(\.bitPattern)
        XCTAssertThrowsError(try WeightsFile.load(model, from: path)) { e in
            guard let m = e as? WeightsMismatch else { return XCTFail("not a WeightsMismatch: \(e)") }
            XCTAssertEqual(m.missing, ["head2.weight"])
            XCTAssertEqual(m.unexpected, ["head.weight"])
            XCTAssertEqual(m.wrongShape.map(\.name), ["enc1.conv1.weight"])
            XCTAssertEqual(m.wrongShape.first?.found, [4, 3, 3, 3])
            let text = "\(e)"
            for s in [path, "missing: head2.weight", "unexpected: head.weight", "enc1.conv1.weight (model 4×3×5×5, file 4×3×3×3)"] {
                XCTAssertTrue(text.contains(s), "'\(s)' not in: \(text)")
            }
        }
        XCTAssertEqual(model.values.buffer.map(\.bitPattern), before, "nothing is loaded on a mismatch")
    }

    func testH5pyReadsTheWeights() throws {
        let path = dir + "/model.h5"
        let store = try makeStore(seed: 5)
        try WeightsFile.save(store, to: path)
        let w = try XCTUnwrap(store.value("enc1.conv1.weight"))
        let rm = try XCTUnwrap(store.stateTensor("enc1.bn.running_mean"))
        let script = """
        import sys, h5py
        f = h5py.File(sys.argv[1], "r")
        w = f["enc1.conv1.weight"]
        print(w.dtype, w.shape)
        print(repr(float(w[1, 2, 0, 1])), repr(float(w[3, 0, 2, 2])))
        print(repr(float(f["enc1.bn.running_mean"][2])))
        print(f["enc1.conv1.weight"].attrs["kind"], f.attrs["format"], int(f.attrs["version"]))
        print(",".join(sorted(f.keys())))
        """
        let r = try python(script, [path])
        let lines = r.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5, r)
        XCTAssertEqual(lines[0], "float32 (4, 3, 3, 3)")
        // Element [i,j,k,l] of a 4×3×3×3 row-major tensor is at ((i·3 + j)·3 + k)·3 + l.
        let pair = lines[1].split(separator: " ").compactMap { Double($0) }
        XCTAssertEqual(pair, [Double(w.data[((1 * 3 + 2) * 3 + 0) * 3 + 1]), Double(w.data[((3 * 3 + 0) * 3 + 2) * 3 + 2])])
        XCTAssertEqual(Double(lines[2]), Double(rm.data[2]))
        XCTAssertEqual(lines[3], "parameter rstrain-weights 1")
        XCTAssertEqual(lines[4], (params + state).map(\.name).sorted().joined(separator: ","))
    }

    /// Files written by h5py: float64 data (as So2Sat ships), fixed and variable strings.
    func testReadsWhatH5pyWrites() throws {
        let path = dir + "/h5py.h5"
        let script = """
        import sys, h5py, numpy as np
        with h5py.File(sys.argv[1], "w") as f:
            d = f.create_dataset("sen2", data=np.arange(5 * 4 * 4 * 3, dtype=np.float64).reshape(5, 4, 4, 3) / 8)
            f.create_dataset("label", data=np.eye(5, 17, dtype=np.float64), compression="gzip")
            f.attrs["fixed"] = np.bytes_("fixed-length")
            f.attrs["vlen"] = "variable ünïcode"
            f.attrs["count"] = np.int32(42)
            d.attrs["scale"] = 8
        print("ok")
        """
        XCTAssertEqual(try python(script, [path]), "ok")
        let f = try HDF5File(path)
        XCTAssertEqual(try f.datasetNames(), ["label", "sen2"])
        XCTAssertEqual(try f.shape(of: "sen2"), [5, 4, 4, 3])
        XCTAssertEqual(try f.readFloats("sen2"), (0..<240).map { Float($0) / 8 })
        XCTAssertEqual(try f.readFloats("sen2", rows: 4..<5), (192..<240).map { Float($0) / 8 })
        let label = try f.readFloats("label", rows: 1..<3)
        XCTAssertEqual(label, (0..<34).map { $0 == 1 || $0 == 17 + 2 ? 1 : 0 })
        XCTAssertEqual(try f.stringAttribute("fixed"), "fixed-length")
        XCTAssertEqual(try f.stringAttribute("vlen"), "variable ünïcode")
        XCTAssertEqual(try f.int64Attribute("count"), 42)
        XCTAssertEqual(try f.int64Attribute("scale", on: "sen2"), 8)
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
