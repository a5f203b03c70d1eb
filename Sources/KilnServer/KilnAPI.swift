import Foundation
import Hummingbird
import KilnCore
import KilnStore
import Logging
import Synchronization

/// The request handlers of the fal-compatible API, sharing one store and configuration.
///
/// Routes are registered by ``KilnAPI/addRoutes(to:)`` (see `KilnAPI+Routes.swift`); the
/// handlers themselves live in `KilnAPI+Queue.swift` and `KilnAPI+Files.swift`.
public final class KilnAPI: Sendable {
    /// The job store.
    public let store: JobStore
    /// Server settings.
    public let configuration: ServerConfiguration
    /// Prometheus collectors.
    public let metrics: ServerMetrics
    private let baseURLBox: Mutex<String>
    /// Path prefix of request URLs handed to clients.
    static let appPath = "/fal-ai/ltx23-video-trainer"

    /// Creates the API over an open store. `baseURL` is replaced by ``setBaseURL(_:)`` once
    /// the listening port is known, unless a public URL was configured.
    public init(store: JobStore, configuration: ServerConfiguration, metrics: ServerMetrics = ServerMetrics()) {
        self.store = store
        self.configuration = configuration
        self.metrics = metrics
        let initial = configuration.publicURL ?? configuration.listeningURL(boundPort: configuration.port)
        self.baseURLBox = Mutex(StoredFile.trimmingSlashes(initial))
    }

    /// Base of absolute URLs, without a trailing slash.
    public var baseURL: String { baseURLBox.withLock { $0 } }

    /// Records the real listening URL (used when no `--public-url` was given).
    public func setBaseURL(_ url: String) {
        guard configuration.publicURL == nil else { return }
        baseURLBox.withLock { $0 = StoredFile.trimmingSlashes(url) }
    }

    /// `…/requests/<id>` for a job.
    func responseURL(_ id: UUID) -> String {
        "\(baseURL)\(Self.appPath)/requests/\(id.uuidString.lowercased())"
    }

    /// Absolute URL of a stored file.
    func fileURL(_ file: StoredFile) -> String {
        file.url(base: baseURL)
    }

    /// Whether `url` names a file this server issued to `owner`.
    func isIssuedFile(_ url: String, owner: String) -> Bool {
        let prefix = baseURL + "/files/"
        guard url.hasPrefix(prefix) else { return false }
        let rest = url.dropFirst(prefix.count)
        guard let id = rest.split(separator: "/").first else { return false }
        return ((try? store.file(id: String(id), owner: owner)) ?? nil) != nil
    }

    /// Encodes a JSON object into a response.
    static func json(_ object: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
        return json(data: data, status: status, headers: headers)
    }

    /// Wraps encoded JSON into a response.
    static func json(data: Data, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
