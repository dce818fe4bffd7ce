import ArgumentParser

struct RSTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rstrain",
        abstract: "Distributed data-parallel training for land-cover deep learning on satellite imagery.",
        subcommands: [TrainCommand.self, InspectCommand.self, ModelsCommand.self, BenchCommand.self, DoctorCommand.self, SynthCommand.self, PredictCommand.self],
        defaultSubcommand: TrainCommand.self
    )
}
