import Foundation
import Testing
import KilnCore
@testable import KilnStore

/// A process submitting jobs is killed with SIGKILL mid-stream: every job whose submit had
/// returned is in the store afterwards, readable and claimable.
@Suite struct KillDurabilityTests {
    @Test func sigkillLosesNoSubmittedJob() throws {
        let kiln = try #require(ClaimRaceTests.kilnBinary(), "the kiln executable is not built; run `swift build --build-tests`")
        let folder = try TemporaryFolder()
        _ = try JobStore(path: folder.storePath)
        let process = Process()
        process.executableURL = kiln
        process.arguments = ["_claim-race", "--store", folder.storePath, "--worker", "submitter", "--submit"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Read ids as they come; kill once a good number have been acknowledged.
        var acknowledged: [UUID] = []
        var buffer = Data()
        let reader = output.fileHandleForReading
        while acknowledged.count < 150 {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0A) {
                if let id = UUID(uuidString: String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)) {
                    acknowledged.append(id)
                }
                buffer.removeSubrange(buffer.startIndex...newline)
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(acknowledged.count >= 150)

        let reopened = try JobStore(path: folder.storePath)
        for id in acknowledged {
            let job = try #require(try reopened.job(id: id, owner: "submitter"), "job \(id) was acknowledged but is gone")
            #expect(job.state == .queued)
            #expect(job.request.trainingDataURL == "https://example.com/submitter.zip")
        }
        // The store is consistent and writable after the kill.
        #expect(try reopened.counts()[.queued] ?? 0 >= acknowledged.count)
        #expect(try reopened.claimNext(workerID: "after", leaseSeconds: 10)?.id == acknowledged.first)
    }
}
