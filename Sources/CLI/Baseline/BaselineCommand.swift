import ArgumentParser
import Engine
import Forest

struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Fit a random-forest pixel classifier on a run config's data, as a baseline for the deep models.",
        discussion: """
        Each shard's first owner samples pixels from the shard's training windows and grows a \
        share of the trees in proportion to its pixels; the forest is scored on the validation \
        windows. Writes run_dir/final/random_forest.json and run_dir/baseline.json. Runs alone \
        or under mpirun; the forest does not depend on the number of ranks. See docs/baseline.md.
        """
    )

    @Argument(help: "The run config (JSON).")
    var config: String

    @Option(help: "Trees in the forest (shared among the shards).")
    var trees = 100

    @Option(help: "Maximum tree depth.")
    var maxDepth = 16

    @Option(help: "Fewest training pixels in a leaf.")
    var minSamplesLeaf = 1

    @Option(help: "Training pixels sampled from each shard (at most).")
    var samplesPerShard = 20_000

    @Option(help: "Seed (default: the config's seed).")
    var seed: UInt64?

    @Flag(inversion: .prefixedNo, help: "Refit the leaves' class frequencies on every shard's training pixels (only counts cross ranks).")
    var refitLeaves = true

    func validate() throws {
        for (name, v) in [("--trees", trees), ("--max-depth", maxDepth), ("--min-samples-leaf", minSamplesLeaf),
                          ("--samples-per-shard", samplesPerShard)] where v < 1 {
            throw ValidationError("\(name) must be at least 1, got \(v)")
        }
    }

    func run() throws {
        let o = Baseline.Options(trees: trees, maxDepth: maxDepth, minSamplesLeaf: minSamplesLeaf,
                                 samplesPerShard: samplesPerShard, seed: seed, refitLeaves: refitLeaves)
        let status = Baseline.main(configPath: config, options: o)
        if status != 0 { throw ExitCode(status) }
    }
}
