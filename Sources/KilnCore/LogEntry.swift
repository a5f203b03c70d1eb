import Foundation

/// One log line of a job, appended by the worker or the server.
public struct LogEntry: Codable, Sendable, Equatable {
    /// Position in the store's log; increasing in append order (use it as a cursor).
    public var seq: Int64
    /// The job the line belongs to.
    public var jobID: UUID
    /// When it was appended.
    public var timestamp: Date
    /// `debug`, `info`, `warning` or `error`.
    public var level: String
    /// Who wrote it (`server`, `worker`, `dataset`, `engine`, ...).
    public var source: String
    /// The text.
    public var message: String

    /// Creates a log entry.
    public init(seq: Int64, jobID: UUID, timestamp: Date, level: String, source: String, message: String) {
        self.seq = seq
        self.jobID = jobID
        self.timestamp = timestamp
        self.level = level
        self.source = source
        self.message = message
    }
}
