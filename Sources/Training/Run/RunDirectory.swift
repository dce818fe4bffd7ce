import DataIO
import Engine
import Foundation
import Experiment
import Settings

/// Rank 0's run directory: config.json (as run), normalization.json, metrics.jsonl,
/// schedule.jsonl, checkpoints/, final/, timeline/.
final class RunDirectory {
    let path: String
    let store: CheckpointStore
    var metrics: JSONLWriter
    var schedule: JSONLWriter
    var lastSequence = 0

    init(_ path: String, restart: Bool, keep: Int) throws {
        self.path = path
        let fm = FileManager.default
        if restart {
            for name in ["checkpoints", "final", "timeline", "metrics.jsonl", "schedule.jsonl"] {
                try? fm.removeItem(atPath: "\(path)/\(name)")
            }
        }
        do {
            try fm.createDirectory(atPath: "\(path)/checkpoints", withIntermediateDirectories: true)
        } catch {
            throw DataError(path: path, "cannot create the run directory: \(error.localizedDescription)")
        }
        store = CheckpointStore(directory: "\(path)/checkpoints", keep: keep)
        metrics = try JSONLWriter(path: "\(path)/metrics.jsonl", append: true)
        schedule = try JSONLWriter(path: "\(path)/schedule.jsonl", append: true)
    }

    /// Loads the latest valid checkpoint into rank 0's replicas; nil when there is none.
    func resume(config: RunConfig, replica: (Int) throws -> ModelReplica, say: (String) -> Void)
        throws -> (round: Int, segment: Int, note: String)? {
        let (found, rejected) = store.latestValid()
        for r in rejected { say("rstrain: checkpoint \(r.path) is unusable (\(r.reason)); using the one before it") }
        guard let ck = found else {
            if !rejected.isEmpty { say("rstrain: no valid checkpoint left; starting over") }
            // A run directory without a checkpoint starts clean.
            metrics.close(); schedule.close()
            for n in ["metrics.jsonl", "schedule.jsonl"] { try? FileManager.default.removeItem(atPath: "\(path)/\(n)") }
            metrics = try JSONLWriter(path: "\(path)/metrics.jsonl", append: true)
            schedule = try JSONLWriter(path: "\(path)/schedule.jsonl", append: true)
            return nil
        }
        guard let state = JSONValue.foundationObject(ck.runState),
              let round = state["round"] as? Int, let segment = state["segment"] as? Int else {
            throw DataError(path: ck.path, "has no readable run state")
        }
        let names = (state["models"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        guard names == config.models.map(\.name) else {
            throw ConfigError(key: "models", "are \(config.models.map(\.name)) but the checkpoint \(ck.path) holds \(names): resuming is impossible; run with --restart to start over", context: config.file)
        }
        for (i, m) in config.models.enumerated() {
            let saved = (state["models"] as? [[String: Any]])?[i]["spec"] as? [String: Any] ?? [:]
            let same = NSDictionary(dictionary: saved).isEqual(to: m.spec)
            guard same, let snap = ck.models.first(where: { $0.name == m.name }) else {
                throw ConfigError(key: "models[\(i)].model", "differs from the architecture in checkpoint \(ck.path): resuming is impossible; run with --restart to start over", context: config.file)
            }
            let r = try replica(i)
            do { try snap.restore(into: r.parameters, optimizer: r.optimizer) } catch {
                throw ConfigError(key: "models[\(i)]", "cannot resume from \(ck.path): \(error); run with --restart to start over", context: config.file)
            }
        }
        lastSequence = ck.sequence
        if let fp = state["fingerprint"] as? String, fp != config.fingerprint {
            say("rstrain: warning: the config changed since checkpoint \(ck.path) in a way that changes results (not only epochs or run settings)")
        }
        let segLen = config.checkpointEvery ?? 20
        metrics.close(); schedule.close()
        _ = try JSONLWriter.truncate(path: "\(path)/metrics.jsonl") { o in
            let r = o["round"] as? Int ?? 0
            if o["type"] as? String == "step" { return r < round || (r == round && (o["step"] as? Int ?? 0) < segment * segLen) }
            return r < round
        }
        _ = try JSONLWriter.truncate(path: "\(path)/schedule.jsonl") { ($0["round"] as? Int ?? 0) < round }
        metrics = try JSONLWriter(path: "\(path)/metrics.jsonl", append: true)
        schedule = try JSONLWriter(path: "\(path)/schedule.jsonl", append: true)
        let steps = config.models.indices.map { (try? replica($0).optimizer.step) ?? 0 }
        let note = config.models.indices.map { "rstrain: resuming \(config.models[$0].name) at round \(round), step \(steps[$0]) (from \(URL(fileURLWithPath: ck.path).lastPathComponent))" }.joined(separator: "\n")
        return (round, segment, note)
    }

    /// config.json and normalization.json.
    func writeStart(setup: RunSetup) throws {
        try setup.config.text.write(to: URL(fileURLWithPath: "\(path)/config.json"), options: .atomic)
        if let s = setup.statistics { try s.write(to: "\(path)/normalization.json") }
    }

    func checkpoint(next: (Int, Int), config: RunConfig, schedule sch: Schedule, replicas: [ModelReplica]) throws {
        lastSequence += 1
        let state: [String: Any] = [
            "round": next.0, "segment": next.1, "fingerprint": config.fingerprint, "seed": config.seed,
            // Each shard sampler's state: the micro-batches it has given out.
            "samplers": sch.drawn(round: next.0, steps: next.1 * (config.checkpointEvery ?? 20)),
            "models": replicas.map { ["name": $0.config.name, "spec": $0.config.spec, "optimizer_step": $0.optimizer.step] as [String: Any] },
        ]
        let data = try JSONSerialization.data(withJSONObject: state, options: [.sortedKeys])
        let snaps = replicas.map { ModelSnapshot(name: $0.config.name, store: $0.parameters, optimizer: $0.optimizer) }
        let layouts = Dictionary(uniqueKeysWithValues: replicas.map { ($0.config.name, $0.parameters) })
        _ = try store.write(sequence: lastSequence, runState: data, models: snaps, layouts: layouts)
    }
}
