import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnStore

/// Sets ``KilnRequestContext/owner`` from the `Authorization` header, or refuses the request.
///
/// While no active key exists the server is in open local mode: every caller is the
/// local user, but only loopback callers are let in unless `--allow-open` was given.
/// Once a key exists, `Key id:secret` (fal's form) or `Bearer id:secret` is required.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = KilnRequestContext
    let store: JobStore
    let allowOpen: Bool
    /// Paths anyone may read (health checks, the API description, metrics).
    static let openPaths: Set<String> = ["/healthz", "/openapi.json", "/metrics"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.openPaths.contains(request.uri.path) { return try await next(request, context) }
        var context = context
        if try !store.hasActiveKeys() {
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
