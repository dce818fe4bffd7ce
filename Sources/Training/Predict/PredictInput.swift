import DataIO
import Foundation

/// What `rstrain predict --input` names: one tile folder (its parent is the repository, whose
/// shard.json gives band order and class names) or a whole tile repository.
public struct PredictInput: Sendable {
    public let repository: TileRepository
    /// The tiles to predict, by name.
    public let tiles: [String]
    /// True when the input was a repository (one output per tile into a directory).
    public let isRepository: Bool

    public init(path: String) throws {
        let p = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else { throw DataError(path: p, "no such tile folder or repository") }
        guard isDir.boolValue else { throw DataError(path: p, "is not a directory (a tile folder or a tile repository)") }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: p)) ?? []
        let hasManifest = entries.contains(TileRepository.manifestName)
        let looksLikeTile = entries.contains { e in
            let l = e.lowercased()
            return l.hasSuffix(".tif") || l.hasSuffix(".tiff") || (e.count == 10 && e.dropFirst(4).first == "-")
        }
        if hasManifest || !looksLikeTile {
            repository = try TileRepository(path: p)
            tiles = repository.tiles.map(\.name)
            isRepository = true
        } else {
            let url = URL(fileURLWithPath: p).standardizedFileURL
            repository = try TileRepository(path: url.deletingLastPathComponent().path)
            tiles = [url.lastPathComponent]
            isRepository = false
        }
    }
}
