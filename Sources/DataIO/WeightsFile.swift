import Engine
import Foundation

/// Names and shapes that differ between a weights file and a model.
public struct WeightsMismatch: Error, CustomStringConvertible, Sendable {
    public let path: String
    /// In the model, absent from the file.
    public let missing: [String]
    /// In the file, absent from the model.
    public let unexpected: [String]
    /// In both, with different shapes.
    public let wrongShape: [(name: String, expected: Shape, found: [Int])]

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing: " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { parts.append("unexpected: " + unexpected.joined(separator: ", ")) }
        if !wrongShape.isEmpty {
            parts.append("wrong shape: " + wrongShape.map { e in
                "\(e.name) (model \(e.expected), file \(e.found.map(String.init).joined(separator: "×")))"
            }.joined(separator: ", "))
        }
        return "\(path): weights do not match the model; " + parts.joined(separator: "; ")
    }
}

/// A `ParameterStore` in HDF5: one float32 dataset per tensor at the file's root, named as in
/// the store ("enc1.conv1.weight"), trainable parameters and state (batch-norm statistics)
/// side by side; each dataset has a string attribute "kind" = "parameter" or "state".
/// Groups are left to callers (optimizer state, metadata) and ignored when loading.
public enum WeightsFile {
    public static let format = "rstrain-weights"
    public static let version: Int64 = 1

    /// Saves every tensor of `store` to `path` atomically (see `HDF5File.writeAtomically`).
    public static func save(_ store: ParameterStore, to path: String) throws {
        try HDF5File.writeAtomically(path) { try write(store, into: $0) }
    }

    /// Loads every tensor of `store` from `path`: names and shapes must match exactly.
    public static func load(_ store: ParameterStore, from path: String) throws {
        let file = try HDF5File(path, mode: .readOnly)
        try read(store, from: file)
        try file.close()
    }

    /// Writes `store`'s tensors into an open file (a checkpoint can add groups of its own).
    public static func write(_ store: ParameterStore, into file: HDF5File) throws {
        let tensors = all(store)
        var seen = Set<String>()
        for t in tensors {
            guard !t.name.isEmpty, !t.name.contains("/") else {
                throw DataError(path: file.path, object: "tensor '\(t.name)'", "names must be non-empty and without '/'")
            }
            guard seen.insert(t.name).inserted else {
                throw DataError(path: file.path, object: "tensor '\(t.name)'", "is both a parameter and a state tensor")
            }
        }
        try file.setAttribute("format", format)
        try file.setAttribute("version", version)
        for t in tensors {
            try file.writeDataset(t.name, shape: t.shape.dims, UnsafeBufferPointer(t.tensor.buffer))
            try file.setAttribute("kind", t.kind, on: t.name)
        }
    }

    /// Reads `store`'s tensors from an open file. Everything is checked before anything is
    /// read: on a mismatch the store is untouched and the error lists every missing,
    /// unexpected and mis-shaped tensor.
    public static func read(_ store: ParameterStore, from file: HDF5File) throws {
        let tensors = all(store)
        let inFile = try file.datasetNames().filter { !$0.contains("/") }
        let inFileSet = Set(inFile)
        let wanted = Set(tensors.map(\.name))
        var missing: [String] = [], wrong: [(String, Shape, [Int])] = []
        for t in tensors {
            guard inFileSet.contains(t.name) else { missing.append(t.name); continue }
            let found = try file.shape(of: t.name)
            if found != t.shape.dims { wrong.append((t.name, t.shape, found)) }
        }
        let unexpected = inFile.filter { !wanted.contains($0) }.sorted()
        guard missing.isEmpty, unexpected.isEmpty, wrong.isEmpty else {
            throw WeightsMismatch(path: file.path, missing: missing, unexpected: unexpected,
                                  wrongShape: wrong.map { (name: $0.0, expected: $0.1, found: $0.2) })
        }
        for t in tensors { try file.read(t.name, into: t.tensor.buffer) }
    }

    private static func all(_ store: ParameterStore) -> [(name: String, shape: Shape, tensor: Tensor, kind: String)] {
        store.entries.map { e in (e.name, e.shape, store.value(e.name)!, "parameter") }
            + store.stateEntries.map { e in (e.name, e.shape, store.stateTensor(e.name)!, "state") }
    }
}
