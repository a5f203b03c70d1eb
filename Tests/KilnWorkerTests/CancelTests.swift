import Foundation
import KilnCore
import KilnStore
import Testing
@testable import KilnWorker

extension WorkerEndToEnd {
    /// Cancelling a running job through the store, with the worker running as a service.
    @Suite("Cancel a running job", .serialized)
    struct CancelTests {
        @Test("the engine's whole process group stops, the job ends cancelled and its files are gone")
        func cancelWhileTraining() async throws {
            let temp = try TemporaryFolder("kiln-cancel")
            let data = temp.url.appendingPathComponent("data").path
            let store = try JobStore(dataDirectory: data)
            let zip = try SampleData.videoZip(in: temp.url)
            let url = try SampleData.upload(zip, owner: "local", store: store, dataDirectory: data, base: "http://127.0.0.1:9")
            let job = try store.submit(owner: "local", request: SampleData.tinyRequest(url: url, steps: 5000))
            let worker = try KilnWorker(store: store, configuration: testConfiguration(dataDirectory: data))
            let service = Task { try await worker.run() }
            defer { service.cancel() }

            let folder = JobFolder(jobsDirectory: worker.configuration.jobsDirectory, id: job.id)
            let specPath = (folder.engine as NSString).appendingPathComponent("spec.json")
            _ = try await wait(for: job.id, in: store, timeout: .seconds(600), "training to start") {
                $0.stage == .training && ($0.progress?.step ?? 0) >= 2
            }
            #expect(!enginePIDs(specPath: specPath).isEmpty)
            #expect(try store.requestCancel(id: job.id) == .cancellationRequested)

            _ = try await wait(for: job.id, in: store, timeout: .seconds(240), "the job to be cancelled") { $0.state == .cancelled }
            let final = try #require(try store.job(id: job.id))
            #expect(final.failure?.type == "cancelled")
            #expect(enginePIDs(specPath: specPath).isEmpty, "an engine process survived the cancel")
            #expect(!FileManager.default.fileExists(atPath: folder.root))
            #expect(try store.files(jobID: job.id).isEmpty)
            #expect(try store.logs(jobID: job.id).contains { $0.message.contains("cancelled by the user") })
        }

        /// Processes whose command line names the spec (the engine and anything it started with it).
        func enginePIDs(specPath: String) -> [Int] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap { entry in
                guard let pid = Int(entry), let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
                let arguments = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                // A zombie has an empty command line; it is gone as far as work is concerned.
                return arguments.contains(specPath) ? pid : nil
            }
        }
    }
}
