import DataIO
import Engine
import Foundation

/// A checkpoint read back and verified (see `CheckpointFile` for the HDF5 layout).
public struct Checkpoint: Sendable {
    public let path: String
    /// The number in the file name (ckpt-000042.h5 is 42), also stored inside.
    public let sequence: Int
    /// The run state as written: JSON bytes, opaque here.
    public let runState: Data
    /// Every model's weights and optimizer state, in the order written, each with its layout.
    public let models: [ModelSnapshot]

    public func model(_ name: String) -> ModelSnapshot? { models.first { $0.name == name } }

    /// Reads and verifies one checkpoint file (format, structure, checksum); throws naming the
    /// file and what is wrong.
    public static func read(_ path: String) throws -> Checkpoint { try CheckpointFile.read(path) }
}

/// The checkpoints of a run (`run_dir/checkpoints/`): ckpt-000042.h5, one per checkpoint
/// number. Only rank 0 writes. Each file appears whole or not at all (written as
/// ckpt-000042.h5.tmp, synced, renamed, directory synced), carries a checksum, and only the
/// newest `keep` are kept. Loading takes the newest file that reads back intact, so a
/// checkpoint cut short or damaged on disk costs one checkpoint interval, not the run.
public struct CheckpointStore: Sendable {
    public let directory: String
    /// How many checkpoints (the newest by number) survive a write; at least 1.
    public let keep: Int

    public init(directory: String, keep: Int) {
        self.directory = directory
        self.keep = keep
    }

    /// ".../checkpoints/ckpt-000042.h5": where checkpoint `sequence` lives.
    public func path(for sequence: Int) -> String {
        (directory as NSString).appendingPathComponent(Self.fileName(sequence))
    }

    /// Writes checkpoint `sequence` atomically (replacing one of that number), then deletes all
    /// but the newest `keep` by number, and any temporary file a crashed write left behind.
    /// `layouts` names and shapes each model's flat arrays as its store does; a model missing
    /// there uses the snapshot's own layout. Everything is validated before the file is made.
    /// - Returns: the checkpoint's path.
    @discardableResult
    public func write(sequence: Int, runState: Data, models: [ModelSnapshot],
                      layouts: [String: ParameterStore] = [:]) throws -> String {
        let path = self.path(for: sequence)
        guard keep >= 1 else { throw DataError(path: directory, "keep must be at least 1 checkpoint (got \(keep))") }
        guard sequence >= 0 else { throw DataError(path: path, "negative checkpoint number \(sequence)") }
        guard !runState.contains(0), let state = String(data: runState, encoding: .utf8) else {
            throw DataError(path: path, object: "run state", "is not UTF-8 text (JSON expected)")
        }
        let laidOut = try Self.validate(models, layouts: layouts, path: path)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DataError(path: directory, "cannot create the checkpoint directory: \(error.localizedDescription)")
        }
        try HDF5File.writeAtomically(path) { file in
            try CheckpointFile.write(file, sequence: sequence, runState: state, models: laidOut)
        }
        try prune()
        return path
    }

    /// Checkpoint files by number, oldest first; temporary and foreign files are not listed.
    public func list() -> [String] {
        numbered().map(\.path)
    }

    /// The newest checkpoint that reads back and whose checksum matches, and the newer ones
    /// skipped on the way, each with the reason (the trainer reports them).
    public func latestValid() -> (checkpoint: Checkpoint?, rejected: [(path: String, reason: String)]) {
        var rejected: [(path: String, reason: String)] = []
        for (sequence, path) in numbered().reversed() {
            do {
                let c = try CheckpointFile.read(path)
                guard c.sequence == sequence else {
                    throw DataError(path: path, "holds checkpoint \(c.sequence), its name says \(sequence)")
                }
                return (c, rejected)
            } catch {
                rejected.append((path, "\(error)"))
            }
        }
        return (nil, rejected)
    }

    /// Deletes all but the newest `keep` checkpoints, and leftover temporary files.
    public func prune() throws {
        let all = numbered()
        var doomed = all.dropLast(max(keep, 1)).map(\.path)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        // Only rank 0 writes, and not concurrently: a temporary file now is a crashed write's.
        doomed += names.filter { $0.hasSuffix(".h5.tmp") && Self.sequence(of: String($0.dropLast(4))) != nil }
            .map { (directory as NSString).appendingPathComponent($0) }
        for p in doomed where unlink(p) != 0 && errno != ENOENT {
            throw DataError(path: p, "cannot delete an old checkpoint: \(String(cString: strerror(errno)))")
        }
    }

    // MARK: Internals

    public static func fileName(_ sequence: Int) -> String { "ckpt-" + String(format: "%06d", sequence) + ".h5" }

    /// The number in a checkpoint file name, nil for anything else (only the canonical
    /// spelling counts, so "ckpt-42.h5" and "ckpt-000042.h5.tmp" are not checkpoints).
    public static func sequence(of name: String) -> Int? {
        guard name.hasPrefix("ckpt-"), name.hasSuffix(".h5") else { return nil }
        let digits = name.dropFirst(5).dropLast(3)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = Int(digits), n >= 0, fileName(n) == name else { return nil }
        return n
    }

    private func numbered() -> [(sequence: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name in Self.sequence(of: name).map { ($0, (directory as NSString).appendingPathComponent(name)) } }
            .sorted { $0.sequence < $1.sequence }
    }

    /// Checks names and sizes and attaches each model's layout.
    private static func validate(_ models: [ModelSnapshot], layouts: [String: ParameterStore], path: String) throws -> [ModelSnapshot] {
        var seen = Set<String>()
        return try models.map { m in
            let what = "model '\(m.name)'"
            guard !m.name.isEmpty, !m.name.contains("/"), m.name != ".", m.name != ".." else {
                throw DataError(path: path, object: what, "model names must be non-empty, without '/', and not '.' or '..'")
            }
            guard seen.insert(m.name).inserted else { throw DataError(path: path, object: what, "given twice") }
            var out = m
            if let store = layouts[m.name] {
                let layout = ModelLayout(store)
                if let own = m.layout, let diff = own.differences(from: layout) {
                    throw DataError(path: path, object: what, "snapshot layout differs from the model's: \(diff)")
                }
                out.layout = layout
            }
            guard let layout = out.layout else {
                throw DataError(path: path, object: what, "no layout: pass the model's ParameterStore in `layouts`")
            }
            guard layout.parameterCount == m.values.count, layout.stateCount == m.state.count else {
                throw DataError(path: path, object: what, "layout has \(layout.parameterCount) parameter and \(layout.stateCount) state values, snapshot \(m.values.count) and \(m.state.count)")
            }
            var tensorNames = Set<String>()
            for t in layout.parameters + layout.state {
                guard !t.name.isEmpty, !t.name.contains("/") else {
                    throw DataError(path: path, object: "\(what), tensor '\(t.name)'", "names must be non-empty and without '/'")
                }
                guard tensorNames.insert(t.name).inserted else {
                    throw DataError(path: path, object: "\(what), tensor '\(t.name)'", "appears twice")
                }
            }
            guard !m.optimizerKind.isEmpty else { throw DataError(path: path, object: what, "empty optimizer kind") }
            guard m.optimizerStep >= 0 else { throw DataError(path: path, object: what, "negative optimizer step \(m.optimizerStep)") }
            var optNames = Set<String>()
            for t in m.optimizerTensors {
                guard !t.name.isEmpty, !t.name.contains("/"), optNames.insert(t.name).inserted else {
                    throw DataError(path: path, object: "\(what), optimizer state '\(t.name)'", "names must be unique, non-empty and without '/'")
                }
                guard t.data.count == m.values.count else {
                    throw DataError(path: path, object: "\(what), optimizer state '\(t.name)'", "has \(t.data.count) values, the model \(m.values.count) parameters")
                }
            }
            return out
        }
    }
}
