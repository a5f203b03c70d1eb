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
        let reader = JobRowReader(row: row, id: id.uuidString)
        let state = try reader.state()
        var status = JobStatus(id: id, state: state, stage: try reader.stage(), inferenceTimeSeconds: row["inference_time_seconds"])
        switch state {
        case .queued:
            status.queuePosition = try queue.position(of: row["seq"], in: db)
        case .running:
            status.progress = try reader.json(JobProgress.self, "progress")
        case .succeeded, .failed, .cancelled:
            status.failure = try reader.json(JobFailure.self, "failure")
        }
        return status
    }
}
