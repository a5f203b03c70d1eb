import ArgumentParser
import Foundation

/// `kiln logs`: print a job's log lines, optionally following them until it completes.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a job's log lines (timestamp, level, source, message)."
    )

    @Argument(help: "The request_id that submit printed.")
    var id: String

    @Flag(name: [.customShort("f"), .customLong("follow")], help: "Keep printing new lines (over the status stream) until the job completes.")
    var follow = false

    @OptionGroup var client: ClientOptions

    static func line(_ entry: [String: Any]) -> String {
        "\(entry["timestamp"] ?? "") \(entry["level"] ?? "") [\(entry["source"] ?? "")] \(entry["message"] ?? "")"
    }

    func run() async throws {
        let http = KilnClient(options: client)
        if follow {
            try await http.stream(id, logs: true) { event in
                for entry in (event["logs"] as? [[String: Any]]) ?? [] {
                    FileHandle.standardOutput.write(Data((Self.line(entry) + "\n").utf8))
                }
                if let status = event["status"] as? String, status == "COMPLETED" {
                    let outcome = (event["error"] as? String).map { "failed: \($0)" } ?? "done"
                    FileHandle.standardError.write(Data("job \(id) completed (\(outcome))\n".utf8))
                }
            }
        } else {
            let data = try await http.sendExpectingSuccess(http.requestURL(id, "/status?logs=1"), method: .GET)
            let object = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
            for entry in (object["logs"] as? [[String: Any]]) ?? [] { print(Self.line(entry)) }
        }
    }
}
