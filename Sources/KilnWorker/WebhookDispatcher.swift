import AsyncHTTPClient
import Foundation
import KilnCore
import KilnStore
import Logging
import NIOCore
import KilnDataset

/// POSTs fal's webhook body to a job's `fal_webhook` once it ends, from the store's webhook
/// outbox: any worker delivers it, a restart loses nothing, and failures are retried with
/// exponential backoff (for up to an hour by default) while the receiver fails. Every attempt is
/// logged on the job.
///
/// The receiver's address is checked like a training-data URL: a webhook that resolves to a
/// loopback, private, link-local or metadata address is refused (unless the operator allowed
/// private URLs), and redirects are not followed, so a request cannot aim the worker's POSTs
/// at internal services.
final class WebhookDispatcher: Sendable {
    let store: JobStore
    let policy: WebhookPolicy
    let allowPrivateURLs: Bool
    let logger: Logger

    init(store: JobStore, policy: WebhookPolicy, allowPrivateURLs: Bool, logger: Logger) {
        self.store = store
        self.policy = policy
        self.allowPrivateURLs = allowPrivateURLs
        self.logger = logger
    }

    /// Delivers due webhooks every `pollInterval` until cancelled.
    func run(pollInterval: Duration) async {
        while !Task.isCancelled {
            if await deliverDue() == 0 {
                try? await Task.sleep(for: pollInterval)
            }
        }
    }

    /// One pass: claims the webhooks due now and sends them side by side. Returns how many
    /// were attempted.
    @discardableResult
    func deliverDue() async -> Int {
        let due: [WebhookDelivery]
        do {
            due = try store.claimDueWebhooks(claimSeconds: policy.requestTimeout.seconds + 30)
        } catch {
            logger.error("could not read the webhook outbox", metadata: ["error": "\(error)"])
            return 0
        }
        await withTaskGroup(of: Void.self) { group in
            for delivery in due {
                group.addTask { await self.attempt(delivery) }
            }
        }
        return due.count
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

    /// One attempt at one delivery, with its outcome recorded in the outbox.
    private func attempt(_ delivery: WebhookDelivery) async {
        let id = delivery.jobID, url = delivery.url
        let body: Data
        do {
            guard let job = try store.job(id: id) else { return }
            body = try Self.body(for: job)
        } catch {
            log(id, "webhook not sent: could not read or encode the outcome (\(error))", level: "error")
            try? store.markWebhookFailed(jobID: id, nextAttemptAt: nil)
            return
        }
        let outcome: String
        switch await post(body, to: url) {
        case .delivered(let status):
            log(id, "webhook delivered to \(url) on attempt \(delivery.attempt) (HTTP \(status))")
            try? store.markWebhookDelivered(jobID: id)
            return
        case .refused(let reason):
            log(id, "webhook to \(url) not sent: \(reason)", level: "error")
            try? store.markWebhookFailed(jobID: id, nextAttemptAt: nil)
            return
        case .failed(let reason):
            outcome = reason
        }
        let exponent = Double(min(delivery.attempt - 1, 30))
        let delay = min(policy.initialBackoff.seconds * pow(2, exponent), policy.maxBackoff.seconds)
        let next = Date().addingTimeInterval(delay)
        let elapsed = Date().timeIntervalSince(delivery.createdAt)
        if next.timeIntervalSince(delivery.createdAt) > policy.giveUpAfter.seconds {
            log(id, "webhook to \(url) failed on attempt \(delivery.attempt) (\(outcome)); giving up after \(Int(elapsed)) s", level: "error")
            try? store.markWebhookFailed(jobID: id, nextAttemptAt: nil)
        } else {
            log(id, "webhook to \(url) failed on attempt \(delivery.attempt) (\(outcome)); retrying in \(String(format: "%.1f", delay)) s",
                level: "warning")
            try? store.markWebhookFailed(jobID: id, nextAttemptAt: next)
        }
    }

    private enum PostOutcome {
        case delivered(status: UInt)
        case failed(String)
        case refused(String)
    }

    /// POSTs `body` to `url`, connecting only to the address that passed the policy.
    private func post(_ body: Data, to url: String) async -> PostOutcome {
        guard let target = URL(string: url), let host = target.host else { return .refused("not a URL") }
        do {
            return try await AddressPolicy.withCheckedClient(for: target, allowPrivate: allowPrivateURLs) { client in
                await post(body, to: url, with: client)
            }
        } catch .privateAddress(_, let address) as DatasetError {
            return .refused("it resolves to \(address), a private/loopback/link-local/metadata address (operators can allow this with --allow-private-urls)")
        } catch .unresolvableHost as DatasetError {
            return .failed("the host \(host) does not resolve")
        } catch {
            return .refused("\(error)")
        }
    }

    private func post(_ body: Data, to url: String, with client: HTTPClient) async -> PostOutcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "kiln-webhook")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(policy.requestTimeout.nanoseconds)))
            _ = try? await response.body.collect(upTo: 1 << 20)
            let status = response.status.code
            return (200..<300).contains(Int(status)) ? .delivered(status: status) : .failed("HTTP \(status)")
        } catch {
            return .failed("\(error)")
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
