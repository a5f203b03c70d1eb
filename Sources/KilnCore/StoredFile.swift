import Foundation

/// A file the server holds: an upload (`POST /files`) or a job's artifact.
public struct StoredFile: Codable, Sendable, Equatable {
    /// Whether a client uploaded the file or a job produced it.
    public enum Kind: String, Codable, Sendable {
        /// Uploaded through `POST /files`.
        case upload
        /// Produced by a job (LoRA, config, video, dataset).
        case artifact
    }

    /// The file's id (the first path part of `/files/{id}/{name}`).
    public var id: String
    /// The API key id that owns it.
    public var owner: String
    /// File name as served.
    public var fileName: String
    /// MIME type.
    public var contentType: String
    /// Size in bytes.
    public var size: Int64
    /// Lowercase hex SHA-256 of the content.
    public var sha256: String
    /// Path relative to the data directory.
    public var relativePath: String
    /// Upload or artifact.
    public var kind: Kind
    /// The job that produced it (artifacts only).
    public var jobID: UUID?
    /// When it was stored.
    public var createdAt: Date

    /// Creates a file record.
    public init(
        id: String, owner: String, fileName: String, contentType: String, size: Int64, sha256: String,
        relativePath: String, kind: Kind, jobID: UUID? = nil, createdAt: Date = Date()
    ) {
        self.id = id
        self.owner = owner
        self.fileName = fileName
        self.contentType = contentType
        self.size = size
        self.sha256 = sha256
        self.relativePath = relativePath
        self.kind = kind
        self.jobID = jobID
        self.createdAt = createdAt
    }
}
