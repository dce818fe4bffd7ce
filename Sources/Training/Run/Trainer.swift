import DataIO
import Distributed
import Engine
import Foundation
import Models
import Experiment

/// `rstrain CONFIG.json`: the same code on every rank, with a world of one rank or many.
///
/// Per round: models move to the groups the schedule gives them; each group trains its model
/// on its shards in segments of steps, meeting the other groups at each segment's end (rank 0
/// gathers metrics, watches for silent ranks, and checkpoints when due); at the round's end
/// each group validates its model on its shards' held-out windows. See docs/architecture.md.
public final class Trainer {
    let setup: RunSetup
    var cfg: RunConfig { setup.config }
    var world: Communicator { setup.world }
    let restart: Bool
    let watchdog: Watchdog
    let sync: SyncPoint
    /// The ranks this rank trains with: its group (the ranks owning the same shards) in
    /// round-robin, the world in data-parallel mode; nil for a rank that owns no shard.
    let groupComm: Communicator?
    /// This group's all-reduce message size and whether it overlaps backward (`RunConfig.allreduceDefaults`).
    let bucketBytes: Int, overlap: Bool
    var replicas: [Int: ModelReplica] = [:]
    var samplers: [Int: ShardSampler] = [:]
    var currentRound = 0
    /// The time of the record being shown (see `progress`).
    var clock: Double?
    /// Ranks that hold each model's current state.
    var holder: [[Int]]
    /// Last activity of each rank (rank 0's view, from the sync reports).
    var activity: [String]
    let run: RunDirectory?
    let timeline: Timeline
    var progress: ProgressPrinter?
    /// Metric records waiting for the next sync point.
    var records: [MetricRecord] = []
    /// Validation sums per model over the final window of rounds (rank 0).
    var finalValidation: [Int: StepMetrics] = [:]
    /// Rank 0's summary line per random_forest entry, printed with the final validation.
    var forestLines: [String] = []
    let say: (String) -> Void
    var onProgress: (ProgressPrinter) -> Void = { _ in }

    /// Runs the config; returns the process exit status.
    public static func main(configPath: String, restart: Bool) -> Int32 {
        MPIJob.run("rstrain") { world in
            // Rank 0 speaks through the progress display once it exists.
            var display: ProgressPrinter?
            let plain = MPIJob.speaker(world)
            let say: (String) -> Void = { line in
                if let d = display { d.message(line) } else { plain(line) }
            }
            let setup: RunSetup
            do { setup = try RunSetup.make(configPath: configPath, world: world) } catch let f as RunSetup.Failed {
                f.report("before training", rank: world.rank, say: say)
                throw SharedFailure([], status: 2)  // printed above, on the trainer's output
            }
            let t = try Trainer(setup: setup, restart: restart, say: say)
            t.onProgress = { display = $0 }
            let status = try t.train()
            t.watchdog.stop()
            return status
        }
    }

    init(setup: RunSetup, restart: Bool, say: @escaping (String) -> Void) throws {
        self.setup = setup
        self.restart = restart
        self.say = say
        let cfg = setup.config, world = setup.world
        BLAS.threads = cfg.blasThreads
        watchdog = Watchdog(warn: cfg.stallWarnSeconds, abort: cfg.stallAbortSeconds, say: say)
        sync = SyncPoint(world: world, hosts: setup.hosts, warn: cfg.stallWarnSeconds, abort: cfg.stallAbortSeconds, say: say)
        let g = setup.placement.group(of: world.rank)
        groupComm = cfg.mode == .roundRobin ? try world.split(color: g, key: world.rank) : world
        // The same on every rank of the group: its collectives must agree.
        let groupRanks = cfg.mode == .roundRobin ? g.map { setup.placement.groups[$0] } ?? [world.rank] : Array(0..<world.size)
        let groupHosts = Set(groupRanks.map { setup.hosts[$0] }).count
        (bucketBytes, overlap) = cfg.allreduceDefaults(hosts: groupHosts, ranks: groupRanks.count)
        if world.rank == 0, world.size > 1, cfg.reduction == .fast {
            say(String(format: "all-reduce: %@ messages%@ (%d host%@ in rank 0's group)", Self.megabytes(bucketBytes),
                       overlap ? ", overlapped with backward" : " after backward", groupHosts, groupHosts == 1 ? "" : "s"))
        }
        holder = Array(repeating: [0], count: cfg.models.count)
        activity = Array(repeating: "start", count: world.size)
        run = world.rank == 0 ? try RunDirectory(cfg.runDir, restart: restart, keep: cfg.checkpointKeep) : nil
        let tlPath = cfg.timeline ? "\(cfg.runDir)/timeline/rank-\(world.rank).json" : nil
        if tlPath != nil { try? FileManager.default.createDirectory(atPath: "\(cfg.runDir)/timeline", withIntermediateDirectories: true) }
        timeline = try Timeline(path: tlPath, rank: world.rank, host: world.hostname)
    }

    // MARK: - Replicas and groups

    func replica(_ m: Int) throws -> ModelReplica {
        if let r = replicas[m] { return r }
        let r = try ModelReplica(index: m, config: cfg.models[m], feed: setup.feeds[m], microBatch: cfg.microBatch,
                                 sample: setup.catalog[0].shapes, reduction: cfg.reduction, bucketBytes: bucketBytes)
        r.overlapReduction = overlap
        replicas[m] = r
        return r
    }

    /// The ranks that train on logical group g.
    func ranks(ofGroup g: Int) -> [Int] {
        Array(Set(setup.schedule.groups[g].flatMap { setup.placement.owners[$0] })).sorted()
    }

    // MARK: - The run

    func train() throws -> Int32 {
        let sch = setup.schedule
        // Where to start: rank 0 reads the latest valid checkpoint, then tells everyone.
        var start = (round: 0, segment: 0)
        var resumeNote = ""
        if let run {
            if let resumed = try run.resume(config: cfg, replica: replica, say: say) {
                start = (resumed.round, resumed.segment)
                resumeNote = resumed.note
            } else {
                for m in cfg.models.indices { try replica(m).parameters.initialize(seed: cfg.seed &+ stableHash(cfg.models[m].name)) }
            }
            try run.writeStart(setup: setup)
        }
        var startBuf: [Int64] = [Int64(start.round), Int64(start.segment)]
        try startBuf.withUnsafeMutableBufferPointer { try world.broadcast($0, root: 0) }
        start = (Int(startBuf[0]), Int(startBuf[1]))
        if world.rank == 0 {
            if !resumeNote.isEmpty { say(resumeNote) }
            let totals = Dictionary(uniqueKeysWithValues: cfg.models.indices.map { (cfg.models[$0].name, sch.totalSteps(model: $0)) })
            // Steps reach rank 0 in bursts at sync points: rates and ETAs follow the time each step
            // ended on its group (`clock`), not when its record arrived.
            let live = cfg.progressLive ?? (isatty(STDOUT_FILENO) != 0 && !MPIRuntime.launchedByLauncher)
            progress = ProgressPrinter(models: cfg.models.map(\.name), totalSteps: totals, live: live, interval: cfg.progressSeconds,
                                       now: { [unowned self] in self.clock ?? Date().timeIntervalSince1970 })
            onProgress(progress!)
            say("rstrain: \(world.size) rank\(world.size == 1 ? "" : "s"), \(cfg.models.count) model\(cfg.models.count == 1 ? "" : "s"), \(cfg.data.shards.count) shard\(cfg.data.shards.count == 1 ? "" : "s"), \(cfg.mode.rawValue), \(cfg.reduction.rawValue) reduction, \(sch.rounds) rounds; run directory \(cfg.runDir)")
        }
        try growForests()
        // Initial weights (or the checkpoint's) go from rank 0 to the first groups.
        holder = Array(repeating: [0], count: cfg.models.count)

        let finalRounds = cfg.mode == .roundRobin ? sch.roundsPerEpoch - 1 : 0
        for r in start.round..<(sch.rounds + finalRounds) {
            let training = r < sch.rounds
            let tasks = sch.tasks(round: r).map { training ? $0 : Schedule.Task(model: $0.model, group: $0.group, steps: 0) }
            currentRound = r
            try move(tasks)
            if training {
                let segLen = cfg.checkpointEvery ?? 20
                let longest = tasks.map(\.steps).max() ?? 0
                let segments = max(1, (longest + segLen - 1) / segLen)
                let drawn = sch.drawnBefore(round: r)
                for k in (r == start.round ? start.segment : 0)..<segments {
                    let steps = k * segLen..<min((k + 1) * segLen, longest)
                    let failure = try trainSegment(tasks, round: r, steps: steps, drawn: drawn)
                    let last = k == segments - 1
                    if try meet(round: r, segment: k, failure: failure,
                                checkpoint: !last && cfg.checkpointEvery != nil ? (r, k + 1) : nil) { return 1 }
                }
            }
            // Validation on each group's held-out windows, then the round-end checkpoint.
            try validate(tasks, round: r)
            let checkpointAt: (Int, Int)? = training ? (r + 1, 0) : nil
            if try meet(round: r, segment: -1, failure: nil, checkpoint: checkpointAt) { return 1 }
        }
        try finish()
        return 0
    }

    /// Moves each task's model to the ranks of its group.
    func move(_ tasks: [Schedule.Task]) throws {
        var moves: [Transfer.Move] = []
        for t in tasks {
            let to = ranks(ofGroup: t.group)
            moves.append(Transfer.Move(model: t.model, from: holder[t.model], to: to))
        }
        let span = timeline.begin("model transfer", category: "transfer")
        let received = try Transfer.run(moves, world: world, group: groupComm, replica: replica, watchdog: watchdog, hosts: setup.hosts)
        timeline.end(span)
        // Each move's time on its new leader (receive and group broadcast) and the state's size go
        // to metrics.jsonl at the next sync point: the scaling model fits transfers to them.
        for mv in moves where mv.to.min() == world.rank {
            guard let seconds = received[mv.model] else { continue }
            records.append(.transfer(TransferRecord(model: cfg.models[mv.model].name, round: currentRound, from: mv.from.min()!,
                                                    ranks: mv.to, bytes: (try replica(mv.model).packedCount + 2) * 4,
                                                    seconds: seconds, time: Date().timeIntervalSince1970)))
        }
        for mv in moves { holder[mv.model] = mv.to }
        if let run, let r = tasks.first.map({ _ in currentRound }) {
            for t in tasks {
                try run.schedule.write(["round": r, "model": cfg.models[t.model].name,
                                        "shards": setup.schedule.groups[t.group].map { cfg.data.shards[$0].name },
                                        "ranks": ranks(ofGroup: t.group), "steps": t.steps])
            }
            let busy = Set(tasks.map(\.model))
            for m in cfg.models.indices where !busy.contains(m) {
                try run.schedule.write(["round": r, "model": cfg.models[m].name, "queued": true])
            }
        }
    }

    /// "256 KB", "4 MB".
    static func megabytes(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? String(format: "%g MB", Double(bytes) / Double(1 << 20)) : String(format: "%g KB", Double(bytes) / 1024)
    }
}
