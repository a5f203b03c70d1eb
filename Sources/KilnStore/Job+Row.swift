import Foundation
import GRDB
import KilnCore

/// The columns a `Job` is read from, in one place so every query selects the same set.
let jobColumns = """
    id, owner, request, state, stage, progress, created_at, started_at, finished_at, result, failure,
    attempt, lease_owner, lease_expires_at, cancel_requested, webhook_url, price_estimate_usd,
    inference_time_seconds
    """

/// A stored `Date` (seconds since 1970, a REAL column).
func storedDate(_ date: Date) -> Double { date.timeIntervalSince1970 }

/// JSON text of an encodable value, for a TEXT column.
func jsonText<T: Encodable>(_ value: T?) throws -> String? {
    guard let value else { return nil }
    return String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
}

/// Reads the `jobs` columns that ``Job`` and ``JobStatus`` share, so both refuse a bad value
/// with the same ``JobStoreError/corruptRow(table:id:reason:)``.
struct JobRowReader {
    let row: Row
    /// The job's id as stored, for error messages.
    let id: String

    func corrupt(_ reason: String) -> JobStoreError {
        .corruptRow(table: "jobs", id: id, reason: reason)
    }

    /// The JSON value in `column`, or nil when it is NULL.
    func json<T: Decodable>(_ type: T.Type, _ column: String) throws -> T? {
        guard let text: String = row[column] else { return nil }
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw corrupt("column \(column): \(error)")
        }
    }

    func state() throws -> JobState {
        let text: String = row["state"]
        guard let state = JobState(rawValue: text) else { throw corrupt("unknown state \(text)") }
        return state
    }

    func stage() throws -> JobStage? {
        guard let text: String = row["stage"] else { return nil }
        guard let stage = JobStage(rawValue: text) else { throw corrupt("unknown stage \(text)") }
        return stage
    }
}

extension Job {
    /// Reads a job from a row selected with ``jobColumns``.
    init(row: Row) throws {
        let reader = JobRowReader(row: row, id: row["id"])
        guard let id = UUID(uuidString: reader.id) else { throw reader.corrupt("id is not a UUID") }
        let state = try reader.state()
        let stage = try reader.stage()
        guard let request = try reader.json(TrainingRequest.self, "request") else { throw reader.corrupt("no request") }
        let date = { (column: String) -> Date? in (row[column] as Double?).map(Date.init(timeIntervalSince1970:)) }
        self.init(
            id: id,
            owner: row["owner"],
            request: request,
            state: state,
            stage: stage,
            progress: try reader.json(JobProgress.self, "progress"),
            createdAt: date("created_at") ?? Date(timeIntervalSince1970: 0),
            startedAt: date("started_at"),
            finishedAt: date("finished_at"),
            result: row["result"],
            failure: try reader.json(JobFailure.self, "failure"),
            attempt: row["attempt"],
            leaseOwner: row["lease_owner"],
            leaseExpiresAt: date("lease_expires_at"),
            cancelRequested: row["cancel_requested"],
            webhookURL: row["webhook_url"],
            priceEstimateUSD: row["price_estimate_usd"],
            inferenceTimeSeconds: row["inference_time_seconds"]
        )
    }

    /// Reads one job by id inside a transaction.
    static func fetch(_ db: Database, id: UUID, owner: String? = nil) throws -> Job? {
        let row: Row?
        if let owner {
            row = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(jobColumns) FROM jobs WHERE id = ? AND owner = ?"),
                                   arguments: [id.uuidString, owner])
        } else {
            row = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(jobColumns) FROM jobs WHERE id = ?"), arguments: [id.uuidString])
        }
        return try row.map(Job.init(row:))
    }
}
