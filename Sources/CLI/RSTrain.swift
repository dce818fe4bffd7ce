import ArgumentParser

struct RSTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rstrain",
        abstract: "Distributed data-parallel training for land-cover deep learning on satellite imagery.",
        subcommands: [TrainCommand.self, InspectCommand.self, PredictCommand.self, EvalCommand.self, BaselineCommand.self,
                      ModelsCommand.self, BenchCommand.self, DoctorCommand.self, SynthCommand.self],
        defaultSubcommand: TrainCommand.self
    )
}
