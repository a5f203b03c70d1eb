import ArgumentParser
import Foundation

/// `kiln result`: a finished job's output, or its error.
struct ResultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "result",
        abstract: "Print a finished job's output JSON (lora_file, config_file, video…); exits 1 with the error if it failed, was cancelled or is not done."
    )

    @Argument(help: "The request_id that submit printed.")
    var id: String

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let http = KilnClient(options: client)
        let data = try await http.sendExpectingSuccess(http.requestURL(id), method: .GET)
        print(KilnClient.pretty(data))
    }
}
