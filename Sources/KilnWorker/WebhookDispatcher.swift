import AsyncHTTPClient
import Foundation
import KilnCore
import KilnStore
import Logging
import NIOCore
import Synchronization

/// POSTs fal's webhook body to a job's `fal_webhook` when it ends, retrying with exponential
/// backoff (for up to an hour by default) while the receiver fails. Every attempt is logged on
/// the job.
final class WebhookDispatcher: Sendable {
    private struct State {
        var tasks: [UUID: Task<Void, Never>] = [:]
        var dispatched: Set<UUID> = []
    }

    let store: JobStore
    let policy: WebhookPolicy
    let logger: Logger
    private let state = Mutex(State())

    init(store: JobStore, policy: WebhookPolicy, logger: Logger) {
        self.store = store
        self.policy = policy
        self.logger = logger
    }

    /// Starts delivering `job`'s outcome (once per job and process).
    func deliver(_ job: Job) {
        guard let url = job.webhookURL, job.state.isTerminal else { return }
        state.withLock { state in
            guard !state.dispatched.contains(job.id) else { return }
            state.dispatched.insert(job.id)
            state.tasks[job.id] = Task { [self] in
                await self.send(job, to: url)
                _ = self.state.withLock { $0.tasks.removeValue(forKey: job.id) }
            }
        }
    }

    /// Delivers a job that ended without this process running it, if it ended recently.
    func deliverOnce(_ job: Job) {
        guard let finished = job.finishedAt, Date().timeIntervalSince(finished) < 600 else { return }
        deliver(job)
    }

    /// Stops pending retries (shutdown).
    func finish() async {
        let tasks = state.withLock { Array($0.tasks.values) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    /// fal's webhook body: `{request_id, gateway_request_id, status, payload, error}`.
    static func body(for job: Job) throws -> Data {
        let id = job.id.uuidString.lowercased()
        var object: [String: Any] = ["request_id": id, "gateway_request_id": id]
        if job.state == .succeeded, let result = job.result {
            object["status"] = "OK"
            object["payload"] = try JSONSerialization.jsonObject(with: result)
            object["error"] = NSNull()
        } else {
            let failure = job.failure ?? JobFailure(statusCode: 500, type: "unknown", message: "the job ended without a result")
            object["status"] = "ERROR"
            object["payload"] = ["detail": failure.message, "error_type": failure.type]
            object["error"] = failure.message
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    private func send(_ job: Job, to url: String) async {
        let body: Data
        do {
            body = try Self.body(for: job)
        } catch {
            log(job.id, "webhook not sent: could not encode the outcome (\(error))", level: "error")
            return
        }
        let clock = ContinuousClock()
        let start = clock.now
        var delay = policy.initialBackoff
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "kiln-webhook")
            request.body = .bytes(ByteBuffer(bytes: body))
            let outcome: String
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(Int64(policy.requestTimeout.nanoseconds)))
                _ = try? await response.body.collect(upTo: 1 << 20)
                if (200..<300).contains(Int(response.status.code)) {
                    log(job.id, "webhook delivered to \(url) on attempt \(attempt) (HTTP \(response.status.code))")
                    return
                }
                outcome = "HTTP \(response.status.code)"
            } catch {
                outcome = "\(error)"
            }
            let elapsed = clock.now - start
            guard elapsed + delay <= policy.giveUpAfter else {
                log(job.id, "webhook to \(url) failed on attempt \(attempt) (\(outcome)); giving up after \(Int(elapsed.seconds)) s", level: "error")
                return
            }
            log(job.id, "webhook to \(url) failed on attempt \(attempt) (\(outcome)); retrying in \(String(format: "%.1f", delay.seconds)) s",
                level: "warning")
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, policy.maxBackoff)
        }
    }

    private func log(_ id: UUID, _ message: String, level: String = "info") {
        _ = try? store.appendLog(jobID: id, level: level, source: "webhook", message: message)
        logger.log(level: level == "error" ? .error : level == "warning" ? .warning : .info, "\(message)", metadata: ["job": "\(id)"])
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    /// The duration in nanoseconds.
    var nanoseconds: Double { seconds * 1e9 }
}
