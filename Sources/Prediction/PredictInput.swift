import DataIO
import Foundation

/// What `rstrain predict --input` names: one tile folder (its parent is the repository, whose
/// shard.json gives band order and class names), a whole tile repository, or one GeoTIFF scene
/// (read as a tile whose image.tif it is: bands named by their descriptions, else band1…bandN).
public struct PredictInput: Sendable {
    public let repository: TileRepository
    /// The tiles to predict, by name.
    public let tiles: [String]
    /// True when the input was a repository (one output per tile into a directory).
    public let isRepository: Bool
    /// A GeoTIFF scene's one-tile repository (removed when the last copy of this input goes).
    let scene: SceneFolder?

    public init(path: String) throws {
        let p = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else { throw DataError(path: p, "no such tile folder or repository") }
        guard isDir.boolValue else {
            let l = p.lowercased()
            guard l.hasSuffix(".tif") || l.hasSuffix(".tiff") else {
                throw DataError(path: p, "is neither a directory (a tile folder or a tile repository) nor a GeoTIFF scene (.tif)")
            }
            let folder = try SceneFolder(scene: p)
            scene = folder
            repository = try TileRepository(path: folder.path)
            tiles = [folder.tile]
            isRepository = false
            return
        }
        scene = nil
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

/// A temporary one-tile repository for a GeoTIFF scene: <tmp>/rstrain-scene-…/<stem>/image.tif, a
/// symbolic link to the scene, so the scene is indexed, read and resampled exactly as a tile.
final class SceneFolder: @unchecked Sendable {
    let path: String, tile: String

    init(scene: String) throws {
        let url = URL(fileURLWithPath: scene).standardizedFileURL
        tile = url.deletingPathExtension().lastPathComponent
        path = NSTemporaryDirectory() + "/rstrain-scene-\(getpid())-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: path + "/" + tile, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: path + "/" + tile + "/image.tif", withDestinationPath: url.path)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw DataError(path: scene, "cannot make a temporary tile folder for it in \(NSTemporaryDirectory()): \(error.localizedDescription)")
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
