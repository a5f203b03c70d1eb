import Foundation
import KilnCore
import KilnServer
import KilnStore
import Testing

@Suite("Queue routes over a real socket")
struct QueueRoutesTests {
    @Test("submit answers fal's fields with absolute URLs and a price estimate, on both app paths")
    func submitAnswer() async throws {
        let harness = try Harness()
        try await harness.run { api in
            for path in ["/fal-ai/ltx23-video-trainer", "/ltx23-video-trainer"] {
                let answer = try await api.submit(#"{"training_data_url":"https://e.com/a.zip","number_of_steps":500}"#, path: path)
                #expect(answer.status == 200)
                let json = answer.json
                let id = try #require(json["request_id"] as? String)
                #expect(json["status"] as? String == "IN_QUEUE")
                #expect(json["response_url"] as? String == "\(api.base)/fal-ai/ltx23-video-trainer/requests/\(id)")
                #expect(json["status_url"] as? String == "\(api.base)/fal-ai/ltx23-video-trainer/requests/\(id)/status")
                #expect(json["cancel_url"] as? String == "\(api.base)/fal-ai/ltx23-video-trainer/requests/\(id)/cancel")
                #expect(json["price_estimate_usd"] as? Double == 2.4)
                #expect(answer.headers.first(name: "x-fal-request-id") == id)
                let stored = try #require(try harness.store.job(id: UUID(uuidString: id)!))
                #expect(stored.request.numberOfSteps == 500)
                #expect(stored.request.rank == 32, "defaults are filled in before storing")
            }
            let second = try await api.submit()
            #expect(second.json["queue_position"] as? Int == 2)
        }
    }

    @Test("a body with many bad fields answers 422 with one entry per field, and stores nothing")
    func validation() async throws {
        let harness = try Harness()
        try await harness.run { api in
            let answer = try await api.submit(#"{"training_data_url":"ftp://x","rank":7,"number_of_frames":10,"colour":"red"}"#)
            #expect(answer.status == 422)
            let detail = try #require(answer.json["detail"] as? [[String: Any]])
            let fields = Set(detail.compactMap { ($0["loc"] as? [Any])?.dropFirst().first as? String })
            #expect(fields == ["training_data_url", "rank", "number_of_frames", "colour"])
            #expect(detail.allSatisfy { ($0["loc"] as? [Any])?.first as? String == "body" && $0["msg"] is String && $0["type"] is String })
            #expect(try harness.store.counts().values.reduce(0, +) == 0)
        }
    }

    @Test("malformed JSON, a non-object, a wrong content type and a bad webhook are 4xx with a message, never 500")
    func badBodies() async throws {
        let harness = try Harness()
        try await harness.run { api in
            let malformed = try await api.submit(#"{"training_data_url": "#)
            #expect(malformed.status == 422)
            #expect(malformed.text.contains("json_invalid"))
            let array = try await api.submit("[1,2]")
            #expect(array.status == 422)
            let wrongType = try await api.send(.POST, TestAPI.app, headers: [("Content-Type", "text/csv")], body: Data("a,b".utf8))
            #expect(wrongType.status == 415)
            #expect((wrongType.json["detail"] as? String)?.contains("application/json") == true)
            let hook = try await api.send(.POST, TestAPI.app + "?fal_webhook=notaurl", headers: [("Content-Type", "application/json")],
                                          body: Data(Harness.validBody.utf8))
            #expect(hook.status == 422)
            #expect(hook.text.contains("fal_webhook"))
            let huge = try await api.submit("{\"trigger_phrase\":\"" + String(repeating: "x", count: 2 << 20) + "\"}")
            #expect(huge.status == 413)
            let withHook = try await api.send(.POST, TestAPI.app + "?fal_webhook=https%3A%2F%2Fhooks.example.com%2Fdone",
                                              headers: [("Content-Type", "application/json")], body: Data(Harness.validBody.utf8))
            #expect(withHook.status == 200)
            let id = try #require(UUID(uuidString: withHook.json["request_id"] as? String ?? ""))
            #expect(try harness.store.job(id: id)?.webhookURL == "https://hooks.example.com/done")
            #expect(try harness.store.counts()[.queued] == 1)
        }
    }

    @Test("status: 202 with queue_position while queued, 202 with stage while running, 200 with metrics when done; logs only when asked")
    func statusLifecycle() async throws {
        let harness = try Harness()
        try await harness.run { api in
            let first = try await api.submitted()
            let second = try await api.submitted()
            let queued = try await api.send(.GET, api.requestPath(second, "/status"))
            #expect(queued.status == 202)
            #expect(queued.json["status"] as? String == "IN_QUEUE")
            #expect(queued.json["queue_position"] as? Int == 1)
            #expect(queued.json.keys.contains("logs"), "fal_client reads data[\"logs\"] unconditionally")

            let job = try harness.store.startNext()
            #expect(job.id == first)
            try harness.store.update(id: first, workerID: "test-worker", stage: .training, progress: JobProgress(step: 5, total: 100, loss: 0.5))
            try harness.store.appendLog(jobID: first, level: "info", source: "worker", message: "step 5")
            let running = try await api.send(.GET, api.requestPath(first, "/status?logs=1"))
            #expect(running.status == 202)
            #expect(running.json["status"] as? String == "IN_PROGRESS")
            #expect(running.json["stage"] as? String == "training")
            let logs = try #require(running.json["logs"] as? [[String: Any]])
            let line = try #require(logs.last)
            #expect(line["message"] as? String == "step 5")
            #expect(line["source"] as? String == "worker")
            #expect(line["timestamp"] is String)
            let noLogs = try await api.send(.GET, api.requestPath(first, "/status?logs=false"))
            #expect(noLogs.json["logs"] is NSNull)
            #expect((try await api.send(.GET, api.requestPath(second, "/status"))).json["queue_position"] as? Int == 0)

            try harness.store.complete(id: first, workerID: "test-worker", result: Data(#"{"lora_file":{"url":"x"}}"#.utf8), inferenceTime: 12.5)
            let done = try await api.send(.GET, api.requestPath(first, "/status"))
            #expect(done.status == 200)
            #expect(done.json["status"] as? String == "COMPLETED")
            #expect((done.json["metrics"] as? [String: Any])?["inference_time"] as? Double == 12.5)
            #expect(done.json["error"] == nil)
        }
    }

    @Test("unknown and malformed request ids are 404 on every route")
    func unknownIDs() async throws {
        let harness = try Harness()
        try await harness.run { api in
            let missing = UUID()
            for suffix in ["/status", "/status/stream", ""] {
                #expect(try await api.send(.GET, api.requestPath(missing, suffix)).status == 404)
            }
            let cancel = try await api.send(.PUT, api.requestPath(missing, "/cancel"))
            #expect(cancel.status == 404)
            #expect(cancel.json["status"] as? String == "NOT_FOUND")
            let garbage = try await api.send(.GET, TestAPI.app + "/requests/not-a-uuid/status")
            #expect(garbage.status == 404)
            #expect(garbage.json["detail"] is String)
            let noRoute = try await api.send(.GET, "/fal-ai/other-app/requests/x")
            #expect(noRoute.status == 404)
            #expect(noRoute.json["detail"] is String)
        }
    }

    @Test("result: 400 while in progress, the output once succeeded, the job's own status and detail once failed")
    func results() async throws {
        let harness = try Harness()
        try await harness.run { api in
            let ok = try await api.submitted()
            let bad = try await api.submitted()
            let pending = try await api.send(.GET, api.requestPath(ok))
            #expect(pending.status == 400)
            #expect(pending.json["detail"] is String)
            try harness.store.startNext()
            try harness.store.startNext()
            let output = #"{"config_file":{"url":"c"},"lora_file":{"url":"l"}}"#
            try harness.store.complete(id: ok, workerID: "test-worker", result: Data(output.utf8), inferenceTime: 1)
            try harness.store.fail(id: bad, workerID: "test-worker",
                                   failure: JobFailure(statusCode: 422, type: "bad_training_data", message: "the zip holds no media"))
            let good = try await api.send(.GET, api.requestPath(ok))
            #expect(good.status == 200)
            #expect((good.json["lora_file"] as? [String: Any])?["url"] as? String == "l")
            let failed = try await api.send(.GET, api.requestPath(bad))
            #expect(failed.status == 422)
            #expect(failed.json["detail"] as? String == "the zip holds no media")
            #expect(failed.headers.first(name: "x-fal-error-type") == "bad_training_data")
            let status = try await api.send(.GET, api.requestPath(bad, "/status"))
            #expect(status.json["error"] as? String == "the zip holds no media")
        }
    }

    @Test("cancel in each state: queued cancels at once, running is marked for the worker, done is ALREADY_COMPLETED")
    func cancelStates() async throws {
        let harness = try Harness()
        try await harness.run { api in
            let running = try await api.submitted()
            let queued = try await api.submitted()
            try harness.store.startNext()

            let q = try await api.send(.PUT, api.requestPath(queued, "/cancel"))
            #expect(q.status == 202)
            #expect(q.json["status"] as? String == "CANCELLATION_REQUESTED")
            #expect(try harness.store.job(id: queued)?.state == .cancelled)
            let qResult = try await api.send(.GET, api.requestPath(queued))
            #expect(qResult.status == 400)
            #expect(qResult.json["detail"] as? String == JobFailure.cancelledByUser.message)

            let r = try await api.send(.PUT, api.requestPath(running, "/cancel"))
            #expect(r.status == 202)
            let marked = try #require(try harness.store.job(id: running))
            #expect(marked.state == .running)
            #expect(marked.cancelRequested)

            let again = try await api.send(.PUT, api.requestPath(queued, "/cancel"))
            #expect(again.status == 400)
            #expect(again.json["status"] as? String == "ALREADY_COMPLETED")
        }
    }

    @Test("POST /run waits for the job and answers its result")
    func synchronousRun() async throws {
        let harness = try Harness()
        try await harness.run { api in
            async let answer = api.submit(path: "/run/fal-ai/ltx23-video-trainer")
            var job: Job?
            for _ in 0..<200 where job == nil {
                job = try harness.store.claimNext(workerID: "w", leaseSeconds: 60)
                if job == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            let claimed = try #require(job)
            try harness.store.complete(id: claimed.id, workerID: "w", result: Data(#"{"lora_file":{"url":"done"}}"#.utf8), inferenceTime: 2)
            let result = try await answer
            #expect(result.status == 200)
            #expect((result.json["lora_file"] as? [String: Any])?["url"] as? String == "done")

            let invalid = try await api.submit(#"{"rank":3}"#, path: "/run/ltx23-video-trainer")
            #expect(invalid.status == 422)
        }
    }
}
