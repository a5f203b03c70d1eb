import Foundation
import KilnCore
import KilnStore
import Testing
@testable import KilnWorker

extension WorkerEndToEnd {
    /// A worker process killed with SIGKILL mid-job: the lease runs out, the job is queued again and a
    /// new worker finishes it from what the first one left (dataset, checkpoint).
    @Suite("Recovery after a worker stops", .serialized)
    struct RecoveryTests {
        @Test("killed during preparing_dataset, training or validating, the job still completes", arguments: [
            JobStage.preparingDataset, .training, .validating,
        ])
        func killedWorkerJobCompletes(stage: JobStage) async throws {
            let temp = try TemporaryFolder("kiln-recovery")
            let data = temp.url.appendingPathComponent("data").path
            let store = try JobStore(dataDirectory: data)
            let zip = try SampleData.videoZip(in: temp.url, clips: stage == .preparingDataset ? 6 : 2, seconds: 2)
            let url = try SampleData.upload(zip, owner: "key-a", store: store, dataDirectory: data, base: "http://127.0.0.1:9")
            var request = SampleData.tinyRequest(url: url, steps: 10, validation: [ValidationPrompt(prompt: "a test pattern")])
            if stage == .validating { request.validationNumberOfFrames = 33 }
            let job = try store.submit(owner: "key-a", request: request)

            let first = try SpawnedWorker(dataDirectory: data, name: "first",
                                          extraArguments: stage == .validating ? ["--validation-steps", "12"] : [])
            _ = try await wait(for: job.id, in: store, timeout: .seconds(600), "stage \(stage.rawValue)") { current in
                guard current.stage == stage else { return current.state.isTerminal }
                // In training, wait for a checkpoint to exist so there is something to resume from.
                return stage != .training || (current.progress?.step ?? 0) >= 5
            }
            first.kill9()
            let killed = try #require(try store.job(id: job.id))
            #expect(killed.state == .running, "the job ended before the kill; the test did not test recovery")

            let second = try SpawnedWorker(dataDirectory: data, name: "second")
            defer { second.stop() }
            let final = try await wait(for: job.id, in: store, timeout: .seconds(600), "the job to end") { $0.state.isTerminal }
            let logs = try store.logs(jobID: job.id).map(\.message)
            #expect(final.state == .succeeded, "logs:\n\(logs.joined(separator: "\n"))\nsecond worker:\n\(second.log)")
            #expect(final.attempt >= 2)
            #expect(logs.contains { $0.contains("is queued again") })
            if stage != .preparingDataset {
                #expect(logs.contains { $0.contains("reusing the dataset prepared by an earlier attempt") })
            }
            if stage != .preparingDataset {
                #expect(logs.contains { $0.contains("resuming training from") })
            }
            let result = try #require(final.result)
            let object = try #require(try JSONSerialization.jsonObject(with: result) as? [String: Any])
            #expect(object["lora_file"] is [String: Any])
            #expect(object["video"] is [String: Any])
            #expect(try store.files(jobID: job.id).count == 3)
        }

        @Test("a worker stopped gracefully (SIGTERM) hands its job back; the next one resumes it at once")
        func gracefulStopResumes() async throws {
            let temp = try TemporaryFolder("kiln-recovery")
            let data = temp.url.appendingPathComponent("data").path
            let store = try JobStore(dataDirectory: data)
            let zip = try SampleData.videoZip(in: temp.url)
            let url = try SampleData.upload(zip, owner: "key-a", store: store, dataDirectory: data, base: "http://127.0.0.1:9")
            // Enough steps that an idle machine is still training when the stop arrives (a tiny step
            // takes a few milliseconds there; 12 steps finished before the SIGTERM did).
            let job = try store.submit(owner: "key-a", request: SampleData.tinyRequest(url: url, steps: 120))
            // A lease far longer than the test: only the hand-back can make the second worker start soon.
            let first = try SpawnedWorker(dataDirectory: data, name: "first", extraArguments: ["--lease-seconds", "600"])
            _ = try await wait(for: job.id, in: store, timeout: .seconds(600), "training") {
                ($0.stage == .training && ($0.progress?.step ?? 0) >= 3) || $0.state.isTerminal
            }
            first.stop()
            #expect(first.process.terminationReason == .exit)
            let stopped = try #require(try store.job(id: job.id))
            #expect(stopped.state == .queued, "handed back at once")
            #expect(stopped.attempt == 0, "a graceful stop does not use up an attempt")

            let second = try SpawnedWorker(dataDirectory: data, name: "second", extraArguments: ["--lease-seconds", "600"])
            defer { second.stop() }
            let final = try await wait(for: job.id, in: store, timeout: .seconds(600), "the job to end") { $0.state.isTerminal }
            let logs = try store.logs(jobID: job.id).map(\.message)
            #expect(final.state == .succeeded, "logs:\n\(logs.joined(separator: "\n"))")
            #expect(final.attempt == 1)
            #expect(logs.contains { $0.contains("is shutting down") })
            #expect(logs.contains { $0.contains("resuming training from") })
        }
    }
}
