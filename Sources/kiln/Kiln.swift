import ArgumentParser

/// The `kiln` command: server, worker, local training and client commands.
@main
struct Kiln: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kiln",
        abstract: "Train LoRA adapters for LTX-2.3 behind a fal-compatible queue API.",
        subcommands: [ServeCommand.self, KeysCommand.self, ClaimRaceCommand.self, SubmitCommand.self, StatusCommand.self, LogsCommand.self, ResultCommand.self, CancelCommand.self, DatasetCommand.self, WorkerCommand.self, TrainCommand.self, ModelsCommand.self]
    )
}
