import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import KilnCore
import KilnStore
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// Why `kiln serve` refused to start.
public enum ServeError: Error, CustomStringConvertible {
    /// Open local mode was asked for on an address other machines can reach.
    case openModeOnPublicAddress(host: String)
    /// Only one of `--tls-cert` / `--tls-key` was given.
    case incompleteTLS
    /// The certificate or key could not be read.
    case badTLSFile(path: String, reason: String)

    /// What went wrong and what to do.
    public var description: String {
        switch self {
        case .openModeOnPublicAddress(let host):
            return "refusing to listen on \(host) with no API keys (anyone could use the server): create one with `kiln keys create`, bind 127.0.0.1, or pass --allow-open"
        case .incompleteTLS:
            return "--tls-cert and --tls-key must be given together"
        case .badTLSFile(let path, let reason):
            return "cannot load TLS file \(path): \(reason)"
        }
    }
}

/// Runs the API server: opens the store, binds, prints the listening line, serves until SIGINT/SIGTERM.
///
/// `services` is the seam for in-process workers: each is run in the same `ServiceGroup` as
/// the HTTP server and shut down with it.
public enum KilnServe {
    /// Builds the Hummingbird application. `onListening` receives the real URL once bound.
    public static func makeApplication(
        configuration: ServerConfiguration,
        store: JobStore,
        services: [any Service] = [],
        logger: Logger,
        onListening: @escaping @Sendable (String) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        if !configuration.bindsLoopbackOnly, !configuration.allowOpen, try !KeyModeCache.keysExist(in: store) {
            throw ServeError.openModeOnPublicAddress(host: configuration.host)
        }
        let api = KilnAPI(store: store, configuration: configuration)
        let router = api.makeRouter()
        let server: HTTPServerBuilder
        if configuration.usesTLS {
            guard let certPath = configuration.tlsCertificatePath, let keyPath = configuration.tlsKeyPath else {
                throw ServeError.incompleteTLS
            }
            let chain: [NIOSSLCertificate]
            let key: NIOSSLPrivateKey
            do { chain = try NIOSSLCertificate.fromPEMFile(certPath) } catch {
                throw ServeError.badTLSFile(path: certPath, reason: "\(error)")
            }
            do { key = try NIOSSLPrivateKey(file: keyPath, format: .pem) } catch {
                throw ServeError.badTLSFile(path: keyPath, reason: "\(error)")
            }
            let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            server = try .tls(.http1(), tlsConfiguration: tls)
        } else {
            server = .http1()
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Kiln"),
            services: services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                let url = configuration.listeningURL(boundPort: port)
                api.setBaseURL(url)
                await onListening(url)
            },
            logger: logger
        )
    }

    /// Opens the store under the data directory and serves until a shutdown signal.
    public static func run(
        configuration: ServerConfiguration,
        services: [any Service] = [],
        logger: Logger,
        onListening: @escaping @Sendable (String) async -> Void
    ) async throws {
        let store = try JobStore(dataDirectory: configuration.dataDirectory)
        let app = try makeApplication(configuration: configuration, store: store, services: services,
                                      logger: logger, onListening: onListening)
        try await app.runService()
    }
}
