import Foundation
import Testing
import KilnCore
@testable import KilnStore

/// The webhook outbox: every way a job with a `fal_webhook` ends owes one delivery, claimed
/// by one worker at a time, kept across reopening the store.
@Suite struct WebhookOutboxTests {
    @Test func everyEndingOfAJobWithAWebhookOwesOneDelivery() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let hook = "https://hooks.example/x"
        let succeeded = try store.submit(owner: "o", request: sampleRequest(), webhookURL: hook)
        let failed = try store.submit(owner: "o", request: sampleRequest(), webhookURL: hook)
        let lost = try store.submit(owner: "o", request: sampleRequest(), webhookURL: hook)
        let cancelledQueued = try store.submit(owner: "o", request: sampleRequest(), webhookURL: hook)
        let silent = try store.submit(owner: "o", request: sampleRequest())

        _ = try store.claimNext(workerID: "w", leaseSeconds: 60)
        try store.update(id: succeeded.id, workerID: "w", stage: .training, progress: JobProgress(step: 1, total: 2))
        #expect(try store.webhookState(jobID: succeeded.id) == nil, "nothing is owed while the job runs")
        try store.complete(id: succeeded.id, workerID: "w", result: Data("{}".utf8), inferenceTime: 1)
        _ = try store.claimNext(workerID: "w", leaseSeconds: 60)
        try store.fail(id: failed.id, workerID: "w", failure: JobFailure(statusCode: 400, type: "bad_training_data", message: "x"))
        _ = try store.claimNext(workerID: "w", leaseSeconds: -1)
        try store.requeueExpired(maxAttempts: 1)
        #expect(try store.job(id: lost.id)?.failure?.type == "worker_lost")
        #expect(try store.requestCancel(id: cancelledQueued.id) == .cancelledWhileQueued)
        _ = try store.claimNext(workerID: "w", leaseSeconds: 60)
        try store.complete(id: silent.id, workerID: "w", result: Data("{}".utf8), inferenceTime: 1)

        for job in [succeeded, failed, lost, cancelledQueued] {
            let state = try #require(try store.webhookState(jobID: job.id))
            #expect(state.attempts == 0 && !state.delivered && !state.abandoned)
        }
        #expect(try store.webhookState(jobID: silent.id) == nil)
        let due = try store.claimDueWebhooks(claimSeconds: 60)
        #expect(Set(due.map(\.jobID)) == Set([succeeded, failed, lost, cancelledQueued].map(\.id)))
        #expect(due.allSatisfy { $0.url == hook && $0.attempt == 1 })
    }

    @Test func claimsRetriesDeliveryAndAbandonSurviveReopening() throws {
        let folder = try TemporaryFolder()
        let now = Date()
        var jobs: [Job] = []
        do {
            let store = try JobStore(path: folder.storePath)
            for _ in 0..<3 {
                let job = try store.submit(owner: "o", request: sampleRequest(), webhookURL: "https://hooks.example/\(jobs.count)")
                jobs.append(job)
                #expect(try store.requestCancel(id: job.id, now: now) == .cancelledWhileQueued)
            }
            #expect(try store.claimDueWebhooks(now: now.addingTimeInterval(-1), claimSeconds: 60).isEmpty, "not due before the job ended")
            #expect(try store.claimDueWebhooks(now: now, claimSeconds: 60, limit: 2).map(\.jobID) == [jobs[0].id, jobs[1].id])
            #expect(try store.claimDueWebhooks(now: now, claimSeconds: 60).map(\.jobID) == [jobs[2].id], "claimed rows are skipped")
            try store.markWebhookDelivered(jobID: jobs[0].id)
            try store.markWebhookFailed(jobID: jobs[1].id, nextAttemptAt: now.addingTimeInterval(5))
            // jobs[2]: its worker died mid-attempt; the claim runs out after 60 s.
        }
        let reopened = try JobStore(path: folder.storePath)
        #expect(try reopened.claimDueWebhooks(now: now.addingTimeInterval(4), claimSeconds: 60).isEmpty)
        let retry = try reopened.claimDueWebhooks(now: now.addingTimeInterval(5), claimSeconds: 60)
        #expect(retry.map(\.jobID) == [jobs[1].id] && retry.first?.attempt == 2)
        try reopened.markWebhookFailed(jobID: jobs[1].id, nextAttemptAt: nil)
        let orphan = try reopened.claimDueWebhooks(now: now.addingTimeInterval(61), claimSeconds: 60)
        #expect(orphan.map(\.jobID) == [jobs[2].id] && orphan.first?.attempt == 2)
        #expect(try reopened.claimDueWebhooks(now: now.addingTimeInterval(10_000), claimSeconds: 60).map(\.jobID) == [jobs[2].id],
                "only the unfinished one comes back")
        #expect(try reopened.webhookState(jobID: jobs[0].id)?.delivered == true)
        #expect(try reopened.webhookState(jobID: jobs[1].id)?.abandoned == true)
    }
}
