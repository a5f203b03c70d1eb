import Foundation
import Testing
import KilnCore
@testable import KilnStore

/// Many claimers, two connection pools and two processes racing for the same jobs:
/// every job is claimed exactly once.
@Suite struct ClaimRaceTests {
    @Test func twoPoolsManyTasksClaimEachJobOnce() async throws {
        let folder = try TemporaryFolder()
        let a = try JobStore(path: folder.storePath)
        let b = try JobStore(path: folder.storePath)
        let submitted = try Set((0..<120).map { _ in try a.submit(owner: "o", request: sampleRequest()).id })
        let claims = try await withThrowingTaskGroup(of: [UUID].self) { group in
            for worker in 0..<8 {
                let store = worker.isMultiple(of: 2) ? a : b
                group.addTask {
                    var mine: [UUID] = []
                    while let job = try store.claimNext(workerID: "w\(worker)", leaseSeconds: 60) {
                        mine.append(job.id)
                        await Task.yield()
                    }
                    return mine
                }
            }
            var all: [UUID] = []
            for try await mine in group { all += mine }
            return all
        }
        #expect(claims.count == submitted.count)
        #expect(Set(claims) == submitted)
        #expect(try a.counts()[.running] == 120)
        #expect(try b.listJobs(limit: 1000).allSatisfy { $0.attempt == 1 })
    }

    @Test func twoProcessesClaimEachJobOnce() throws {
        let kiln = try #require(Self.kilnBinary(), "the kiln executable is not built next to the test bundle; run `swift build --build-tests`")
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let submitted = try Set((0..<200).map { _ in try store.submit(owner: "o", request: sampleRequest()).id })
        let start = Date().addingTimeInterval(1.0).timeIntervalSince1970
        let children = try ["p1", "p2"].map { worker in
            let process = Process()
            process.executableURL = kiln
            process.arguments = ["_claim-race", "--store", folder.storePath, "--worker", worker, "--start-at", String(start), "--pause-ms", "1"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            return (process, output)
        }
        var claimedBy: [String: [UUID]] = [:]
        for (index, (process, output)) in children.enumerated() {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            claimedBy["p\(index + 1)"] = String(decoding: data, as: UTF8.self)
                .split(separator: "\n").compactMap { UUID(uuidString: String($0)) }
        }
        print("claim split:", claimedBy.mapValues(\.count))
        let all = claimedBy.values.flatMap { $0 }
        #expect(all.count == submitted.count, "claimed \(all.count) of \(submitted.count)")
        #expect(Set(all) == submitted)
        // Both really raced (each pauses 1 ms between claims, so the other gets turns).
        #expect(claimedBy.values.allSatisfy { !$0.isEmpty })
        // Each job's lease owner is the process that printed it.
        for (worker, ids) in claimedBy {
            for id in ids { #expect(try store.job(id: id)?.leaseOwner == worker) }
        }
    }

    /// The `kiln` executable built beside this test bundle.
    static func kilnBinary() -> URL? {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("kiln")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
            folder.deleteLastPathComponent()
        }
        return nil
    }
}
