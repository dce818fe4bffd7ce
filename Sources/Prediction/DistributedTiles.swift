import DataIO
import Distributed
import Foundation
import Experiment

/// Tile-level distribution of any per-tile job (`rstrain predict` on a repository, and any
/// other mapper given as a closure): every rank resolves the input and output paths for
/// itself (`{host}` and `{rank}` as in shard paths, so each reads its own local disk), ranks
/// that find the same repository on the same host share its tiles (tile i goes to the
/// (i mod m)-th of those m ranks, by rank), and rank 0 gathers every tile's summary line.
/// No tile leaves the rank that reads it.
public struct DistributedTiles {
    public let world: Communicator
    /// The paths as this rank resolved them.
    public let inputPath: String, outputPath: String
    /// What this rank found at `inputPath` (nil: nothing there).
    public let input: PredictInput?
    /// The tiles this rank maps, by name.
    public let tiles: [String]
    /// Ranks that found no input (reported on their stderr).
    public let ranksWithout: [Int]

    /// `input` and `output` may hold `{host}` and `{rank}`. Every rank of `world` calls this;
    /// all of them throw (the same error) when any rank's input is unreadable, or when no
    /// rank has a tile ("… no tile folder or repository on any rank").
    public init(input: String, output: String, world: Communicator) throws {
        self.world = world
        let host = world.hostname
        let shard = DataConfig.Shard(path: input, name: "input")
        let resolved = shard.path(host: host, rank: world.rank)
        inputPath = resolved
        outputPath = DataConfig.Shard(path: output, name: "output").path(host: host, rank: world.rank)
        var found: PredictInput?, problem = ""
        if world.size == 1 {
            found = try PredictInput(path: resolved)  // one process: its own errors, as they are
        } else if FileManager.default.fileExists(atPath: resolved) {
            do { found = try PredictInput(path: resolved) } catch { problem = "rank \(world.rank) (\(host)): \(error)" }
        }
        // Everyone learns every rank's repository (host + path) and problems, and decides alike.
        let key = found.map { _ in "\(host)\t" + URL(fileURLWithPath: resolved).standardizedFileURL.path } ?? ""
        let keys = try world.allgather(string: key), problems = try world.allgather(string: problem).filter { !$0.isEmpty }
        guard problems.isEmpty else { throw DataError(path: input, problems.joined(separator: "; ")) }
        guard keys.contains(where: { !$0.isEmpty }) else {
            throw DataError(path: input, "no such tile folder or repository on any rank (rank 0 looked at \(resolved))")
        }
        ranksWithout = keys.indices.filter { keys[$0].isEmpty }
        self.input = found
        if let found {
            let sharing = keys.indices.filter { keys[$0] == key }, i = sharing.firstIndex(of: world.rank)!
            tiles = found.tiles.enumerated().filter { $0.offset % sharing.count == i }.map(\.element)
        } else {
            tiles = []
        }
    }

    /// `path` with `{host}` and `{rank}` as this rank of `world` sees them (as shard paths).
    public static func expand(_ path: String, world: Communicator) -> String {
        DataConfig.Shard(path: path, name: "").path(host: world.hostname, rank: world.rank)
    }

    /// Runs `map(repository, tile)` on each of this rank's tiles and gathers the lines it returns
    /// on rank 0 (every rank's, in rank order, empty ones left out; nil on the others). A rank without input says
    /// so on stderr. Every rank must call this.
    public func run(_ map: (TileRepository, String) throws -> String) throws -> [String]? {
        if input == nil {
            fputs("[rank \(world.rank) \(world.hostname)] no tile folder or repository at \(inputPath): this rank maps nothing\n", stderr)
        }
        var lines: [String] = []
        if let input { for t in tiles { lines.append(try map(input.repository, t)) } }
        return try world.gather(string: lines.joined(separator: "\n"), root: 0)?.flatMap { $0.components(separatedBy: "\n").filter { !$0.isEmpty } }
    }
}
