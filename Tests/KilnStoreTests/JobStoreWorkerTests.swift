import Foundation
import Testing
import KilnCore
@testable import KilnStore

/// Claims, heartbeats, progress, completion, lease expiry and logs.
@Suite struct JobStoreWorkerTests {
    @Test func claimTakesOldestAndSetsLease() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        #expect(try store.claimNext(workerID: "w", leaseSeconds: 30) == nil)
        let first = try store.submit(owner: "o", request: sampleRequest())
        let second = try store.submit(owner: "o", request: sampleRequest())
        let now = Date()
        let claimed = try #require(try store.claimNext(workerID: "w1", leaseSeconds: 30, now: now))
        #expect(claimed.id == first.id)
        #expect(claimed.state == .running)
        #expect(claimed.attempt == 1)
        #expect(claimed.leaseOwner == "w1")
        #expect(abs(try #require(claimed.leaseExpiresAt).timeIntervalSince(now) - 30) < 0.01)
        #expect(claimed.startedAt != nil)
        #expect(try store.claimNext(workerID: "w2", leaseSeconds: 30)?.id == second.id)
        #expect(try store.claimNext(workerID: "w3", leaseSeconds: 30) == nil)
    }

    @Test func progressAndCompletion() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let job = try store.submit(owner: "o", request: sampleRequest())
        _ = try store.claimNext(workerID: "w", leaseSeconds: 30)
        let t0 = try #require(try store.changeToken(id: job.id))
        try store.update(id: job.id, workerID: "w", stage: .training, progress: JobProgress(step: 5, total: 2000, loss: 0.25, etaSeconds: 100))
        let t1 = try #require(try store.changeToken(id: job.id))
        #expect(t1 > t0)
        let running = try #require(try store.job(id: job.id))
        #expect(running.stage == .training)
        #expect(running.progress == JobProgress(step: 5, total: 2000, loss: 0.25, etaSeconds: 100))
        // Another worker cannot write to it.
        #expect(throws: JobStoreError.leaseLost(jobID: job.id, workerID: "intruder")) {
            try store.update(id: job.id, workerID: "intruder", stage: .exporting, progress: nil)
        }
        #expect(throws: JobStoreError.jobNotFound(UUID(uuidString: "00000000-0000-0000-0000-000000000000")!)) {
            try store.complete(id: UUID(uuidString: "00000000-0000-0000-0000-000000000000")!, workerID: "w", result: Data(), inferenceTime: 0)
        }
        let output = Data(#"{"lora_file":{"url":"http://x/files/1/l.safetensors"}}"#.utf8)
        try store.complete(id: job.id, workerID: "w", result: output, inferenceTime: 12.5)
        let done = try #require(try store.job(id: job.id))
        #expect(done.state == .succeeded)
        #expect(done.result == output)
        #expect(done.inferenceTimeSeconds == 12.5)
        #expect(done.leaseOwner == nil && done.finishedAt != nil)
        #expect(try #require(try store.changeToken(id: job.id)) > t1)
        #expect(try store.heartbeat(id: job.id, workerID: "w", leaseSeconds: 30) == .lost)
        #expect(throws: JobStoreError.self) { try store.fail(id: job.id, workerID: "w", failure: .cancelledByUser) }
        #expect(try store.changeToken(id: UUID()) == nil)
    }

    @Test func expiredLeasesRequeueThenFailAfterMaxAttempts() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let job = try store.submit(owner: "o", request: sampleRequest())
        let other = try store.submit(owner: "o", request: sampleRequest())
        var now = Date()
        // Attempt 1 and 2 expire and requeue; the job keeps its place ahead of `other`.
        for attempt in 1...2 {
            let claimed = try #require(try store.claimNext(workerID: "w\(attempt)", leaseSeconds: 10, now: now))
            #expect(claimed.id == job.id)
            #expect(claimed.attempt == attempt)
            try store.update(id: job.id, workerID: "w\(attempt)", stage: .training, progress: JobProgress(step: attempt * 10, total: 100))
            #expect(try store.requeueExpired(now: now.addingTimeInterval(9), maxAttempts: 3).isEmpty)
            #expect(try store.heartbeat(id: job.id, workerID: "w\(attempt)", leaseSeconds: 10, now: now.addingTimeInterval(9)) == .renewed)
            #expect(try store.requeueExpired(now: now.addingTimeInterval(18), maxAttempts: 3).isEmpty)
            now = now.addingTimeInterval(20)
            #expect(try store.requeueExpired(now: now, maxAttempts: 3) == [job.id])
            let requeued = try #require(try store.job(id: job.id))
            #expect(requeued.state == .queued && requeued.leaseOwner == nil)
            #expect(requeued.progress?.step == attempt * 10)
            #expect(try store.queuePosition(id: job.id) == 0)
            // The old worker learns it lost the job.
            #expect(try store.heartbeat(id: job.id, workerID: "w\(attempt)", leaseSeconds: 10, now: now) == .lost)
        }
        _ = try #require(try store.claimNext(workerID: "w3", leaseSeconds: 10, now: now))
        #expect(try store.requeueExpired(now: now.addingTimeInterval(11), maxAttempts: 3).isEmpty)
        let failed = try #require(try store.job(id: job.id))
        #expect(failed.state == .failed)
        #expect(failed.failure?.type == "worker_lost")
        #expect(failed.failure?.statusCode == 500)
        #expect(try store.job(id: other.id)?.state == .queued)
        let messages = try store.logs(jobID: job.id).map(\.message)
        #expect(messages.filter { $0.contains("queued again") }.count == 2)
        #expect(messages.last?.contains("failed") == true)
    }

    @Test func releaseHandsAJobBackAtItsPlaceWithoutUsingAnAttempt() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let first = try store.submit(owner: "o", request: sampleRequest())
        let second = try store.submit(owner: "o", request: sampleRequest())
        _ = try #require(try store.claimNext(workerID: "w", leaseSeconds: 60))
        try store.update(id: first.id, workerID: "w", stage: .training, progress: JobProgress(step: 5, total: 10))
        #expect(try store.queuePosition(id: second.id) == 0)

        #expect(try !store.release(id: first.id, workerID: "someone else"))
        #expect(try store.release(id: first.id, workerID: "w"))
        let released = try #require(try store.job(id: first.id))
        #expect(released.state == .queued && released.attempt == 0 && released.leaseOwner == nil)
        #expect(released.stage == .training && released.progress?.step == 5, "kept for the resume")
        #expect(try store.queuePosition(id: first.id) == 0 && store.queuePosition(id: second.id) == 1)
        #expect(try store.logs(jobID: first.id).last?.message.contains("does not count as a failed attempt") == true)
        #expect(try !store.release(id: first.id, workerID: "w"), "no longer held")

        // Restarting workers forever never fails the job.
        for _ in 0..<5 {
            let claimed = try #require(try store.claimNext(workerID: "w", leaseSeconds: 60))
            #expect(claimed.id == first.id && claimed.attempt == 1)
            #expect(try store.release(id: first.id, workerID: "w"))
        }

        // A job the user asked to cancel is not put back in the queue.
        _ = try store.claimNext(workerID: "w", leaseSeconds: 60)
        #expect(try store.requestCancel(id: first.id) == .cancellationRequested)
        #expect(try !store.release(id: first.id, workerID: "w"))
        #expect(try store.job(id: first.id)?.state == .running)
    }

    @Test func expiredLeaseOfCancelledJobEndsCancelled() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let job = try store.submit(owner: "o", request: sampleRequest())
        let now = Date()
        _ = try store.claimNext(workerID: "w", leaseSeconds: 5, now: now)
        #expect(try store.requestCancel(id: job.id) == .cancellationRequested)
        #expect(try store.requeueExpired(now: now.addingTimeInterval(6), maxAttempts: 3).isEmpty)
        #expect(try store.job(id: job.id)?.state == .cancelled)
    }

    @Test func logsAppendAndReadInOrder() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let job = try store.submit(owner: "o", request: sampleRequest())
        let other = try store.submit(owner: "o", request: sampleRequest())
        var tokens: [Int64] = [try #require(try store.changeToken(id: job.id))]
        for i in 0..<50 {
            try store.appendLog(jobID: i % 2 == 0 ? job.id : other.id, level: i % 5 == 0 ? "warning" : "info", source: "engine", message: "line \(i)")
            tokens.append(try #require(try store.changeToken(id: job.id)))
        }
        let lines = try store.logs(jobID: job.id)
        #expect(lines.map(\.message) == stride(from: 0, to: 50, by: 2).map { "line \($0)" })
        #expect(lines.map(\.seq) == lines.map(\.seq).sorted())
        #expect(lines.first?.level == "warning" && lines.first?.source == "engine")
        #expect(lines.allSatisfy { $0.jobID == job.id })
        let after = try store.logs(jobID: job.id, afterSeq: lines[9].seq)
        #expect(after.map(\.message) == Array(lines.dropFirst(10)).map(\.message))
        #expect(try store.logs(jobID: job.id, afterSeq: lines.last!.seq).isEmpty)
        #expect(tokens == tokens.sorted())
        #expect(Set(tokens).count == 26)
        #expect(throws: JobStoreError.jobNotFound(UUID(uuidString: "00000000-0000-0000-0000-000000000001")!)) {
            try store.appendLog(jobID: UUID(uuidString: "00000000-0000-0000-0000-000000000001")!, source: "x", message: "y")
        }
    }
}
