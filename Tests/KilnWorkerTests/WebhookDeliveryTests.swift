import Foundation
import Logging
import Testing
import KilnCore
import KilnStore
@testable import KilnWorker

/// Webhooks delivered from the store's outbox to a real HTTP receiver on 127.0.0.1.
@Suite struct WebhookDeliveryTests {
    /// Answers 500 to the first POST, 200 afterwards; writes every body it gets as one line to `log`.
    final class Receiver: @unchecked Sendable {
        let server: LocalPythonServer
        let log: URL

        init(log: URL) throws {
            self.log = log
            server = try LocalPythonServer(script: """
                import http.server, sys
                hits = [0]
                class H(http.server.BaseHTTPRequestHandler):
                    def log_message(self, *a): pass
                    def do_POST(self):
                        body = self.rfile.read(int(self.headers['Content-Length']))
                        hits[0] += 1
                        with open(sys.argv[1], 'ab') as f: f.write(body + b'\\n')
                        self.send_response(500 if hits[0] == 1 else 200)
                        self.send_header('Content-Length', '0'); self.end_headers()
                s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
                print(s.server_port, flush=True)
                s.serve_forever()
                """, arguments: [log.path])
        }

        var url: String { server.url("/hook") }
        var bodies: [[String: Any]] {
            guard let data = FileManager.default.contents(atPath: log.path) else { return [] }
            return data.split(separator: 0x0A).compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
        }
    }

    static let policy = WebhookPolicy(initialBackoff: .milliseconds(100), maxBackoff: .seconds(1), giveUpAfter: .seconds(30))

    func dispatcher(_ store: JobStore, allowPrivate: Bool) -> WebhookDispatcher {
        WebhookDispatcher(store: store, policy: Self.policy, allowPrivateURLs: allowPrivate, logger: Logger(label: "test"))
    }

    @Test("a failed attempt is retried by whichever worker runs next, after a restart too")
    func retriedAcrossARestart() async throws {
        let folder = try TemporaryFolder()
        let receiver = try Receiver(log: folder.url.appendingPathComponent("hooks.jsonl"))
        let storePath = folder.url.appendingPathComponent("kiln.sqlite").path
        var job: Job
        do {
            let store = try JobStore(path: storePath)
            job = try store.submit(owner: "o", request: SampleData.tinyRequest(url: "https://example.com/d.zip"), webhookURL: receiver.url)
            #expect(try store.requestCancel(id: job.id) == .cancelledWhileQueued)
            #expect(await dispatcher(store, allowPrivate: true).deliverDue() == 1)
            #expect(try store.webhookState(jobID: job.id)?.attempts == 1)
            #expect(try store.webhookState(jobID: job.id)?.delivered == false)
            #expect(try store.logs(jobID: job.id).last?.message.contains("HTTP 500") == true)
        }
        // A new process: a new store handle and a new dispatcher, with nothing in memory.
        let store = try JobStore(path: storePath)
        let restarted = dispatcher(store, allowPrivate: true)
        let deadline = ContinuousClock.now + .seconds(20)
        while try store.webhookState(jobID: job.id)?.delivered != true, ContinuousClock.now < deadline {
            await restarted.deliverDue()
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try store.webhookState(jobID: job.id)?.delivered == true)
        #expect(try store.webhookState(jobID: job.id)?.attempts == 2)
        let bodies = receiver.bodies
        #expect(bodies.count == 2, "the refused attempt and the accepted one")
        #expect(bodies.allSatisfy { $0["request_id"] as? String == job.id.uuidString.lowercased() })
        #expect(bodies.last?["status"] as? String == "ERROR")
        #expect((bodies.last?["payload"] as? [String: Any])?["error_type"] as? String == "cancelled")
        #expect(await restarted.deliverDue() == 0, "delivered once, never again")
    }

    @Test("a webhook aimed at a private address is refused, not sent")
    func privateAddressRefused() async throws {
        let folder = try TemporaryFolder()
        let receiver = try Receiver(log: folder.url.appendingPathComponent("hooks.jsonl"))
        let store = try JobStore(path: folder.url.appendingPathComponent("kiln.sqlite").path)
        let job = try store.submit(owner: "o", request: SampleData.tinyRequest(url: "https://example.com/d.zip"), webhookURL: receiver.url)
        #expect(try store.requestCancel(id: job.id) == .cancelledWhileQueued)
        #expect(await dispatcher(store, allowPrivate: false).deliverDue() == 1)
        #expect(try store.webhookState(jobID: job.id)?.abandoned == true)
        let message = try #require(try store.logs(jobID: job.id).last?.message)
        #expect(message.contains("127.0.0.1") && message.contains("private"))
        try await Task.sleep(for: .milliseconds(200))
        #expect(!FileManager.default.fileExists(atPath: receiver.log.path), "the receiver was never called")
    }
}
