import Hummingbird
import Logging
import NIOCore

/// Per-request state: Hummingbird's core storage, the peer address and the caller's owner id.
public struct KilnRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's storage (logger, route path, decoders).
    public var coreContext: CoreRequestContextStorage
    /// Address of the connected peer, used to keep open local mode to loopback callers.
    public let remoteAddress: SocketAddress?
    /// The key id the request authenticated as, or ``KilnServer/localOwner`` in open local mode.
    /// Set by ``AuthMiddleware``; routes behind it can rely on it.
    public var owner: String = KilnServer.localOwner

    /// Creates a context for a request arriving on `source`'s channel.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// JSON bodies are read with our own limit; leave Hummingbird's default alone for others.
    public var maxUploadSize: Int { 1 << 20 }
}

extension SocketAddress {
    /// Whether this peer is the local machine (127.0.0.0/8, ::1 or a Unix socket).
    var isLoopback: Bool {
        switch self {
        case .v4(let address):
            return (address.address.sin_addr.s_addr & 0xFF) == 127
        case .v6:
            guard let ip = ipAddress else { return false }
            return ip == "::1" || ip.hasPrefix("::ffff:127.")
        case .unixDomainSocket:
            return true
        }
    }
}
