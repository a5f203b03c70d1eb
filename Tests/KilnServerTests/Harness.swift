import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import KilnCore
import KilnServer
import KilnStore
import Logging
import NIOCore
import NIOHTTP1

/// A real server over a real socket (HummingbirdTesting `.live`) on a fresh data directory,
/// driven with AsyncHTTPClient so that several requests can be in flight at once.
struct Harness {
    let dataDirectory: String
    let store: JobStore
    var configuration: ServerConfiguration

    init(maxUploadSize: Int64 = ServerConfiguration.defaultMaxUploadSize, keepAlive: Duration = .seconds(15)) throws {
        dataDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kiln-server-test-\(UUID().uuidString)").path
        store = try JobStore(dataDirectory: dataDirectory)
        configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, dataDirectory: dataDirectory, maxUploadSize: maxUploadSize,
            pollInterval: .milliseconds(20), keepAliveInterval: keepAlive)
    }

    /// Starts the server, runs `body` against it, stops it and removes the data directory.
    func run(_ body: @escaping @Sendable (TestAPI) async throws -> Void) async throws {
        var logger = Logger(label: "kiln.test")
        logger.logLevel = .warning
        let app = try KilnServe.makeApplication(configuration: configuration, store: store, logger: logger)
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        try await app.test(.live) { client in
            try await body(TestAPI(base: "http://127.0.0.1:\(client.port!)"))
        }
    }

    /// A minimal valid request body.
    static let validBody = #"{"training_data_url":"https://example.com/clips.zip"}"#
}

/// One answer, fully read.
struct Answer: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (empty when it is not one).
    var json: [String: any Sendable] {
        ((try? JSONSerialization.jsonObject(with: body)) as? [String: any Sendable]) ?? [:]
    }
}

/// Client side of the tests.
struct TestAPI: Sendable {
    let base: String
    static let app = "/fal-ai/ltx23-video-trainer"

    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: Data? = nil,
              key: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: path.hasPrefix("http") ? path : base + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let key { request.headers.add(name: "Authorization", value: "Key \(key)") }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }

    func submit(_ json: String = Harness.validBody, key: String? = nil, path: String = TestAPI.app) async throws -> Answer {
        try await send(.POST, path, headers: [("Content-Type", "application/json")], body: Data(json.utf8), key: key)
    }

    /// Submits a valid request and returns its id.
    func submitted(key: String? = nil) async throws -> UUID {
        let answer = try await submit(key: key)
        guard answer.status == 200, let id = answer.json["request_id"] as? String, let uuid = UUID(uuidString: id) else {
            throw TestFailure("submit failed: \(answer.status) \(answer.text)")
        }
        return uuid
    }

    func requestPath(_ id: UUID, _ suffix: String = "") -> String {
        "\(Self.app)/requests/\(id.uuidString.lowercased())\(suffix)"
    }
}

/// A test's own failure message.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension JobStore {
    /// Drives a job to running the way a worker would, returning the worker id.
    @discardableResult
    func startNext(worker: String = "test-worker") throws -> Job {
        guard let job = try claimNext(workerID: worker, leaseSeconds: 60) else { throw TestFailure("nothing to claim") }
        return job
    }
}
