import ArgumentParser
import Foundation

/// `kiln submit`: queue a training job on a running server.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a training request to a running Kiln server.",
        discussion: """
        FILE is either a JSON request (`.json`, or `-` for standard input), or training data \
        (a zip or media file) that is uploaded first and used as training_data_url; --json \
        then adds or overrides fields. Prints the server's answer (request_id, URLs, price estimate).
        """
    )

    @Argument(help: "A JSON request file, `-` for standard input, or a zip/media file to upload as training data.")
    var file: String?

    @Option(name: .customLong("json"), help: "The request (or extra fields) as inline JSON, e.g. '{\"number_of_steps\": 500}'.")
    var json: String?

    @Option(name: .customLong("webhook"), help: "URL the server POSTs to when the job ends (fal_webhook).")
    var webhook: String?

    @OptionGroup var client: ClientOptions

    func validate() throws {
        if file == nil && json == nil { throw ValidationError("give a FILE or --json with the request") }
    }

    func run() async throws {
        let http = KilnClient(options: client)
        var body: [String: Any] = [:]
        if let file {
            if file == "-" || file.lowercased().hasSuffix(".json") {
                let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try readFile(file)
                guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                    throw ValidationError("\(file) is not a JSON object")
                }
                body = object
            } else {
                let data = try readFile(file)
                let name = (file as NSString).lastPathComponent
                let answer = try await http.sendExpectingSuccess(
                    "\(client.serverURL)/files", method: .POST, body: data,
                    headers: [("X-File-Name", name), ("Content-Type", file.lowercased().hasSuffix(".zip") ? "application/zip" : "application/octet-stream")])
                guard let uploaded = try? JSONSerialization.jsonObject(with: answer) as? [String: Any], let url = uploaded["url"] as? String else {
                    throw ClientError(status: 0, message: "upload answer has no url: \(String(decoding: answer, as: UTF8.self))")
                }
                FileHandle.standardError.write(Data("uploaded \(name) -> \(url)\n".utf8))
                body["training_data_url"] = url
            }
        }
        if let json {
            guard let extra = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
                throw ValidationError("--json is not a JSON object: \(json)")
            }
            body.merge(extra) { _, new in new }
        }
        var url = "\(client.serverURL)\(KilnClient.appPath)"
        if let webhook {
            var components = URLComponents()
            components.queryItems = [URLQueryItem(name: "fal_webhook", value: webhook)]
            url += "?" + (components.percentEncodedQuery ?? "")
        }
        let payload = try JSONSerialization.data(withJSONObject: body)
        let answer = try await http.sendExpectingSuccess(url, method: .POST, body: payload, headers: [("Content-Type", "application/json")])
        print(KilnClient.pretty(answer))
    }

    func readFile(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        return data
    }
}
