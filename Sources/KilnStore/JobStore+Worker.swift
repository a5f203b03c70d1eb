import Foundation
import GRDB
import KilnCore

extension JobStore {
    /// Claims the oldest queued job for `workerID` with a lease of `leaseSeconds`, or nil
    /// when none is queued. One IMMEDIATE transaction: of any number of threads or processes
    /// racing for a job, exactly one gets it.
    public func claimNext(workerID: String, leaseSeconds: Double, now: Date = Date()) throws -> Job? {
        try write("claim a job") { db in
            guard let id = try String.fetchOne(
                db, sql: "SELECT id FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT 1") else { return nil }
            try db.execute(sql: """
                UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires_at = ?, attempt = attempt + 1,
                    started_at = COALESCE(started_at, ?), version = version + 1
                WHERE id = ? AND state = 'queued'
                """, arguments: [workerID, storedDate(now) + leaseSeconds, storedDate(now), id])
            guard db.changesCount == 1, let uuid = UUID(uuidString: id) else { return nil }
            let job = try Job.fetch(db, id: uuid)
            try Self.insertLog(db, jobID: uuid, level: "info", source: "worker",
                               message: "claimed by worker \(workerID) (attempt \(job?.attempt ?? 0))", now: now)
            return job
        }
    }

    /// Renews the lease of a job the worker holds, and tells it whether to go on.
    public func heartbeat(id: UUID, workerID: String, leaseSeconds: Double, now: Date = Date()) throws -> HeartbeatAnswer {
        try write("renew a lease") { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT state, lease_owner, cancel_requested FROM jobs WHERE id = ?", arguments: [id.uuidString]),
                row["state"] as String == JobState.running.rawValue,
                row["lease_owner"] as String? == workerID
            else { return .lost }
            try db.execute(sql: "UPDATE jobs SET lease_expires_at = ? WHERE id = ?",
                           arguments: [storedDate(now) + leaseSeconds, id.uuidString])
            return (row["cancel_requested"] as Bool) ? .cancelRequested : .renewed
        }
    }

    /// Records the stage and progress of a job the worker holds.
    public func update(id: UUID, workerID: String, stage: JobStage?, progress: JobProgress?) throws {
        let progressText = try jsonText(progress)
        try writeHeld(id: id, workerID: workerID, "update a job's progress") { db in
            try db.execute(sql: "UPDATE jobs SET stage = ?, progress = ?, version = version + 1 WHERE id = ?",
                           arguments: [stage?.rawValue, progressText, id.uuidString])
        }
    }

    /// Ends a held job with its output JSON (`{lora_file, config_file, ...}`).
    public func complete(id: UUID, workerID: String, result: Data, inferenceTime: Double, now: Date = Date()) throws {
        try writeHeld(id: id, workerID: workerID, "complete a job") { db in
            try db.execute(sql: """
                UPDATE jobs SET state = 'succeeded', result = ?, inference_time_seconds = ?, finished_at = ?,
                    lease_owner = NULL, lease_expires_at = NULL, version = version + 1
                WHERE id = ?
                """, arguments: [result, inferenceTime, storedDate(now), id.uuidString])
        }
    }

    /// Ends a held job with an error.
    public func fail(id: UUID, workerID: String, failure: JobFailure, inferenceTime: Double? = nil, now: Date = Date()) throws {
        let failureText = try jsonText(failure)
        try writeHeld(id: id, workerID: workerID, "fail a job") { db in
            try db.execute(sql: """
                UPDATE jobs SET state = 'failed', failure = ?, inference_time_seconds = ?, finished_at = ?,
                    lease_owner = NULL, lease_expires_at = NULL, version = version + 1
                WHERE id = ?
                """, arguments: [failureText, inferenceTime, storedDate(now), id.uuidString])
        }
    }

    /// Ends a held job as cancelled, after its worker has stopped it.
    public func markCancelled(id: UUID, workerID: String, now: Date = Date()) throws {
        let failureText = try jsonText(JobFailure.cancelledByUser)
        try writeHeld(id: id, workerID: workerID, "mark a job cancelled") { db in
            try db.execute(sql: """
                UPDATE jobs SET state = 'cancelled', failure = ?, finished_at = ?,
                    lease_owner = NULL, lease_expires_at = NULL, version = version + 1
                WHERE id = ?
                """, arguments: [failureText, storedDate(now), id.uuidString])
        }
    }

    /// Hands a held job back to the queue at once, at its old place, because its worker is
    /// shutting down gracefully (its engine saved a checkpoint). The claim is not counted as an
    /// attempt: restarting workers must not use up a job's retries. Returns false (and changes
    /// nothing) when the worker no longer holds the job or the user asked to cancel it; the
    /// lease then runs its normal course.
    @discardableResult
    public func release(id: UUID, workerID: String, now: Date = Date()) throws -> Bool {
        try write("hand a job back to the queue") { db in
            try db.execute(sql: """
                UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,
                    attempt = MAX(attempt - 1, 0), version = version + 1
                WHERE id = ? AND state = 'running' AND lease_owner = ? AND cancel_requested = 0
                """, arguments: [id.uuidString, workerID])
            guard db.changesCount == 1 else { return false }
            try Self.insertLog(db, jobID: id, level: "warning", source: "worker",
                               message: "worker \(workerID) is shutting down; the job is queued again and resumes from its last checkpoint (this does not count as a failed attempt)",
                               now: now)
            return true
        }
    }

    /// Recovers jobs whose worker stopped renewing its lease before `now`: each goes back to
    /// the queue (keeping its place, stage and progress, so it resumes), or fails once it has
    /// been tried `maxAttempts` times, or ends cancelled if the user had asked.
    /// Returns the ids put back in the queue.
    @discardableResult
    public func requeueExpired(now: Date = Date(), maxAttempts: Int) throws -> [UUID] {
        try write("requeue expired leases") { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, attempt, lease_owner, cancel_requested FROM jobs
                WHERE state = 'running' AND lease_expires_at < ? ORDER BY seq
                """, arguments: [storedDate(now)])
            var requeued: [UUID] = []
            for row in rows {
                let idText: String = row["id"]
                guard let id = UUID(uuidString: idText) else { continue }
                let attempt: Int = row["attempt"]
                let worker: String = row["lease_owner"] ?? "?"
                if row["cancel_requested"] as Bool {
                    try db.execute(sql: """
                        UPDATE jobs SET state = 'cancelled', failure = ?, finished_at = ?, lease_owner = NULL,
                            lease_expires_at = NULL, version = version + 1 WHERE id = ?
                        """, arguments: [try jsonText(JobFailure.cancelledByUser), storedDate(now), idText])
                    try Self.insertLog(db, jobID: id, level: "warning", source: "server",
                                       message: "worker \(worker) stopped responding; the job was being cancelled, so it ends cancelled", now: now)
                } else if attempt >= maxAttempts {
                    let failure = JobFailure(
                        statusCode: 500, type: "worker_lost",
                        message: "the worker running this job stopped responding on each of \(attempt) attempts; giving up (check the worker's logs for crashes or out-of-memory kills)")
                    try db.execute(sql: """
                        UPDATE jobs SET state = 'failed', failure = ?, finished_at = ?, lease_owner = NULL,
                            lease_expires_at = NULL, version = version + 1 WHERE id = ?
                        """, arguments: [try jsonText(failure), storedDate(now), idText])
                    try Self.insertLog(db, jobID: id, level: "error", source: "server",
                                       message: "worker \(worker) stopped responding (attempt \(attempt) of \(maxAttempts)); the job failed", now: now)
                } else {
                    try db.execute(sql: """
                        UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,
                            version = version + 1 WHERE id = ?
                        """, arguments: [idText])
                    try Self.insertLog(db, jobID: id, level: "warning", source: "server",
                                       message: "worker \(worker) stopped responding (attempt \(attempt) of \(maxAttempts)); the job is queued again", now: now)
                    requeued.append(id)
                }
            }
            return requeued
        }
    }

    /// Runs `body` only while `workerID` holds a running job `id`; otherwise throws `leaseLost`.
    private func writeHeld(id: UUID, workerID: String, _ what: String, _ body: (Database) throws -> Void) throws {
        try write(what) { db in
            let holder = try Row.fetchOne(db, sql: "SELECT state, lease_owner FROM jobs WHERE id = ?", arguments: [id.uuidString])
            guard let holder else { throw JobStoreError.jobNotFound(id) }
            guard holder["state"] as String == JobState.running.rawValue, holder["lease_owner"] as String? == workerID else {
                throw JobStoreError.leaseLost(jobID: id, workerID: workerID)
            }
            try body(db)
        }
    }
}
