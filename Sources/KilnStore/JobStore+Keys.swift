import Crypto
import Foundation
import GRDB
import KilnCore

extension JobStore {
    /// Creates an API key. The secret is returned once and never stored: only a salted
    /// SHA-256 of it is kept, so a leaked database does not leak working keys.
    public func createKey(name: String? = nil, now: Date = Date()) throws -> (id: String, secret: String) {
        let id = UUID().uuidString.lowercased()
        let secret = Self.randomHex(bytes: 32)
        let salt = Data(Self.randomBytes(16))
        let hash = Self.keyHash(salt: salt, secret: secret)
        try write("create an API key") { db in
            try db.execute(sql: "INSERT INTO api_keys (id, name, salt, hash, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, name, salt, hash, storedDate(now)])
        }
        return (id, secret)
    }

    /// Every key, oldest first, revoked ones included.
    public func listKeys() throws -> [APIKey] {
        try read("list API keys") { db in
            try Row.fetchAll(db, sql: "SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY created_at, id").map { row in
                APIKey(id: row["id"], name: row["name"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
                       revokedAt: (row["revoked_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    /// Revokes key `id` (keeping its first revocation time). Returns false when no such key exists.
    @discardableResult
    public func revokeKey(id: String, now: Date = Date()) throws -> Bool {
        try write("revoke an API key") { db in
            try db.execute(sql: "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                           arguments: [storedDate(now), id])
            return db.changesCount > 0
        }
    }

    /// The active key matching `id` and `secret`, or nil. The hash comparison takes the
    /// same time whatever the secret, and an unknown id costs the same hashing work.
    public func authenticate(id: String, secret: String) throws -> APIKey? {
        let row = try read("look up an API key") { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT id, name, salt, hash, created_at, revoked_at FROM api_keys WHERE id = ?"),
                             arguments: [id])
        }
        guard let row else {
            _ = Self.keyHash(salt: Data(count: 16), secret: secret)
            return nil
        }
        let salt: Data = row["salt"], stored: Data = row["hash"]
        guard Self.constantTimeEqual(Self.keyHash(salt: salt, secret: secret), stored),
              (row["revoked_at"] as Double?) == nil
        else { return nil }
        return APIKey(id: row["id"], name: row["name"], createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }

    /// Whether any unrevoked key exists (if not, the server runs in open local mode).
    public func hasActiveKeys() throws -> Bool {
        try read("check for API keys") { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL)") ?? false
        }
    }

    static func keyHash(salt: Data, secret: String) -> Data {
        var hasher = SHA256()
        hasher.update(data: salt)
        hasher.update(data: Data(secret.utf8))
        return Data(hasher.finalize())
    }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    static func randomHex(bytes: Int) -> String {
        randomBytes(bytes).map { String(format: "%02x", $0) }.joined()
    }
}
