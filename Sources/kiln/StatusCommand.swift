import ArgumentParser
import Foundation

/// `kiln status`: one status poll of a job.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a job's status (IN_QUEUE with its position, IN_PROGRESS with stage and progress, or COMPLETED)."
    )

    @Argument(help: "The request_id that submit printed.")
    var id: String

    @Flag(name: .customLong("logs"), help: "Include the job's log lines.")
    var logs = false

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let http = KilnClient(options: client)
        let data = try await http.sendExpectingSuccess(http.requestURL(id, "/status") + (logs ? "?logs=1" : ""), method: .GET)
        print(KilnClient.pretty(data))
    }
}
