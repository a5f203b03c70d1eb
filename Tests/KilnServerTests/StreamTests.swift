import AsyncHTTPClient
import Foundation
import KilnCore
import KilnServer
import KilnStore
import NIOCore
import Testing

/// Reads an SSE response as it arrives.
struct SSEReader {
    static func open(_ url: String, key: String? = nil) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        if let key { request.headers.add(name: "Authorization", value: "Key \(key)") }
        return try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    }

    /// Collects `data:` payloads and comment lines until the server closes the stream.
    static func collect(_ response: HTTPClientResponse, onEvent: @Sendable ([String: Any]) async throws -> Void = { _ in })
        async throws -> (events: [[String: Any]], comments: [String]) {
        var events: [[String: Any]] = []
        var comments: [String] = []
        var pending = Data()
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...newline)
                if line.hasPrefix(":") { comments.append(line) }
                if line.hasPrefix("data: ") {
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
                    events.append(object)
                    try await onEvent(object)
                }
            }
        }
        return (events, comments)
    }
}

@Suite("Status stream (SSE)")
struct StreamTests {
    @Test("events arrive in order, carry new log lines, keep-alive comments flow, and the stream closes after COMPLETED")
    func ordered() async throws {
        let harness = try Harness(keepAlive: .milliseconds(100))
        let store = harness.store
        try await harness.run { api in
            let id = try await api.submitted()
            let response = try await SSEReader.open(api.base + api.requestPath(id, "/status/stream?logs=1"))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "content-type") == "text/event-stream")
            let driver = Task {
                try await Task.sleep(for: .milliseconds(300))
                try store.startNext()
                try store.appendLog(jobID: id, level: "info", source: "worker", message: "first line")
                try await Task.sleep(for: .milliseconds(300))
                try store.appendLog(jobID: id, level: "info", source: "worker", message: "second line")
                try await Task.sleep(for: .milliseconds(300))
                try store.complete(id: id, workerID: "test-worker", result: Data("{}".utf8), inferenceTime: 1)
            }
            let (events, comments) = try await SSEReader.collect(response)
            try await driver.value
            let statuses = events.compactMap { $0["status"] as? String }
            #expect(statuses.first == "IN_QUEUE")
            #expect(statuses.last == "COMPLETED")
            #expect(statuses.filter { $0 == "COMPLETED" }.count == 1)
            let order = ["IN_QUEUE": 0, "IN_PROGRESS": 1, "COMPLETED": 2]
            #expect(statuses.map { order[$0]! } == statuses.map { order[$0]! }.sorted(), "statuses never go back: \(statuses)")
            #expect(statuses.contains("IN_PROGRESS"))
            let lines = events.flatMap { ($0["logs"] as? [[String: Any]]) ?? [] }.compactMap { $0["message"] as? String }
            #expect(lines.filter { $0.hasSuffix(" line") } == ["first line", "second line"], "in order: \(lines)")
            #expect(Set(lines).count == lines.count, "each log line is sent once: \(lines)")
            #expect(comments.contains(": keep-alive"))
        }
    }

    @Test("a stream of an already finished job sends one COMPLETED event and closes")
    func finished() async throws {
        let harness = try Harness()
        try await harness.run { api in
            let id = try await api.submitted()
            _ = try await api.send(.PUT, api.requestPath(id, "/cancel"))
            let response = try await SSEReader.open(api.base + api.requestPath(id, "/status/stream"))
            let (events, _) = try await SSEReader.collect(response)
            #expect(events.count == 1)
            #expect(events.first?["status"] as? String == "COMPLETED")
            #expect(events.first?["error"] as? String == JobFailure.cancelledByUser.message)
        }
    }

    @Test("POST /run/…/stream submits and streams the new job's status")
    func runStream() async throws {
        let harness = try Harness()
        let store = harness.store
        try await harness.run { api in
            var request = HTTPClientRequest(url: api.base + "/run/fal-ai/ltx23-video-trainer/stream")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: Harness.validBody))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let driver = Task {
                try await Task.sleep(for: .milliseconds(200))
                let job = try store.startNext()
                try store.complete(id: job.id, workerID: "test-worker", result: Data("{}".utf8), inferenceTime: 1)
            }
            let (events, _) = try await SSEReader.collect(response)
            try await driver.value
            #expect(events.first?["status"] as? String == "IN_QUEUE")
            #expect(events.last?["status"] as? String == "COMPLETED")
        }
    }
}
