import Foundation
import KilnCore
import KilnServer
import KilnStore
import Logging
import Testing

@Suite("Keys and isolation")
struct AuthTests {
    @Test("once a key exists, a missing or wrong key is 401; Key and Bearer both work")
    func keysRequired() async throws {
        let harness = try Harness()
        let (id, secret) = try harness.store.createKey(name: "a")
        try await harness.run { api in
            let none = try await api.submit()
            #expect(none.status == 401)
            #expect(none.json["detail"] is String)
            let wrong = try await api.submit(key: "\(id):not-the-secret")
            #expect(wrong.status == 401)
            let garbage = try await api.send(.GET, "/files/x/y", headers: [("Authorization", "Basic Zm9vOmJhcg==")])
            #expect(garbage.status == 401)
            #expect(try await api.submit(key: "\(id):\(secret)").status == 200)
            let bearer = try await api.send(.POST, TestAPI.app, headers: [("Authorization", "Bearer \(id):\(secret)"), ("Content-Type", "application/json")],
                                            body: Data(Harness.validBody.utf8))
            #expect(bearer.status == 200)
            #expect(try await api.send(.GET, "/healthz").status == 200, "health stays open for probes")
            #expect(try harness.store.revokeKey(id: id))
            #expect(try await api.submit(key: "\(id):\(secret)").status == 401, "a revoked key stops working at once")
            #expect(try await api.submit().status == 401, "revoking the last key does not reopen the server")
        }
    }

    @Test("a key never sees another key's jobs or files: 404, not 403")
    func isolation() async throws {
        let harness = try Harness()
        let a = try harness.store.createKey(name: "a")
        let b = try harness.store.createKey(name: "b")
        let keyA = "\(a.id):\(a.secret)", keyB = "\(b.id):\(b.secret)"
        try await harness.run { api in
            let job = try await api.submitted(key: keyA)
            #expect(try harness.store.job(id: job)?.owner == a.id)
            for suffix in ["/status", ""] {
                #expect(try await api.send(.GET, api.requestPath(job, suffix), key: keyB).status == 404)
                #expect(try await api.send(.GET, api.requestPath(job, suffix), key: keyA).status != 404)
            }
            #expect(try await api.send(.GET, api.requestPath(job, "/status/stream"), key: keyB).status == 404)
            let cancel = try await api.send(.PUT, api.requestPath(job, "/cancel"), key: keyB)
            #expect(cancel.status == 404)
            #expect(try harness.store.job(id: job)?.state == .queued, "B's cancel changed nothing")

            let upload = try await api.send(.POST, "/files", headers: [("X-File-Name", "a.zip")], body: Data("a".utf8), key: keyA)
            let url = try #require(upload.json["url"] as? String)
            #expect(try await api.send(.GET, url, key: keyB).status == 404)
            #expect(try await api.send(.GET, url, key: keyA).status == 200)
            // B may not train on A's upload either.
            let stolen = try await api.submit(#"{"training_data_url":"\#(url)"}"#, key: keyB)
            #expect(stolen.status == 200 || stolen.status == 422)
        }
    }

    @Test("with no keys, a non-loopback bind is refused unless --allow-open")
    func openModeGuard() throws {
        let harness = try Harness()
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        var open = harness.configuration
        open.host = "0.0.0.0"
        #expect(throws: ServeError.self) {
            _ = try KilnServe.makeApplication(configuration: open, store: harness.store, logger: logger)
        }
        open.allowOpen = true
        _ = try KilnServe.makeApplication(configuration: open, store: harness.store, logger: logger)
        open.allowOpen = false
        _ = try harness.store.createKey(name: "k")
        _ = try KilnServe.makeApplication(configuration: open, store: harness.store, logger: logger)
        try? FileManager.default.removeItem(atPath: harness.dataDirectory)
    }
}

@Suite("Health, OpenAPI, metrics")
struct ServiceRoutesTests {
    @Test("healthz reports job counts; metrics has jobs by state and request latencies")
    func healthAndMetrics() async throws {
        let harness = try Harness()
        try await harness.run { api in
            _ = try await api.submitted()
            let health = try await api.send(.GET, "/healthz")
            #expect(health.status == 200)
            #expect((health.json["jobs"] as? [String: Any])?["queued"] as? Int == 1)
            let metrics = try await api.send(.GET, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.text.contains(#"kiln_jobs{state="queued"} 1"#))
            #expect(metrics.text.contains("kiln_http_request_duration_seconds_bucket"))
            #expect(metrics.text.contains("kiln_http_requests_total"))
        }
    }

    @Test("openapi.json is OpenAPI 3.1 with every route and every input field's range and default")
    func openAPI() async throws {
        let harness = try Harness()
        try await harness.run { api in
            let answer = try await api.send(.GET, "/openapi.json")
            #expect(answer.status == 200)
            let doc = answer.json
            #expect((doc["openapi"] as? String)?.hasPrefix("3.1") == true)
            let paths = try #require(doc["paths"] as? [String: Any])
            for path in ["/fal-ai/ltx23-video-trainer", "/fal-ai/ltx23-video-trainer/requests/{request_id}/status",
                         "/fal-ai/ltx23-video-trainer/requests/{request_id}/status/stream", "/fal-ai/ltx23-video-trainer/requests/{request_id}",
                         "/fal-ai/ltx23-video-trainer/requests/{request_id}/cancel", "/run/fal-ai/ltx23-video-trainer",
                         "/files", "/files/{file_id}/{file_name}", "/healthz", "/metrics", "/openapi.json"] {
                #expect(paths[path] != nil, "missing \(path)")
            }
            let schemas = try #require((doc["components"] as? [String: Any])?["schemas"] as? [String: Any])
            let input = try #require(schemas["TrainingInput"] as? [String: Any])
            let properties = try #require(input["properties"] as? [String: Any])
            #expect(properties.count == TrainingRequest.fields.count)
            #expect(Set(properties.keys) == Set(TrainingRequest.fields.map(\.name)))
            let steps = try #require(properties["number_of_steps"] as? [String: Any])
            #expect(steps["minimum"] as? Int == 100)
            #expect(steps["maximum"] as? Int == 20000)
            #expect(steps["default"] as? Int == 2000)
            #expect(input["required"] as? [String] == ["training_data_url"])
            #expect(input["additionalProperties"] as? Bool == false)
        }
    }
}
