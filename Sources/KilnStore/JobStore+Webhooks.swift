import Foundation
import GRDB

extension JobStore {
    /// Claims up to `limit` webhooks that are due at `now`, for one attempt each. A claim
    /// pushes the row's next attempt `claimSeconds` ahead, so no other worker sends it
    /// meanwhile, and a worker that dies mid-attempt leaves it to be retried after that.
    public func claimDueWebhooks(now: Date = Date(), claimSeconds: Double, limit: Int = 16) throws -> [WebhookDelivery] {
        try write("claim due webhooks") { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT job_id, url, attempts, created_at FROM webhook_outbox
                WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= ?
                ORDER BY next_attempt_at LIMIT ?
                """, arguments: [storedDate(now), max(0, limit)])
            var claimed: [WebhookDelivery] = []
            for row in rows {
                let idText: String = row["job_id"]
                guard let id = UUID(uuidString: idText) else { continue }
                try db.execute(sql: "UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE job_id = ?",
                               arguments: [storedDate(now) + claimSeconds, idText])
                claimed.append(WebhookDelivery(jobID: id, url: row["url"], attempt: (row["attempts"] as Int) + 1,
                                               createdAt: Date(timeIntervalSince1970: row["created_at"])))
            }
            return claimed
        }
    }

    /// Records that the receiver accepted job `id`'s webhook.
    public func markWebhookDelivered(jobID: UUID, now: Date = Date()) throws {
        try write("record a delivered webhook") { db in
            try db.execute(sql: "UPDATE webhook_outbox SET delivered_at = ? WHERE job_id = ?",
                           arguments: [storedDate(now), jobID.uuidString])
        }
    }

    /// Records a failed attempt: retried at `nextAttemptAt`, or never again when nil.
    public func markWebhookFailed(jobID: UUID, nextAttemptAt: Date?, now: Date = Date()) throws {
        try write("record a failed webhook") { db in
            if let nextAttemptAt {
                try db.execute(sql: "UPDATE webhook_outbox SET next_attempt_at = ? WHERE job_id = ?",
                               arguments: [storedDate(nextAttemptAt), jobID.uuidString])
            } else {
                try db.execute(sql: "UPDATE webhook_outbox SET abandoned_at = ? WHERE job_id = ?",
                               arguments: [storedDate(now), jobID.uuidString])
            }
        }
    }

    /// Job `id`'s webhook: attempts so far and whether it was delivered or abandoned (nil: none owed).
    public func webhookState(jobID: UUID) throws -> (attempts: Int, delivered: Bool, abandoned: Bool)? {
        try read("read a webhook's state") { db in
            try Row.fetchOne(db, sql: "SELECT attempts, delivered_at, abandoned_at FROM webhook_outbox WHERE job_id = ?",
                             arguments: [jobID.uuidString]).map { row in
                (row["attempts"], (row["delivered_at"] as Double?) != nil, (row["abandoned_at"] as Double?) != nil)
            }
        }
    }
}
