import Foundation
import GRDB
import KilnCore

extension JobStore {
    /// Appends a log line to a job (and bumps its change token).
    @discardableResult
    public func appendLog(jobID: UUID, level: String = "info", source: String, message: String, now: Date = Date()) throws -> LogEntry {
        try write("append a log line") { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM jobs WHERE id = ?", arguments: [jobID.uuidString]) != nil else {
                throw JobStoreError.jobNotFound(jobID)
            }
            return try Self.insertLog(db, jobID: jobID, level: level, source: source, message: message, now: now)
        }
    }

    /// A job's log lines in append order, only those after `afterSeq` when given.
    public func logs(jobID: UUID, afterSeq: Int64? = nil, limit: Int = 10_000) throws -> [LogEntry] {
        try read("read logs") { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT seq, timestamp, level, source, message FROM job_logs
                WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?
                """), arguments: [jobID.uuidString, afterSeq ?? 0, max(0, limit)]).map { row in
                LogEntry(seq: row["seq"], jobID: jobID, timestamp: Date(timeIntervalSince1970: row["timestamp"]),
                         level: row["level"], source: row["source"], message: row["message"])
            }
        }
    }

    @discardableResult
    static func insertLog(_ db: Database, jobID: UUID, level: String, source: String, message: String, now: Date) throws -> LogEntry {
        try db.execute(sql: "INSERT INTO job_logs (job_id, timestamp, level, source, message) VALUES (?, ?, ?, ?, ?)",
                       arguments: [jobID.uuidString, storedDate(now), level, source, message])
        let seq = db.lastInsertedRowID
        try db.execute(sql: "UPDATE jobs SET version = version + 1 WHERE id = ?", arguments: [jobID.uuidString])
        return LogEntry(seq: seq, jobID: jobID, timestamp: now, level: level, source: source, message: message)
    }
}
