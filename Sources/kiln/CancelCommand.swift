import ArgumentParser
import Foundation

/// `kiln cancel`: cancel a queued job at once, or ask the worker to stop a running one.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a job: queued jobs stop at once, running jobs are marked for the worker to stop."
    )

    @Argument(help: "The request_id that submit printed.")
    var id: String

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let http = KilnClient(options: client)
        let (status, data) = try await http.send(http.requestURL(id, "/cancel"), method: .PUT)
        let word = KilnClient.detail(data)
        guard status == 202 else { throw ClientError(status: status, message: word) }
        print(word)
    }
}
