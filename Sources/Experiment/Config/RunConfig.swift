import Distributed
import Engine
import Foundation
import Settings

/// The run config (`rstrain CONFIG.json`), checked completely before anything runs: unknown
/// keys, wrong types and impossible combinations are refused with the JSON path of the key.
/// Every key is documented in docs/config.md. Relative paths are relative to the working
/// directory.
public struct RunConfig: @unchecked Sendable {
    public enum Mode: String, Sendable {
        /// Several models rotate over the groups (one group per shard), round after round.
        case roundRobin = "round_robin"
        /// All ranks train one model at a time, each on its own shards.
        case dataParallel = "data_parallel"
    }

    /// The config file.
    public var file: String
    /// The config's JSON text, as read (saved in the run directory; fingerprinted).
    public var text: Data
    public var runDir: String
    public var seed: UInt64
    public var mode: Mode
    public var reduction: ReductionMode
    public var data: DataConfig
    /// The neural models (trained by the schedule), in config order.
    public var models: [ModelConfig]
    /// The `"random_forest"` entries of `models` (grown before training; not scheduled).
    public var forests: [ModelConfig]
    /// Samples per micro-batch (the unit of computation; fixed).
    public var microBatch: Int
    /// Micro-batches per optimizer step (the step's batch is microBatch × this).
    public var microBatches: Int
    public var epochs: Int
    /// Steps per visit of a model to a shard group = fraction × training windows / batch.
    public var roundFraction: Double
    /// Checkpoint within a round every this many steps (nil: at round ends only).
    public var checkpointEvery: Int?
    public var checkpointKeep: Int
    /// BLAS threads per rank (nil: the default — 1 per rank when ranks share a host; 1 in exact mode).
    public var threads: Int?
    /// The BLAS threads a rank runs: `threads`, else 1 in exact mode (a micro-batch's gradient
    /// must not depend on how a BLAS call splits its sums), else the host's default.
    public var blasThreads: Int { threads ?? (reduction == .exact ? 1 : BLASCore.defaultThreads(requested: nil)) }
    /// Fast mode: overlap the gradient all-reduce with the backward pass (nil: when the group
    /// spans several hosts, `allreduceDefaults`).
    public var overlapAllreduce: Bool?
    /// Bytes per all-reduce message of the gradients (`allreduce_bucket_mb`; nil: by the group's
    /// hosts, `allreduceDefaults`).
    public var allreduceBucketBytes: Int?
    /// One host: 256 KB messages, which stay in cache through shared memory.
    public static let defaultBucketBytes = 256 << 10
    /// Several hosts: 4 MB, 16× fewer messages, each paying the network's latency on every ring
    /// step; 16 MB from 8 ranks on, where that latency (2(p−1) steps per message) outweighs the
    /// larger last bucket that overlap cannot hide.
    public static let defaultBucketBytesAcrossHosts = 4 << 20
    public static let defaultBucketBytesManyRanks = 16 << 20

    /// The all-reduce settings for a group of `ranks` ranks on `hosts` distinct hosts: what the
    /// config says, else what measured (and, beyond 4 hosts, modelled) best (docs/scaling.md):
    /// across hosts over TCP buckets overlapped with backward (2 and 4 hosts: 97–99% of the step
    /// is compute at 10 Gbit/s, against 50–64% with 256 KB chunks after it); within one host
    /// 256 KB chunks after backward (overlap costs CPU that no idle core hides).
    public func allreduceDefaults(hosts: Int, ranks: Int) -> (bucketBytes: Int, overlap: Bool) {
        let across = hosts > 1
        let bucket = !across ? Self.defaultBucketBytes : ranks >= 8 ? Self.defaultBucketBytesManyRanks : Self.defaultBucketBytesAcrossHosts
        return (allreduceBucketBytes ?? bucket, overlapAllreduce ?? (across && reduction == .fast))
    }
    public var timeline: Bool
    public var stallWarnSeconds: Double
    public var stallAbortSeconds: Double
    /// Seconds between plain progress lines (non-terminal output).
    public var progressSeconds: Double
    /// Redraw progress in place (nil: when stdout is a terminal and not under mpirun, which gives
    /// ranks a pseudo-terminal even when its own output goes to a file).
    public var progressLive: Bool?

    public var batch: Int { microBatch * microBatches }

    /// Reads and checks `path`.
    public init(path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ConfigError(key: "(file)", "the config file '\(path)' does not exist", context: path)
        }
        guard !isDir.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(key: "(file)", "the config file '\(path)' cannot be read", context: path)
        }
        try self.init(data: data, file: path)
    }

    public init(data text: Data, file: String) throws {
        let json: JSONValue
        do { json = try JSONValue.parse(text) } catch {
            throw ConfigError(key: "(file)", "is not valid JSON: \(error)", context: file)
        }
        guard let root = json.object else { throw ConfigError(key: "(file)", "must hold one JSON object", context: file) }
        self.file = file
        self.text = text
        var r = ConfigReader(root, context: file)
        runDir = try r.string("run_dir")
        let s = try r.int("seed", default: 0)
        guard s >= 0 else { throw r.error("seed", "must be ≥ 0, got \(s)") }
        seed = UInt64(s)
        mode = try r.choice("mode", default: .roundRobin)
        reduction = try r.choice("reduction", default: .fast)
        data = try DataConfig(try r.object("data"))
        let defaults = try r.section("optimizer")
        guard let list = try r.array("models"), !list.isEmpty else { throw r.error("models", "must list at least one model") }
        let all = try list.map { m in try ModelConfig(try m.reader(orError: "must be an object"), defaults: defaults) }
        let names = all.map(\.name)
        if let i = names.indices.first(where: { names[..<$0].contains(names[$0]) }) {
            throw ConfigError(key: "models[\(i)].name", "'\(names[i])' is used by two models", context: file)
        }
        models = all.filter { $0.forest == nil }
        forests = all.filter { $0.forest != nil }
        guard !models.isEmpty else {
            throw r.error("models", "must list at least one neural model besides random_forest entries (a forest alone: rstrain baseline)")
        }
        microBatch = try r.positive("micro_batch", default: 8)
        microBatches = try r.positive("micro_batches", default: 1)
        epochs = try r.positive("epochs", default: 1)
        roundFraction = try r.double("round_fraction", default: 1)
        guard roundFraction > 0, roundFraction.isFinite else { throw r.error("round_fraction", "must be > 0, got \(roundFraction)") }
        var ck = try r.section("checkpoint")
        checkpointEvery = ck.has("every_steps") ? try ck.positive("every_steps") : nil
        if !ck.has("every_steps") { _ = try ck.int("every_steps", default: 0) }
        checkpointKeep = try ck.positive("keep", default: 3)
        try ck.rejectUnknown()
        threads = r.has("threads") ? try r.positive("threads") : nil
        if threads == nil { _ = try r.int("threads", default: 0) }
        overlapAllreduce = r.has("overlap_allreduce") ? try r.bool("overlap_allreduce", default: false) : nil
        if overlapAllreduce == true && reduction == .exact { throw r.error("overlap_allreduce", "applies to the fast reduction only") }
        if r.has("allreduce_bucket_mb") {
            let mb = try r.double("allreduce_bucket_mb", default: 0)
            guard mb >= 1.0 / 64, mb <= 1024 else { throw r.error("allreduce_bucket_mb", "must be between 1/64 and 1024 (MB), got \(mb)") }
            allreduceBucketBytes = Int(mb * Double(1 << 20))
        } else {
            allreduceBucketBytes = nil
        }
        timeline = try r.bool("timeline", default: false)
        var w = try r.section("watchdog")
        stallWarnSeconds = try w.double("warn_seconds", default: 60)
        stallAbortSeconds = try w.double("abort_seconds", default: 300)
        guard stallWarnSeconds > 0 else { throw w.error("warn_seconds", "must be > 0") }
        guard stallAbortSeconds > stallWarnSeconds else {
            throw w.error("abort_seconds", "must be greater than warn_seconds (\(stallWarnSeconds)), got \(stallAbortSeconds)")
        }
        try w.rejectUnknown()
        progressSeconds = try r.double("progress_seconds", default: 10)
        progressLive = r.has("progress_live") ? try r.bool("progress_live") : nil
        if progressLive == nil { _ = try r.bool("progress_live", default: false) }
        try r.rejectUnknown()
    }

    /// A fingerprint of what decides the weights (for checkpoints): everything but `epochs`,
    /// the watchdog, progress, timeline and checkpoint settings — changing those is safe on resume.
    public var fingerprint: String {
        guard var json = (try? JSONSerialization.jsonObject(with: text)) as? [String: Any] else { return "" }
        for k in Self.neutralKeys { json[k] = nil }
        if json["data"] != nil { json["data"] = resultData }
        return Self.hash(json)
    }

    /// The settings that never change results, left out of every fingerprint: how long, how
    /// often checkpoints, what is shown, how many threads (top level); where shards are and how
    /// fast they are read (`data` and its shards).
    static let neutralKeys = ["epochs", "watchdog", "progress_seconds", "progress_live", "timeline", "checkpoint", "threads", "run_dir"]
    static let neutralDataKeys = ["workers", "block_cache_mb"]
    static let neutralShardKeys = ["ranks", "hosts"]

    /// The `data` section as written, less the settings that do not change results.
    public var resultData: [String: Any] {
        var d = ((try? JSONSerialization.jsonObject(with: text)) as? [String: Any])?["data"] as? [String: Any] ?? [:]
        for k in Self.neutralDataKeys { d[k] = nil }
        if let shards = d["shards"] as? [Any] {
            d["shards"] = shards.map { s -> Any in
                guard var o = s as? [String: Any] else { return s }
                for k in Self.neutralShardKeys { o[k] = nil }
                return o
            }
        }
        return d
    }

    /// A stable hex hash of a JSON object (keys sorted).
    public static func hash(_ json: [String: Any]) -> String {
        let canonical = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])) ?? Data()
        return String(stableHash(String(decoding: canonical, as: UTF8.self)), radix: 16)
    }
}
