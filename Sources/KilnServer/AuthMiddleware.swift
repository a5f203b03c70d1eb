import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import KilnCore
import KilnStore

/// Sets ``KilnRequestContext/owner`` from the `Authorization` header, or refuses the request.
///
/// While no key has ever been created the server is in open local mode: every caller is
/// the local user, but only loopback callers are let in unless `--allow-open` was given.
/// Once a key exists, `Key id:secret` (fal's form) or `Bearer id:secret` is required, and
/// stays required when keys are revoked: revoking a leaked last key must not open the server.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = KilnRequestContext
    let store: JobStore
    let allowOpen: Bool
    let keyMode: KeyModeCache
    /// Paths anyone may read (health checks, the API description, metrics).
    static let openPaths: Set<String> = ["/healthz", "/openapi.json", "/metrics"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.openPaths.contains(request.uri.path) { return try await next(request, context) }
        var context = context
        if try !keyMode.keysExist() {
            if !allowOpen, let peer = context.remoteAddress, !peer.isLoopback {
                throw APIError(.unauthorized,
                               "this server has no API keys and accepts only local callers; create one with `kiln keys create` and send `Authorization: Key id:secret`",
                               type: "unauthorized", headers: [.wwwAuthenticate: "Key"])
            }
            context.owner = KilnServer.localOwner
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "missing Authorization header; send `Authorization: Key <id>:<secret>`",
                           type: "unauthorized", headers: [.wwwAuthenticate: "Key"])
        }
        guard let credential = APIKeyCredential(authorization: header),
              let key = try store.authenticate(id: credential.id, secret: credential.secret) else {
            throw APIError(.unauthorized, "invalid API key; expected `Authorization: Key <id>:<secret>` with a key from `kiln keys create`",
                           type: "unauthorized", headers: [.wwwAuthenticate: "Key"])
        }
        context.owner = key.id
        return try await next(request, context)
    }
}

/// Remembers whether any API key exists, re-reading the store at most once a second so a
/// status poll does not pay for the query. Keys created by `kiln keys create` in another
/// process take effect within that second.
final class KeyModeCache: Sendable {
    private let store: JobStore
    private let state = Mutex<(exists: Bool, checkedAt: ContinuousClock.Instant)?>(nil)
    private let ttl: Duration

    init(store: JobStore, ttl: Duration = .seconds(1)) {
        self.store = store
        self.ttl = ttl
    }

    /// Whether at least one key (active or revoked) is in the store.
    func keysExist() throws -> Bool {
        let now = ContinuousClock.now
        if let cached = state.withLock({ $0 }), cached.exists || now - cached.checkedAt < ttl { return cached.exists }
        let exists = try Self.keysExist(in: store)
        state.withLock { $0 = (exists, now) }
        return exists
    }

    /// Uncached check, also used at startup.
    static func keysExist(in store: JobStore) throws -> Bool {
        try !store.listKeys().isEmpty
    }
}
