import DataIO
import Distributed
import Engine
import Foundation
import Settings

/// What every rank knows before training: the config (read by rank 0, broadcast), the
/// placement, its own open shards, the catalog of all shards, the normalisation, the feeds and
/// the schedule. Problems found anywhere are gathered and reported together by rank 0.
public struct RunSetup {
    public let config: RunConfig
    public let world: Communicator
    public let hosts: [String]
    public let placement: Placement
    /// This rank's shards, by shard index.
    public let shards: [Int: ShardData]
    public let catalog: [CatalogEntry]
    public let split: [(train: [Int], validation: [Int])]
    public let normalization: Normalization
    public let statistics: BandStatistics?
    public let feeds: [Feed]
    public let schedule: Schedule

    /// Thrown on every rank when setup failed somewhere; rank 0 has printed the problems.
    public struct Failed: Error {
        public let problems: [String]
        public init(problems: [String]) { self.problems = problems }

        /// Rank 0 lists the problems ("rstrain: 2 problems before training:").
        public func report(_ when: String, rank: Int, say: (String) -> Void) {
            guard rank == 0 else { return }
            say("rstrain: \(problems.count) problem\(problems.count == 1 ? "" : "s") \(when):")
            for p in problems { say("  - " + p) }
        }
    }

    public static func make(configPath: String, world: Communicator) throws -> RunSetup {
        // Rank 0 reads the file; every rank parses the same text.
        var text = ""
        if world.rank == 0, let d = FileManager.default.contents(atPath: configPath) { text = inliningModelFiles(d) }
        text = try world.broadcast(string: text, root: 0)
        let hosts = try world.allgather(string: world.hostname)
        let config: RunConfig
        do {
            guard !text.isEmpty else {
                var isDir: ObjCBool = false
                let exists = FileManager.default.fileExists(atPath: configPath, isDirectory: &isDir)
                throw ConfigError(key: "(file)", exists ? "the config file '\(configPath)' cannot be read" : "the config file '\(configPath)' does not exist", context: configPath)
            }
            config = try RunConfig(data: Data(text.utf8), file: configPath)
        } catch { throw Failed(problems: ["\(error)"]) }
        let placement: Placement
        do { placement = try Placement(shards: config.data.shards, worldSize: world.size, hosts: hosts, file: config.file) } catch {
            throw Failed(problems: ["\(error)"])
        }

        // Open this rank's shards; the first owner of each describes it for the catalog.
        var problems: [String] = []
        var shards: [Int: ShardData] = [:]
        var entries: [CatalogEntry] = []
        for s in placement.shards(of: world.rank) {
            do {
                let d = try ShardData(index: s, data: config.data, host: world.hostname, rank: world.rank)
                shards[s] = d
                if placement.owners[s].first == world.rank {
                    var stats: BandStatistics?
                    if case .statistics = config.data.normalization {
                        let train = d.split(config.data).train
                        stats = try d.statistics(indices: train)
                    }
                    entries.append(CatalogEntry(d, statistics: stats))
                }
            } catch {
                problems.append("rank \(world.rank) (\(world.hostname)): shard \(config.data.shards[s].name): \(error)")
            }
        }
        let enc = JSONEncoder()
        let mine = String(decoding: try enc.encode(Report(entries: entries, problems: problems)), as: UTF8.self)
        let all = try world.allgather(string: mine).map { try JSONDecoder().decode(Report.self, from: Data($0.utf8)) }
        problems = all.flatMap(\.problems)
        guard problems.isEmpty else { throw Failed(problems: problems) }
        let catalog = all.flatMap(\.entries).sorted { $0.shard < $1.shard }
        precondition(catalog.count == config.data.shards.count, "every shard has a first owner")

        // Every shard's samples must look alike.
        let first = catalog[0]
        for e in catalog.dropFirst() where e.shapes != first.shapes || e.scene != first.scene {
            problems.append("shard \(config.data.shards[e.shard].name) has samples \(e.shapes.summary), but shard \(config.data.shards[0].name) has \(first.shapes.summary)")
        }
        var feeds: [Feed] = []
        for (i, m) in config.models.enumerated() {
            do { feeds.append(try Feed.choose(for: m, index: i, sample: first.shapes, scene: first.scene, file: config.file)) } catch {
                problems.append("\(error)")
            }
        }
        var statistics: BandStatistics?
        let normalization: Normalization
        switch config.data.normalization {
        case .none: normalization = .identity
        case .scale(let d): normalization = .affine(scale: [Float(1 / d)], offset: [0])
        case .file(let p):
            do { statistics = try BandStatistics.read(from: p) } catch { problems.append("data.normalization.path: \(error)") }
            normalization = statistics.map { .statistics($0) } ?? .identity
        case .statistics:
            // Merged in shard order: the same on every rank, whoever computed each part.
            var s = BandStatistics(bands: first.image[0], bandNames: first.bands)
            for e in catalog { if let st = e.statistics { s.merge(st) } }
            statistics = s
            normalization = .statistics(s)
        }
        if let s = statistics, s.bands != first.image[0] {
            problems.append("data.normalization: statistics for \(s.bands) bands, but the samples have \(first.image[0])")
        }
        guard problems.isEmpty else { throw Failed(problems: problems) }

        let split = catalog.map { e -> (train: [Int], validation: [Int]) in let s = e.split(config.data); return (s.train, s.validation) }
        let schedule = Schedule(mode: config.mode, models: config.models.count, trainCounts: split.map(\.train.count),
                                microBatch: config.microBatch, microBatches: config.microBatches,
                                epochs: config.epochs, roundFraction: config.roundFraction)
        return RunSetup(config: config, world: world, hosts: hosts, placement: placement, shards: shards, catalog: catalog,
                        split: split, normalization: normalization, statistics: statistics, feeds: feeds, schedule: schedule)
    }

    /// The config text with each `models[i].model` file reference replaced by the file's JSON,
    /// so the files need exist only where rank 0 runs (and config.json records what ran).
    /// Anything unreadable is left as it is, for the config check to report.
    public static func inliningModelFiles(_ data: Data) -> String {
        let original = String(decoding: data, as: UTF8.self)
        guard var json = JSONValue.foundationObject(data),
              var models = json["models"] as? [Any] else { return original }
        var changed = false
        for i in models.indices {
            guard var m = models[i] as? [String: Any], let path = m["model"] as? String,
                  let d = FileManager.default.contents(atPath: path),
                  let spec = JSONValue.foundationObject(d) else { continue }
            m["model"] = spec
            models[i] = m
            changed = true
        }
        guard changed else { return original }
        json["models"] = models
        guard let out = try? JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]) else { return original }
        return String(decoding: out, as: UTF8.self)
    }

    private struct Report: Codable {
        var entries: [CatalogEntry]
        var problems: [String]
    }
}
