import DataIO
import Engine
import Foundation

/// One checkpoint in HDF5, laid out for h5py users:
///
///     /                                 attrs: format = "rstrain-checkpoint", version = 1,
///                                              sequence (int), run_state (the run state, a JSON string),
///                                              models (JSON array of model names, in order),
///                                              checksum (CRC-32, 8 hex digits, see below)
///     /models/<model>/parameters        attr order: JSON array of tensor names, flat-buffer order
///     /models/<model>/parameters/<t>    float32, the tensor's shape, named as in a weights file
///                                       ("enc1.conv1.weight", 16×3×3×3)
///     /models/<model>/state             attr order; batch-norm running statistics, likewise
///     /models/<model>/state/<t>
///     /models/<model>/optimizer         attrs: kind ("adam"), step (updates taken), order
///     /models/<model>/optimizer/<b>     float32 [parameter count] ("adam.m", "adam.v"), the
///                                       parameters' flat order
///
/// Concatenating a group's datasets in `order`, each flattened row-major, gives the flat buffer
/// (`ParameterStore.values`, `.state`), so loading needs no live model.
///
/// The checksum covers the run state and every dataset in that order, in Python:
///
///     crc = zlib.crc32(f"rstrain-checkpoint {sequence}\n".encode())
///     crc = zlib.crc32(run_state.encode(), crc)
///     for m in json.loads(f.attrs["models"]):
///         for part in ("parameters", "state", "optimizer"):
///             g = f[f"models/{m}/{part}"]
///             for t in json.loads(g.attrs["order"]):
///                 d = g[t]
///                 crc = zlib.crc32(f"models/{m}/{part}/{t} {'x'.join(map(str, d.shape))}\n".encode(), crc)
///                 crc = zlib.crc32(d[()].astype("<f4").tobytes(), crc)
///         o = f[f"models/{m}/optimizer"].attrs
///         crc = zlib.crc32(f"models/{m}/optimizer {o['kind']} {o['step']}\n".encode(), crc)
///     assert format(crc, "08x") == f.attrs["checksum"]
public enum CheckpointFile {
    public static let format = "rstrain-checkpoint"
    public static let version: Int64 = 1
    public static let parts = ["parameters", "state", "optimizer"]

    /// Writes into an open (new) file; `models` are validated and carry their layouts.
    public static func write(_ file: HDF5File, sequence: Int, runState: String, models: [ModelSnapshot]) throws {
        try file.setAttribute("format", format)
        try file.setAttribute("version", version)
        try file.setAttribute("sequence", Int64(sequence))
        try file.setAttribute("run_state", runState)
        try file.setAttribute("models", try json(models.map(\.name)))
        for m in models {
            let layout = m.layout!
            let root = "models/\(m.name)"
            for part in parts { try file.createGroup("\(root)/\(part)") }
            try writeGroup(file, "\(root)/parameters", layout.parameters, m.values)
            try writeGroup(file, "\(root)/state", layout.state, m.state)
            let opt = "\(root)/optimizer"
            for t in m.optimizerTensors { try file.writeDataset("\(opt)/\(t.name)", shape: [t.data.count], t.data) }
            try file.setAttribute("order", try json(m.optimizerTensors.map(\.name)), on: opt)
            try file.setAttribute("kind", m.optimizerKind, on: opt)
            try file.setAttribute("step", Int64(m.optimizerStep), on: opt)
        }
        try file.setAttribute("checksum", checksum(sequence: sequence, runState: runState, models: models))
    }

    private static func writeGroup(_ file: HDF5File, _ group: String, _ tensors: [TensorLayout], _ flat: [Float]) throws {
        try flat.withUnsafeBufferPointer { all in
            var offset = 0
            for t in tensors {
                let n = t.shape.count
                try file.writeDataset("\(group)/\(t.name)", shape: t.shape.dims, UnsafeBufferPointer(rebasing: all[offset..<offset + n]))
                offset += n
            }
        }
        try file.setAttribute("order", try json(tensors.map(\.name)), on: group)
    }

    /// Reads and verifies a whole checkpoint: format, structure, checksum.
    public static func read(_ path: String) throws -> Checkpoint {
        let file = try HDF5File(path, mode: .readOnly)
        defer { try? file.close() }
        guard let fmt = try file.stringAttribute("format"), fmt == format else {
            throw DataError(path: path, "not an rstrain checkpoint (no format = \"\(format)\" attribute)")
        }
        let v = try file.int64Attribute("version")
        guard v == version else {
            throw DataError(path: path, object: "attribute 'version'", "checkpoint version \(v.map(String.init) ?? "missing") not supported (this rstrain reads \(version))")
        }
        guard let seq = try file.int64Attribute("sequence"), seq >= 0 else {
            throw DataError(path: path, object: "attribute 'sequence'", "missing or negative")
        }
        guard let runState = try file.stringAttribute("run_state") else {
            throw DataError(path: path, object: "attribute 'run_state'", "missing")
        }
        guard let stored = try file.stringAttribute("checksum") else {
            throw DataError(path: path, object: "attribute 'checksum'", "missing")
        }
        let names = try stringList(file, "models", on: nil)
        let datasets = try file.datasetNames()
        var models: [ModelSnapshot] = []
        for name in names {
            let root = "models/\(name)"
            let (params, values) = try readGroup(file, "\(root)/parameters", datasets)
            let (state, stateValues) = try readGroup(file, "\(root)/state", datasets)
            let opt = "\(root)/optimizer"
            let (optLayout, optValues) = try readGroup(file, opt, datasets)
            guard let kind = try file.stringAttribute("kind", on: opt) else {
                throw DataError(path: path, object: "attribute 'kind' of '\(opt)'", "missing")
            }
            guard let step = try file.int64Attribute("step", on: opt), step >= 0 else {
                throw DataError(path: path, object: "attribute 'step' of '\(opt)'", "missing or negative")
            }
            var tensors: [OptimizerTensor] = []
            var offset = 0
            for t in optLayout {
                guard t.shape.count == values.count else {
                    throw DataError(path: path, object: "dataset '\(opt)/\(t.name)'", "has \(t.shape.count) values, the model \(values.count) parameters")
                }
                tensors.append(OptimizerTensor(name: t.name, data: Array(optValues[offset..<offset + t.shape.count])))
                offset += t.shape.count
            }
            models.append(ModelSnapshot(name: name, values: values, state: stateValues, optimizerKind: kind,
                                        optimizerTensors: tensors, optimizerStep: Int(step),
                                        layout: ModelLayout(parameters: params, state: state)))
        }
        let computed = checksum(sequence: Int(seq), runState: runState, models: models)
        guard computed == stored else {
            throw DataError(path: path, "checksum mismatch: file says \(stored), contents give \(computed) (damaged)")
        }
        return Checkpoint(path: path, sequence: Int(seq), runState: Data(runState.utf8), models: models)
    }

    /// The datasets of `group` in its `order` and their concatenation; every dataset of the
    /// group must be listed exactly once.
    private static func readGroup(_ file: HDF5File, _ group: String, _ datasets: [String]) throws -> ([TensorLayout], [Float]) {
        let order = try stringList(file, "order", on: group)
        guard Set(order).count == order.count else {
            throw DataError(path: file.path, object: "attribute 'order' of '\(group)'", "lists a tensor twice")
        }
        let prefix = group + "/"
        let present = Set(datasets.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
        if let unlisted = present.subtracting(order).sorted().first {
            throw DataError(path: file.path, object: "dataset '\(prefix)\(unlisted)'", "not listed in the group's 'order'")
        }
        if let absent = order.first(where: { !present.contains($0) }) {
            throw DataError(path: file.path, object: "dataset '\(prefix)\(absent)'", "listed in 'order' but missing")
        }
        let layout = try order.map { TensorLayout(name: $0, shape: Shape(try file.shape(of: prefix + $0))) }
        var flat = [Float](repeating: 0, count: layout.reduce(0) { $0 + $1.shape.count })
        try flat.withUnsafeMutableBufferPointer { all in
            var offset = 0
            for t in layout {
                let n = t.shape.count
                try file.read(prefix + t.name, into: UnsafeMutableBufferPointer(rebasing: all[offset..<offset + n]))
                offset += n
            }
        }
        return (layout, flat)
    }

    /// The CRC-32 described above, from the in-memory form, so writing and reading hash the
    /// same bytes in the same order by construction.
    public static func checksum(sequence: Int, runState: String, models: [ModelSnapshot]) -> String {
        var crc = CRC32()
        crc.update("\(format) \(sequence)\n")
        crc.update(runState)
        func add(_ name: String, _ shape: [Int], _ data: UnsafeBufferPointer<Float>) {
            crc.update("\(name) \(shape.map(String.init).joined(separator: "x"))\n")
            crc.update(data)
        }
        for m in models {
            let root = "models/\(m.name)"
            let layout = m.layout!
            for (part, tensors, flat) in [("parameters", layout.parameters, m.values), ("state", layout.state, m.state)] {
                flat.withUnsafeBufferPointer { all in
                    var offset = 0
                    for t in tensors {
                        let n = t.shape.count
                        add("\(root)/\(part)/\(t.name)", t.shape.dims, UnsafeBufferPointer(rebasing: all[offset..<offset + n]))
                        offset += n
                    }
                }
            }
            for t in m.optimizerTensors {
                t.data.withUnsafeBufferPointer { add("\(root)/optimizer/\(t.name)", [t.data.count], $0) }
            }
            crc.update("\(root)/optimizer \(m.optimizerKind) \(m.optimizerStep)\n")
        }
        return crc.hex
    }

    private static func json(_ names: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
    }

    private static func stringList(_ file: HDF5File, _ key: String, on object: String?) throws -> [String] {
        let what = "attribute '\(key)'" + (object.map { " of '\($0)'" } ?? "")
        guard let text = try file.stringAttribute(key, on: object) else { throw DataError(path: file.path, object: what, "missing") }
        guard let list = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
            throw DataError(path: file.path, object: what, "not a JSON array of names: \(text.prefix(80))")
        }
        return list
    }
}
