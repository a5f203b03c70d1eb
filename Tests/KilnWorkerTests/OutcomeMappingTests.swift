import Foundation
import KilnCore
import KilnDataset
import KilnEngine
import Testing
@testable import KilnWorker

/// What a client reads when a job ends: the webhook body and the failure of each kind of error.
@Suite("Job outcomes")
struct OutcomeMappingTests {
    func job(state: JobState, result: Data? = nil, failure: JobFailure? = nil) -> Job {
        Job(id: UUID(), owner: "k", request: SampleData.tinyRequest(url: "https://example.com/a.zip"), state: state,
            createdAt: Date(), result: result, failure: failure, priceEstimateUSD: 0.48)
    }

    @Test("a succeeded job's webhook carries the output as payload")
    func okWebhook() throws {
        let done = job(state: .succeeded, result: Data(#"{"lora_file":{"url":"u"}}"#.utf8))
        let body = try #require(try JSONSerialization.jsonObject(with: WebhookDispatcher.body(for: done)) as? [String: Any])
        #expect(body["status"] as? String == "OK")
        #expect(body["request_id"] as? String == done.id.uuidString.lowercased())
        #expect(body["gateway_request_id"] as? String == done.id.uuidString.lowercased())
        #expect(body["error"] is NSNull)
        #expect((body["payload"] as? [String: Any])?["lora_file"] != nil)
    }

    @Test("a failed job's webhook carries the error")
    func errorWebhook() throws {
        let failed = job(state: .cancelled, failure: .cancelledByUser)
        let body = try #require(try JSONSerialization.jsonObject(with: WebhookDispatcher.body(for: failed)) as? [String: Any])
        #expect(body["status"] as? String == "ERROR")
        #expect(body["error"] as? String == "cancelled by the user")
        #expect((body["payload"] as? [String: Any])?["detail"] as? String == "cancelled by the user")
    }

    @Test("errors become failures a user can act on")
    func failures() {
        let oom = FailureMapping.failure(for: KilnEngineError.engineFailed(kind: .outOfMemory, message: "CUDA out of memory", exitCode: 5))
        #expect(oom.type == "out_of_memory")
        #expect(oom.message.contains("resolution") && oom.message.contains("number_of_frames") && oom.message.contains("rank"))
        let archive = FailureMapping.failure(for: DatasetError.unsafeEntryPath(entry: "../evil.mp4"))
        #expect(archive.statusCode == 400 && archive.message.contains("../evil.mp4"))
        let missingModel = FailureMapping.failure(for: KilnEngineError.engineFailed(kind: .modelNotFound, message: "no file", exitCode: 4))
        #expect(missingModel.statusCode == 500 && missingModel.message.contains("kiln models check"))
        #expect(FailureMapping.failure(for: KilnEngineError.cancelled(lastCheckpoint: nil)) == .cancelledByUser)
    }

    @Test("engine phases map to job stages")
    func stages() {
        #expect(JobRunner.stage(forPhase: "encoding") == .encoding)
        #expect(JobRunner.stage(forPhase: "training") == .training)
        #expect(JobRunner.stage(forPhase: "validating") == .validating)
        #expect(JobRunner.stage(forPhase: "exporting") == .exporting)
        #expect(JobRunner.stage(forPhase: "something") == nil)
        #expect(JobProgress(step: 10, total: 100, loss: 0.12345, etaSeconds: 125).logLine(secondsPerStep: 0.5)
            == "step 10/100 · loss 0.1235 · 0.50 s/step · ETA 2m05s")
    }
}
