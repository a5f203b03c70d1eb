import ArgumentParser
import Foundation

/// Where the client commands find the server and which key they use.
struct ClientOptions: ParsableArguments {
    @Option(name: .customLong("server"), help: "Server URL (default: $KILN_SERVER, else http://127.0.0.1:8188).")
    var server: String?

    @Option(name: .customLong("key"), help: "API key `id:secret` (default: $KILN_KEY; not needed in open local mode).")
    var key: String?

    /// The server base URL without a trailing slash.
    var serverURL: String {
        var url = server ?? ProcessInfo.processInfo.environment["KILN_SERVER"] ?? "http://127.0.0.1:8188"
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// The key, from the option or the environment.
    var apiKey: String? {
        key ?? ProcessInfo.processInfo.environment["KILN_KEY"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func validate() throws {
        let url = serverURL
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw ValidationError("--server (or KILN_SERVER) must start with http:// or https://; got \(url)")
        }
        if let apiKey, !apiKey.contains(":") {
            throw ValidationError("--key (or KILN_KEY) must be `id:secret` as printed by `kiln keys create`")
        }
    }
}
