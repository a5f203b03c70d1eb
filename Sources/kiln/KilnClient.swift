import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// A failed call to a Kiln server, with the server's own message.
struct ClientError: Error, CustomStringConvertible {
    /// HTTP status, or 0 when the server could not be reached.
    var status: Int
    /// What went wrong.
    var message: String

    var description: String {
        status == 0 ? message : "server answered \(status): \(message)"
    }
}

/// Minimal HTTP client for the `kiln` client commands, on AsyncHTTPClient.
struct KilnClient {
    let options: ClientOptions
    static let appPath = "/fal-ai/ltx23-video-trainer"

    /// The connection pool. `SSL_CERT_FILE` names the certificates to trust instead of the
    /// system's, as it does for fal_client, curl and Python: a server with a self-signed
    /// certificate is reached the same way from every client. A refused connection or a failed
    /// TLS handshake is reported at once rather than retried until the request times out.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        if let path = ProcessInfo.processInfo.environment["SSL_CERT_FILE"], !path.isEmpty {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(path)
            configuration.tlsConfiguration = tls
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    func requestURL(_ id: String, _ suffix: String = "") -> String {
        "\(options.serverURL)\(Self.appPath)/requests/\(id)\(suffix)"
    }

    func makeRequest(_ url: String, method: HTTPMethod, body: Data? = nil, headers extra: [(String, String)] = []) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let key = options.apiKey { request.headers.add(name: "Authorization", value: "Key \(key)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        return request
    }

    /// Sends a request and returns status and body; transport failures become ``ClientError``.
    func send(_ url: String, method: HTTPMethod, body: Data? = nil, headers: [(String, String)] = []) async throws -> (status: Int, body: Data) {
        do {
            let response = try await Self.http.execute(makeRequest(url, method: method, body: body, headers: headers), timeout: .seconds(600))
            let bytes = try await response.body.collect(upTo: 64 << 20)
            return (Int(response.status.code), Data(buffer: bytes))
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(status: 0, message: "cannot reach \(options.serverURL): \(error). Is `kiln serve` running? Set --server or KILN_SERVER.")
        }
    }

    /// Like ``send(_:method:body:headers:)`` but a non-2xx answer throws with the server's `detail`.
    func sendExpectingSuccess(_ url: String, method: HTTPMethod, body: Data? = nil, headers: [(String, String)] = []) async throws -> Data {
        let (status, data) = try await send(url, method: method, body: body, headers: headers)
        guard (200..<300).contains(status) else { throw ClientError(status: status, message: Self.detail(data)) }
        return data
    }

    /// The `detail` of an error body, flattened to one line per validation issue.
    static func detail(_ data: Data) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return String(decoding: data, as: UTF8.self)
        }
        if let text = object["detail"] as? String { return text }
        if let issues = object["detail"] as? [[String: Any]] {
            return issues.map { issue in
                let loc = (issue["loc"] as? [Any])?.map { "\($0)" }.joined(separator: ".") ?? "?"
                return "\(loc): \(issue["msg"] ?? "")"
            }.joined(separator: "\n")
        }
        if let status = object["status"] as? String { return status }
        return String(decoding: data, as: UTF8.self)
    }

    /// Pretty-prints JSON (or passes other text through).
    static func pretty(_ data: Data) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: data),
              let out = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
            return String(decoding: data, as: UTF8.self)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Streams `…/status/stream`, calling `onEvent` with each decoded status until the server closes.
    func stream(_ id: String, logs: Bool, onEvent: ([String: Any]) throws -> Void) async throws {
        let url = requestURL(id, "/status/stream") + (logs ? "?logs=1" : "")
        let response: HTTPClientResponse
        do {
            response = try await Self.http.execute(makeRequest(url, method: .GET), timeout: .hours(24 * 365))
        } catch {
            throw ClientError(status: 0, message: "cannot reach \(options.serverURL): \(error)")
        }
        guard response.status == .ok else {
            let bytes = try await response.body.collect(upTo: 1 << 20)
            throw ClientError(status: Int(response.status.code), message: Self.detail(Data(buffer: bytes)))
        }
        var pending = Data()
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...newline)
                guard line.hasPrefix("data:") else { continue }
                let json = Data(line.dropFirst(5).trimmingCharacters(in: .whitespaces).utf8)
                if let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] { try onEvent(object) }
            }
        }
    }
}
