import Foundation

/// An API key as listed (the secret is never kept, only its salted hash).
public struct APIKey: Codable, Sendable, Equatable {
    /// The public half, also the owner of the key's jobs and files.
    public var id: String
    /// An optional label.
    public var name: String?
    /// When it was created.
    public var createdAt: Date
    /// When it was revoked; a revoked key authenticates nothing.
    public var revokedAt: Date?

    /// Creates a key record.
    public init(id: String, name: String?, createdAt: Date, revokedAt: Date? = nil) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// The `id:secret` pair a client presents, parsed from an `Authorization` header.
public struct APIKeyCredential: Sendable, Equatable {
    /// The key id.
    public var id: String
    /// The secret.
    public var secret: String

    /// Creates a credential.
    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// Parses `id:secret`.
    public init?(_ token: String) {
        guard let colon = token.firstIndex(of: ":") else { return nil }
        let id = String(token[..<colon]), secret = String(token[token.index(after: colon)...])
        guard !id.isEmpty, !secret.isEmpty else { return nil }
        self.init(id: id, secret: secret)
    }

    /// Parses `Authorization: Key id:secret` (fal's form) or `Bearer id:secret`.
    public init?(authorization header: String) {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else { return nil }
        let scheme = trimmed[..<space].lowercased()
        guard scheme == "key" || scheme == "bearer" else { return nil }
        self.init(trimmed[trimmed.index(after: space)...].trimmingCharacters(in: .whitespaces))
    }

    /// `id:secret`, as printed once by `kiln keys create`.
    public var token: String { "\(id):\(secret)" }
}
