import Foundation
import KilnCore
import KilnStore
import Testing
@testable import KilnWorker

/// `--keep-days`: folders and files of old ended jobs go; running and recent jobs stay.
@Suite("Retention")
struct RetentionTests {
    @Test("an old finished job's folder and files are removed, a running job's are kept")
    func sweep() throws {
        let temp = try TemporaryFolder("kiln-retention")
        let data = temp.path
        let store = try JobStore(dataDirectory: data)
        let jobs = (data as NSString).appendingPathComponent("jobs")
        let old = try store.submit(owner: "local", request: SampleData.tinyRequest(url: "https://example.com/a.zip"))
        let running = try store.submit(owner: "local", request: SampleData.tinyRequest(url: "https://example.com/b.zip"))
        let recent = try store.submit(owner: "local", request: SampleData.tinyRequest(url: "https://example.com/c.zip"))
        let tenDaysAgo = Date().addingTimeInterval(-10 * 86_400)
        var paths: [UUID: String] = [:]
        for job in [old, running, recent] {
            let claimed = try #require(try store.claimNext(workerID: "w", leaseSeconds: 3600))
            let folder = JobFolder(jobsDirectory: jobs, id: claimed.id)
            try folder.create()
            let file = (folder.outputs as NSString).appendingPathComponent("lora.safetensors")
            try Data("weights".utf8).write(to: URL(fileURLWithPath: file))
            try store.insertFile(StoredFile(
                id: UUID().uuidString.lowercased(), owner: "local", fileName: "lora.safetensors",
                contentType: "application/octet-stream", size: 7, sha256: "x",
                relativePath: JobRunner.relativePath(file, to: data), kind: .artifact, jobID: claimed.id))
            paths[claimed.id] = folder.root
            _ = job
        }
        try store.complete(id: old.id, workerID: "w", result: Data("{}".utf8), inferenceTime: 1, now: tenDaysAgo)
        try store.complete(id: recent.id, workerID: "w", result: Data("{}".utf8), inferenceTime: 1)

        let swept = try Retention(store: store, dataDirectory: data, jobsDirectory: jobs).sweep(keepDays: 7)
        #expect(swept == 1)
        #expect(!FileManager.default.fileExists(atPath: paths[old.id]!))
        #expect(try store.files(jobID: old.id).isEmpty)
        #expect(try store.job(id: old.id)?.state == .succeeded, "the job row stays")
        for kept in [running.id, recent.id] {
            #expect(FileManager.default.fileExists(atPath: paths[kept]!))
            #expect(try store.files(jobID: kept).count == 1)
        }
        #expect(try Retention(store: store, dataDirectory: data, jobsDirectory: jobs).sweep(keepDays: 7) == 0)
    }
}
