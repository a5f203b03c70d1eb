import Foundation
import GRDB
import Testing
import KilnCore
@testable import KilnStore

/// `status(id:owner:)` and queue positions served from the per-process queue snapshot:
/// always equal to a plain `COUNT(*)` of the queued jobs ahead, whatever happened before.
@Suite struct JobStatusTests {
    /// Queue positions by counting, the way the snapshot must agree with.
    func countedPositions(_ store: JobStore, _ ids: [UUID]) throws -> [Int?] {
        try store.read("count") { db in
            try ids.map { id in
                guard let seq = try Int64.fetchOne(db, sql: "SELECT seq FROM jobs WHERE id = ? AND state = 'queued'",
                                                   arguments: [id.uuidString]) else { return nil }
                return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND seq < ?", arguments: [seq])
            }
        }
    }

    @Test func statusCarriesStateStageProgressFailureAndPosition() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let first = try store.submit(owner: "o", request: sampleRequest())
        let second = try store.submit(owner: "o", request: sampleRequest())
        #expect(try store.status(id: second.id, owner: "o") == JobStatus(id: second.id, state: .queued, queuePosition: 1))
        #expect(try store.status(id: second.id, owner: "someone else") == nil)
        #expect(try store.status(id: UUID()) == nil)

        _ = try #require(try store.claimNext(workerID: "w", leaseSeconds: 60))
        #expect(try store.status(id: second.id)?.queuePosition == 0)
        let progress = JobProgress(step: 3, total: 10, loss: 0.5, etaSeconds: 12)
        try store.update(id: first.id, workerID: "w", stage: .training, progress: progress)
        #expect(try store.status(id: first.id) == JobStatus(id: first.id, state: .running, stage: .training, progress: progress))

        let failure = JobFailure(statusCode: 400, type: "bad_training_data", message: "no clips")
        try store.fail(id: first.id, workerID: "w", failure: failure, inferenceTime: 4.5)
        let ended = try #require(try store.status(id: first.id, owner: "o"))
        #expect(ended.state == .failed && ended.failure == failure && ended.inferenceTimeSeconds == 4.5 && ended.queuePosition == nil)
    }

    @Test func aCorruptRowIsRefusedAlikeByStatusAndJob() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let job = try store.submit(owner: "o", request: sampleRequest())
        let idText = job.id.uuidString
        for (sql, reason) in [
            ("UPDATE jobs SET state = 'exploded' WHERE id = ?", "unknown state exploded"),
            ("UPDATE jobs SET state = 'running', stage = 'dreaming' WHERE id = ?", "unknown stage dreaming"),
        ] {
            try store.write("corrupt a row") { db in try db.execute(sql: sql, arguments: [idText]) }
            let expected = JobStoreError.corruptRow(table: "jobs", id: idText, reason: reason)
            #expect(throws: expected) { try store.status(id: job.id) }
            #expect(throws: expected) { try store.job(id: job.id) }
        }
        try store.write("corrupt a row") { db in
            try db.execute(sql: "UPDATE jobs SET stage = NULL, progress = '{not json' WHERE id = ?", arguments: [idText])
        }
        for read in [{ _ = try store.status(id: job.id) }, { _ = try store.job(id: job.id) }] {
            let error = try #require(throws: JobStoreError.self, performing: read)
            guard case .corruptRow("jobs", idText, let reason) = error else { Issue.record("\(error)"); continue }
            #expect(reason.hasPrefix("column progress: "))
        }
    }

    @Test func positionsStayExactThroughRandomQueueChanges() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        // A second store on the same file stands in for another process: its own snapshot,
        // kept up to date only through the shared queue clock.
        let otherProcess = try JobStore(path: folder.storePath)
        var generator = SplitMix64(seed: 7)
        var ids: [UUID] = []
        var worker = 0
        for round in 0..<200 {
            // Several changes between two looks, so a snapshot can fall behind by appends and
            // reorders at once.
            for change in 0...(generator.next() % 4) {
                let writer = (UInt64(round) + change) % 3 == 0 ? otherProcess : store
                switch generator.next() % 10 {
                case 0..<5:
                    ids.append(try writer.submit(owner: "o", request: sampleRequest()).id)
                case 5, 6:
                    if !ids.isEmpty { _ = try writer.requestCancel(id: ids[Int(generator.next() % UInt64(ids.count))]) }
                case 7, 8:
                    worker += 1
                    _ = try writer.claimNext(workerID: "w\(worker)", leaseSeconds: generator.next() % 2 == 0 ? -1 : 60)
                default:
                    try writer.requeueExpired(maxAttempts: 3)
                }
            }
            let expected = try countedPositions(store, ids)
            #expect(try ids.map { try store.status(id: $0)?.queuePosition } == expected, "round \(round)")
            #expect(try ids.map { try otherProcess.queuePosition(id: $0) } == expected, "round \(round)")
        }
        #expect(try store.counts()[.queued]! > 0, "the sequence should leave some jobs queued")
    }

    @Test func aStoreCreatedBeforeTheQueueClockMigratesWithItsQueue() throws {
        let folder = try TemporaryFolder()
        var ids: [UUID] = []
        do {
            let pool = try DatabasePool(path: folder.storePath)
            try JobStore.migrator.migrate(pool, upTo: "v1")
            for _ in 0..<5 {
                let id = UUID()
                ids.append(id)
                try pool.write { db in
                    try db.execute(sql: """
                        INSERT INTO jobs (id, owner, request, state, created_at, price_estimate_usd)
                        VALUES (?, 'o', ?, 'queued', 0, 1)
                        """, arguments: [id.uuidString, try jsonText(sampleRequest())])
                }
            }
        }
        let store = try JobStore(path: folder.storePath)
        #expect(try ids.map { try store.queuePosition(id: $0) } == [0, 1, 2, 3, 4])
        #expect(try store.requestCancel(id: ids[1]) == .cancelledWhileQueued)
        ids.append(try store.submit(owner: "o", request: sampleRequest()).id)
        #expect(try ids.map { try store.status(id: $0)?.queuePosition } == [0, nil, 1, 2, 3, 4])
    }
}

/// A small seeded generator, so a failing sequence can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
