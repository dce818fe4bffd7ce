import ArgumentParser
import Foundation
import Training

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Check a run config and every input it names; summarise each shard.",
        discussion: """
        Opens every shard this machine can see and reads it once: per shard the tiles, bands, \
        CRS, usable windows, class histogram and NODATA fraction. Lists every problem found, \
        then exits non-zero if there was any.
        """
    )

    @Argument(help: "The run config (JSON).")
    var config: String

    func run() throws {
        let report = Inspection(path: config)
        for line in report.text { print(line) }
        if !report.ok { throw ExitCode(2) }
    }
}
