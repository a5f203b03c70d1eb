import Foundation
import GRDB
import KilnCore

extension JobStore {
    /// Stores a new queued job. Once this returns, the job survives any crash.
    public func submit(owner: String, request: TrainingRequest, webhookURL: String? = nil, now: Date = Date()) throws -> Job {
        let job = Job(id: UUID(), owner: owner, request: request, state: .queued, createdAt: now,
                      webhookURL: webhookURL, priceEstimateUSD: request.priceEstimateUSD)
        let requestText = try jsonText(request)
        try write("submit a job") { db in
            try db.execute(sql: """
                INSERT INTO jobs (id, owner, request, state, created_at, webhook_url, price_estimate_usd)
                VALUES (?, ?, ?, 'queued', ?, ?, ?)
                """, arguments: [job.id.uuidString, owner, requestText, storedDate(now), webhookURL, job.priceEstimateUSD])
        }
        return job
    }

    /// The job with `id`; when `owner` is given, only if that owner submitted it
    /// (so another key's job is simply not found).
    public func job(id: UUID, owner: String? = nil) throws -> Job? {
        try read("read a job") { db in try Job.fetch(db, id: id, owner: owner) }
    }

    /// How many queued jobs are ahead of job `id` (0 = next), or nil when it is not queued.
    public func queuePosition(id: UUID) throws -> Int? {
        try read("read a queue position") { db in
            guard let seq = try Int64.fetchOne(db.cachedStatement(sql: "SELECT seq FROM jobs WHERE id = ? AND state = 'queued'"),
                                               arguments: [id.uuidString]) else { return nil }
            return try queue.position(of: seq, in: db)
        }
    }

    /// Jobs, newest first; only `owner`'s when given, only in `states` when given.
    public func listJobs(owner: String? = nil, states: Set<JobState>? = nil, limit: Int = 100) throws -> [Job] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let owner {
            conditions.append("owner = ?")
            arguments += [owner]
        }
        if let states {
            conditions.append("state IN (\(states.map { _ in "?" }.joined(separator: ",")))")
            for state in states { arguments += [state.rawValue] }
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments += [max(0, limit)]
        return try read("list jobs") { db in
            try Row.fetchAll(db, sql: "SELECT \(jobColumns) FROM jobs \(whereClause) ORDER BY seq DESC LIMIT ?",
                             arguments: arguments).map(Job.init(row:))
        }
    }

    /// Cancels a job for its owner: a queued job ends at once (failure "cancelled by the
    /// user"); a running job is flagged for its worker; a finished job is left alone.
    public func requestCancel(id: UUID, owner: String? = nil, now: Date = Date()) throws -> CancelOutcome {
        try write("cancel a job") { db in
            guard let job = try Job.fetch(db, id: id, owner: owner) else { return .notFound }
            switch job.state {
            case .queued:
                try db.execute(sql: """
                    UPDATE jobs SET state = 'cancelled', failure = ?, finished_at = ?, version = version + 1
                    WHERE id = ?
                    """, arguments: [try jsonText(JobFailure.cancelledByUser), storedDate(now), id.uuidString])
                try Self.insertLog(db, jobID: id, level: "info", source: "server", message: "cancelled by the user while queued", now: now)
                return .cancelledWhileQueued
            case .running:
                if !job.cancelRequested {
                    try db.execute(sql: "UPDATE jobs SET cancel_requested = 1, version = version + 1 WHERE id = ?",
                                   arguments: [id.uuidString])
                    try Self.insertLog(db, jobID: id, level: "info", source: "server", message: "cancellation requested by the user", now: now)
                }
                return .cancellationRequested
            case .succeeded, .failed, .cancelled:
                return .alreadyCompleted
            }
        }
    }

    /// How many jobs are in each state (every state present, zero included).
    public func counts() throws -> [JobState: Int] {
        try read("count jobs") { db in
            var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
                if let state = JobState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    /// A number that grows whenever job `id` or its logs change (nil: no such job).
    /// Cheap enough to poll every ~200 ms from another process to drive SSE or long-polls.
    public func changeToken(id: UUID) throws -> Int64? {
        try read("read a job's change token") { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT version FROM jobs WHERE id = ?"), arguments: [id.uuidString])
        }
    }
}
