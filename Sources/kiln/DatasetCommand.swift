import ArgumentParser

/// `kiln dataset`: dataset tools.
struct DatasetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Prepare and inspect training datasets.",
        subcommands: [DatasetPrepareCommand.self]
    )
}
