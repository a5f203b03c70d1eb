import Foundation
import GRDB
import KilnCore

extension JobStore {
    /// The status of job `id` (only if `owner` submitted it, when given), with its queue
    /// position while queued: one read transaction, no request JSON decoded. This is what
    /// every status poll and SSE event reads.
    public func status(id: UUID, owner: String? = nil) throws -> JobStatus? {
        try read("read a job's status") { db in
            let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT seq, owner, state, stage, progress, failure, inference_time_seconds FROM jobs WHERE id = ?
                """), arguments: [id.uuidString])
            guard let row, owner == nil || row["owner"] == owner else { return nil }
            return try Self.status(id: id, row: row, db: db, queue: queue)
        }
    }

    private static func status(id: UUID, row: Row, db: Database, queue: QueueSnapshot) throws -> JobStatus {
        let idText = id.uuidString
        func decode<T: Decodable>(_ type: T.Type, _ column: String) throws -> T? {
            guard let text: String = row[column] else { return nil }
            do {
                return try JSONDecoder().decode(type, from: Data(text.utf8))
            } catch {
                throw JobStoreError.corruptRow(table: "jobs", id: idText, reason: "column \(column): \(error)")
            }
        }
        let stateText: String = row["state"]
        guard let state = JobState(rawValue: stateText) else {
            throw JobStoreError.corruptRow(table: "jobs", id: idText, reason: "unknown state \(stateText)")
        }
        var status = JobStatus(id: id, state: state, inferenceTimeSeconds: row["inference_time_seconds"])
        if let stageText: String = row["stage"] {
            guard let stage = JobStage(rawValue: stageText) else {
                throw JobStoreError.corruptRow(table: "jobs", id: idText, reason: "unknown stage \(stageText)")
            }
            status.stage = stage
        }
        switch state {
        case .queued:
            status.queuePosition = try queue.position(of: row["seq"], in: db)
        case .running:
            status.progress = try decode(JobProgress.self, "progress")
        case .succeeded, .failed, .cancelled:
            status.failure = try decode(JobFailure.self, "failure")
        }
        return status
    }
}
