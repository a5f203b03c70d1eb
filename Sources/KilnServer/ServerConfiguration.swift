import Foundation

/// Everything `kiln serve` can be told.
public struct ServerConfiguration: Sendable {
    /// Address to bind (`127.0.0.1` by default; anything else needs an API key or `allowOpen`).
    public var host: String
    /// Port to bind; 0 picks a free one.
    public var port: Int
    /// Folder holding the job store and the stored files.
    public var dataDirectory: String
    /// Base of every absolute URL in answers; `nil` means the address the server listens on.
    public var publicURL: String?
    /// PEM certificate chain for TLS.
    public var tlsCertificatePath: String?
    /// PEM private key for TLS.
    public var tlsKeyPath: String?
    /// Largest accepted upload, in bytes.
    public var maxUploadSize: Int64
    /// Allow open local mode (no keys) on a non-loopback address.
    public var allowOpen: Bool
    /// How often SSE streams and `/run` look for job changes.
    public var pollInterval: Duration
    /// Longest silence on an SSE stream before a keep-alive comment.
    public var keepAliveInterval: Duration

    /// The default upload cap: 20 GiB.
    public static let defaultMaxUploadSize: Int64 = 20 << 30

    /// Creates a configuration; every value has the `kiln serve` default.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8188,
        dataDirectory: String,
        publicURL: String? = nil,
        tlsCertificatePath: String? = nil,
        tlsKeyPath: String? = nil,
        maxUploadSize: Int64 = ServerConfiguration.defaultMaxUploadSize,
        allowOpen: Bool = false,
        pollInterval: Duration = .milliseconds(200),
        keepAliveInterval: Duration = .seconds(15)
    ) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.publicURL = publicURL
        self.tlsCertificatePath = tlsCertificatePath
        self.tlsKeyPath = tlsKeyPath
        self.maxUploadSize = maxUploadSize
        self.allowOpen = allowOpen
        self.pollInterval = pollInterval
        self.keepAliveInterval = keepAliveInterval
    }

    /// Whether TLS is on.
    public var usesTLS: Bool { tlsCertificatePath != nil || tlsKeyPath != nil }

    /// Folder under which uploads are written (`<data-dir>/files`).
    public var filesDirectory: String { (dataDirectory as NSString).appendingPathComponent("files") }

    /// Whether `host` names the local machine only.
    public var bindsLoopbackOnly: Bool {
        let h = host.lowercased()
        return h == "localhost" || h == "::1" || h == "[::1]" || h.hasPrefix("127.")
    }

    /// The URL of the server once bound to `port`.
    public func listeningURL(boundPort: Int) -> String {
        let scheme = usesTLS ? "https" : "http"
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost):\(boundPort)"
    }
}
