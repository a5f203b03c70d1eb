import Foundation
import Testing
import KilnCore
@testable import KilnStore

/// Submitting, reading, listing, queue positions, owners and cancels.
@Suite struct JobStoreJobTests {
    @Test func submitThenGetRoundTripsTheResolvedRequest() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let resolved = try RequestValidator.resolve(json: Data(#"{"training_data_url":"https://a.b/d.zip","rank":64,"validation":[{"prompt":"p"}]}"#.utf8)).get()
        let job = try store.submit(owner: "k1", request: resolved, webhookURL: "https://hook.example/x")
        #expect(job.state == .queued)
        #expect(job.priceEstimateUSD == 9.6)
        let read = try #require(try store.job(id: job.id))
        #expect(read.request == resolved)
        #expect(read.request.withAudio == nil)
        #expect(read.request.validation == [ValidationPrompt(prompt: "p")])
        #expect(read.owner == "k1")
        #expect(read.webhookURL == "https://hook.example/x")
        #expect(read.attempt == 0 && read.leaseOwner == nil && !read.cancelRequested)
        #expect(abs(read.createdAt.timeIntervalSince(job.createdAt)) < 0.001)
        // The stored JSON holds every field, defaults included.
        let text = try #require(try store.read("test") { db in try String.fetchOne(db, sql: "SELECT request FROM jobs") })
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect(Set(object.keys) == Set(TrainingRequest.fields.map(\.name)))
        #expect(try store.job(id: UUID()) == nil)
    }

    @Test func queuePositionsFollowCreationOrder() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let jobs = try (0..<4).map { _ in try store.submit(owner: "local", request: sampleRequest()) }
        #expect(try jobs.map { try store.queuePosition(id: $0.id) } == [0, 1, 2, 3])
        #expect(try store.requestCancel(id: jobs[1].id) == .cancelledWhileQueued)
        #expect(try jobs.map { try store.queuePosition(id: $0.id) } == [0, nil, 1, 2])
        let claimed = try #require(try store.claimNext(workerID: "w", leaseSeconds: 60))
        #expect(claimed.id == jobs[0].id)
        #expect(try jobs.map { try store.queuePosition(id: $0.id) } == [nil, nil, 0, 1])
        #expect(try store.queuePosition(id: UUID()) == nil)
    }

    @Test func ownersSeeOnlyTheirJobs() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let a = try store.submit(owner: "alice", request: sampleRequest())
        let b = try store.submit(owner: "bob", request: sampleRequest())
        #expect(try store.job(id: a.id, owner: "alice")?.id == a.id)
        #expect(try store.job(id: a.id, owner: "bob") == nil)
        #expect(try store.job(id: a.id, owner: nil)?.id == a.id)
        #expect(try store.listJobs(owner: "bob").map(\.id) == [b.id])
        #expect(try store.listJobs().map(\.id) == [b.id, a.id])
        #expect(try store.requestCancel(id: a.id, owner: "bob") == .notFound)
        #expect(try store.job(id: a.id)?.state == .queued)
        #expect(try store.listJobs(limit: 1).map(\.id) == [b.id])
        #expect(try store.listJobs(states: [.running]).isEmpty)
    }

    @Test func cancelInEachState() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        // Queued: ends at once.
        let queued = try store.submit(owner: "o", request: sampleRequest())
        let before = try #require(try store.changeToken(id: queued.id))
        #expect(try store.requestCancel(id: queued.id, owner: "o") == .cancelledWhileQueued)
        let cancelled = try #require(try store.job(id: queued.id))
        #expect(cancelled.state == .cancelled)
        #expect(cancelled.failure == .cancelledByUser)
        #expect(cancelled.finishedAt != nil)
        #expect(try #require(try store.changeToken(id: queued.id)) > before)
        // Already cancelled.
        #expect(try store.requestCancel(id: queued.id, owner: "o") == .alreadyCompleted)
        // Running: flagged, the worker finishes it.
        let running = try store.submit(owner: "o", request: sampleRequest())
        _ = try #require(try store.claimNext(workerID: "w", leaseSeconds: 60))
        #expect(try store.requestCancel(id: running.id) == .cancellationRequested)
        #expect(try store.requestCancel(id: running.id) == .cancellationRequested)
        #expect(try store.job(id: running.id)?.state == .running)
        #expect(try store.job(id: running.id)?.cancelRequested == true)
        #expect(try store.heartbeat(id: running.id, workerID: "w", leaseSeconds: 60) == .cancelRequested)
        try store.markCancelled(id: running.id, workerID: "w")
        #expect(try store.job(id: running.id)?.state == .cancelled)
        #expect(try store.requestCancel(id: running.id) == .alreadyCompleted)
        // Succeeded and failed.
        let done = try store.submit(owner: "o", request: sampleRequest())
        _ = try store.claimNext(workerID: "w", leaseSeconds: 60)
        try store.complete(id: done.id, workerID: "w", result: Data("{}".utf8), inferenceTime: 1)
        #expect(try store.requestCancel(id: done.id) == .alreadyCompleted)
        let failed = try store.submit(owner: "o", request: sampleRequest())
        _ = try store.claimNext(workerID: "w", leaseSeconds: 60)
        try store.fail(id: failed.id, workerID: "w", failure: JobFailure(statusCode: 400, type: "bad_training_data", message: "no clips"))
        #expect(try store.requestCancel(id: failed.id) == .alreadyCompleted)
        #expect(try store.job(id: failed.id)?.failure?.type == "bad_training_data")
        // Unknown.
        #expect(try store.requestCancel(id: UUID()) == .notFound)
        #expect(try store.counts() == [.queued: 0, .running: 0, .succeeded: 1, .failed: 1, .cancelled: 2])
    }

    @Test func storeSurvivesReopening() throws {
        let folder = try TemporaryFolder()
        var ids: [UUID] = []
        do {
            let store = try JobStore(path: folder.storePath)
            for steps in [100, 200, 300] { ids.append(try store.submit(owner: "o", request: sampleRequest(steps: steps)).id) }
            try store.appendLog(jobID: ids[0], source: "test", message: "hello")
            _ = try store.createKey(name: "ci")
        }
        let reopened = try JobStore(path: folder.storePath)
        #expect(try reopened.listJobs().map(\.id) == ids.reversed())
        #expect(try reopened.job(id: ids[2])?.request.numberOfSteps == 300)
        #expect(try reopened.logs(jobID: ids[0]).map(\.message) == ["hello"])
        #expect(try reopened.listKeys().map(\.name) == ["ci"])
        let viaDataDir = try JobStore(dataDirectory: folder.url.path)
        #expect(viaDataDir.path == folder.storePath)
        #expect(try viaDataDir.listJobs().count == 3)
    }

    @Test func openingInAMissingFolderCreatesIt() throws {
        let folder = try TemporaryFolder()
        let path = folder.url.appendingPathComponent("a/b/kiln.sqlite").path
        let store = try JobStore(path: path)
        _ = try store.submit(owner: "o", request: sampleRequest())
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(throws: JobStoreError.self) { try JobStore(path: "/proc/kiln-no/kiln.sqlite") }
    }

    @Test func defaultDataDirectoryIsHomeKiln() {
        let expected = ProcessInfo.processInfo.environment["KILN_DATA_DIR"].map(JobStore.expandingTilde)
            ?? JobStore.expandingTilde("~/.kiln")
        #expect(JobStore.defaultDataDirectory() == expected)
        #expect(!JobStore.expandingTilde("~/x").hasPrefix("~"))
        #expect(JobStore.expandingTilde("/abs/~x") == "/abs/~x")
    }
}
