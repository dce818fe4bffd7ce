import ArgumentParser
import Foundation
import Training

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the models of a run config (the default command: `rstrain CONFIG.json`).",
        discussion: """
        Run it alone (one rank) or under mpirun (`mpirun -n 16 rstrain config.json`); the code \
        path is the same. Re-running the same command resumes from the run directory's latest \
        valid checkpoint. The config's keys are documented in docs/config.md.
        """
    )

    @Argument(help: "The run config (JSON).")
    var config: String

    @Flag(help: "Start over: discard the run directory's checkpoints, metrics and final weights.")
    var restart = false

    func run() throws {
        let status = Trainer.main(configPath: config, restart: restart)
        if status != 0 { throw ExitCode(status) }
    }
}
