import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnStore

extension KilnAPI {
    /// Largest JSON body accepted by submit and run.
    static let maxJSONBody = 1 << 20

    /// Reads, checks and stores a submitted request; returns the new job.
    func acceptSubmission(_ request: Request, context: KilnRequestContext) async throws -> Job {
        if let contentType = request.headers[.contentType], !contentType.lowercased().contains("json") {
            throw APIError(.unsupportedMediaType,
                           "Content-Type must be application/json (got \(contentType)); send the training request as a JSON object",
                           type: "unsupported_media_type")
        }
        var webhook: String?
        if let value = request.uri.queryParameters.get("fal_webhook") {
            guard RequestValidator.isHTTPURL(value) else {
                let issue = ValidationIssue(loc: ["query", "fal_webhook"], msg: "fal_webhook must be an http(s) URL", type: "url_parsing")
                throw APIError(.unprocessableContent, fullBody: RequestValidationError(issues: [issue]).detailJSON())
            }
            webhook = value
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxJSONBody)
        } catch {
            throw APIError(.contentTooLarge, "request body is larger than \(Self.maxJSONBody) bytes; upload data with POST /files and pass its URL",
                           type: "request_too_large")
        }
        let owner = context.owner
        let resolved = RequestValidator.resolve(json: Data(buffer: body)) { [self] url in isIssuedFile(url, owner: owner) }
        switch resolved {
        case .failure(let error):
            throw APIError(.unprocessableContent, fullBody: error.detailJSON())
        case .success(let trainingRequest):
            return try store.submit(owner: owner, request: trainingRequest, webhookURL: webhook)
        }
    }

    /// `POST /fal-ai/ltx23-video-trainer`: queue a job.
    func submit(_ request: Request, context: KilnRequestContext) async throws -> Response {
        let job = try await acceptSubmission(request, context: context)
        let position = try store.queuePosition(id: job.id) ?? 0
        let url = responseURL(job.id)
        context.logger.info("job submitted", metadata: ["request_id": .string(job.id.uuidString.lowercased()), "owner": .string(job.owner)])
        return Self.json([
            "request_id": job.id.uuidString.lowercased(),
            "response_url": url,
            "status_url": url + "/status",
            "cancel_url": url + "/cancel",
            "status": "IN_QUEUE",
            "queue_position": position,
            "price_estimate_usd": job.priceEstimateUSD,
        ], headers: Self.requestIDHeader(job.id))
    }

    static func requestIDHeader(_ id: UUID) -> HTTPFields {
        [.falRequestID: id.uuidString.lowercased()]
    }

    /// The `{request_id}` path parameter, or nil when it is not a UUID (then simply not found).
    static func requestID(_ context: KilnRequestContext) -> UUID? {
        context.parameters.get("request_id").flatMap(UUID.init(uuidString:))
    }

    /// The answer for a request id that is unknown, malformed or another key's.
    static let requestNotFound = APIError(.notFound, "Request not found: no such request_id for this API key", type: "not_found")

    /// The job named by the `{request_id}` path parameter, if the caller owns it.
    func job(from context: KilnRequestContext) throws -> Job {
        guard let id = Self.requestID(context), let job = try store.job(id: id, owner: context.owner) else {
            throw Self.requestNotFound
        }
        return job
    }

    static func wantsLogs(_ request: Request) -> Bool {
        guard let value = request.uri.queryParameters.get("logs")?.lowercased() else { return false }
        return value == "1" || value == "true" || value == "yes"
    }

    static func logObject(_ entry: LogEntry) -> [String: Any] {
        [
            "message": entry.message,
            "level": entry.level.uppercased(),
            "source": entry.source,
            "timestamp": iso8601(entry.timestamp),
        ]
    }

    static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// The fal status object for a job; `logs` is `nil` (JSON null) unless asked for.
    func statusObject(_ status: JobStatus, logs: [LogEntry]?) -> [String: Any] {
        let url = responseURL(status.id)
        var object: [String: Any] = [
            "status": status.state.falStatus,
            "request_id": status.id.uuidString.lowercased(),
            "response_url": url,
            "status_url": url + "/status",
            "cancel_url": url + "/cancel",
            "logs": logs.map { $0.map(Self.logObject) } ?? NSNull(),
        ]
        switch status.state {
        case .queued:
            object["queue_position"] = status.queuePosition ?? 0
        case .running:
            if let stage = status.stage { object["stage"] = stage.rawValue }
            if let progress = status.progress {
                var p: [String: Any] = ["step": progress.step, "total": progress.total]
                if let loss = progress.loss { p["loss"] = loss }
                if let eta = progress.etaSeconds { p["eta_seconds"] = eta }
                object["progress"] = p
            }
        case .succeeded, .failed, .cancelled:
            object["metrics"] = ["inference_time": status.inferenceTimeSeconds.map { $0 as Any } ?? NSNull()]
            if let failure = status.failure {
                object["error"] = failure.message
                object["error_type"] = failure.type
            }
        }
        return object
    }

    /// `GET …/requests/{id}/status[?logs=1]`: one store read for the status and its queue position.
    func status(_ request: Request, context: KilnRequestContext) async throws -> Response {
        guard let id = Self.requestID(context), let status = try store.status(id: id, owner: context.owner) else {
            throw Self.requestNotFound
        }
        let logs = Self.wantsLogs(request) ? try store.logs(jobID: id, afterSeq: nil) : nil
        return Self.json(statusObject(status, logs: logs), status: status.state.isTerminal ? .ok : .accepted,
                         headers: Self.requestIDHeader(id))
    }

    /// `GET …/requests/{id}/status/stream[?logs=1]`: SSE until COMPLETED.
    func statusStream(_ request: Request, context: KilnRequestContext) async throws -> Response {
        guard let id = Self.requestID(context), try store.status(id: id, owner: context.owner) != nil else {
            throw Self.requestNotFound
        }
        return eventStreamResponse(jobID: id, owner: context.owner, withLogs: Self.wantsLogs(request))
    }

    /// An SSE response that sends the job's status at once and after every change.
    func eventStreamResponse(jobID: UUID, owner: String, withLogs: Bool) -> Response {
        let tracker = StreamTracker()
        let stream = EventStream(pollInterval: configuration.pollInterval, keepAlive: configuration.keepAliveInterval)
        let body = stream.body { [self] in
            guard let token = try store.changeToken(id: jobID) else { return .init(events: [], done: true) }
            guard tracker.changed(to: token) else { return .init(events: [], done: false) }
            guard let status = try store.status(id: jobID, owner: owner) else { return .init(events: [], done: true) }
            var logs: [LogEntry]?
            if withLogs {
                let fresh = try store.logs(jobID: jobID, afterSeq: tracker.lastLogSeq)
                if let last = fresh.last { tracker.lastLogSeq = last.seq }
                logs = fresh
            }
            let object = statusObject(status, logs: logs)
            let data = try JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])
            return .init(events: [data], done: status.state.isTerminal)
        }
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        headers[.falRequestID] = jobID.uuidString.lowercased()
        headers[.accelBuffering] = "no"
        return Response(status: .ok, headers: headers, body: body)
    }

    /// The result answer for a job: output JSON, or its error with the job's status code.
    func resultResponse(_ job: Job) -> Response {
        let headers = Self.requestIDHeader(job.id)
        switch job.state {
        case .queued, .running:
            return Self.json(["detail": "Request is still in progress (\(job.state.falStatus)); poll its status_url or stream it"],
                             status: .badRequest, headers: headers)
        case .succeeded:
            return Self.json(data: job.result ?? Data("{}".utf8), headers: headers)
        case .failed, .cancelled:
            let failure = job.failure ?? JobFailure(statusCode: 500, type: "unknown", message: "the job ended without a result")
            var fields = headers
            fields[.falErrorType] = failure.type
            return Self.json(["detail": failure.message, "error_type": failure.type],
                             status: HTTPResponse.Status(code: failure.statusCode), headers: fields)
        }
    }

    /// `GET …/requests/{id}`.
    func result(_ request: Request, context: KilnRequestContext) async throws -> Response {
        resultResponse(try job(from: context))
    }

    /// `PUT …/requests/{id}/cancel`.
    func cancel(_ request: Request, context: KilnRequestContext) async throws -> Response {
        guard let id = Self.requestID(context) else {
            return Self.json(["status": "NOT_FOUND"], status: .notFound)
        }
        switch try store.requestCancel(id: id, owner: context.owner) {
        case .cancelledWhileQueued, .cancellationRequested:
            context.logger.info("cancel requested", metadata: ["request_id": .string(id.uuidString.lowercased())])
            return Self.json(["status": "CANCELLATION_REQUESTED"], status: .accepted, headers: Self.requestIDHeader(id))
        case .alreadyCompleted:
            return Self.json(["status": "ALREADY_COMPLETED"], status: .badRequest, headers: Self.requestIDHeader(id))
        case .notFound:
            return Self.json(["status": "NOT_FOUND"], status: .notFound)
        }
    }

    /// `POST /run/fal-ai/ltx23-video-trainer`: submit and wait for the result.
    func run(_ request: Request, context: KilnRequestContext) async throws -> Response {
        let submitted = try await acceptSubmission(request, context: context)
        var lastToken: Int64 = -1
        while true {
            guard let token = try store.changeToken(id: submitted.id) else {
                throw APIError(.notFound, "Request \(submitted.id.uuidString.lowercased()) disappeared from the store while waiting", type: "not_found")
            }
            if token != lastToken {
                lastToken = token
                if let job = try store.job(id: submitted.id, owner: context.owner), job.state.isTerminal {
                    return resultResponse(job)
                }
            }
            try await Task.sleep(for: configuration.pollInterval)
        }
    }

    /// `POST /run/fal-ai/ltx23-video-trainer/stream`: submit, then stream its status (fal_client's `stream`).
    func runStream(_ request: Request, context: KilnRequestContext) async throws -> Response {
        let job = try await acceptSubmission(request, context: context)
        return eventStreamResponse(jobID: job.id, owner: context.owner, withLogs: Self.wantsLogs(request))
    }
}

/// Remembers what an SSE stream already sent. Used only from the stream's own task.
final class StreamTracker: @unchecked Sendable {
    private var lastToken: Int64?
    var lastLogSeq: Int64?

    /// Whether `token` differs from the last one seen (and remembers it).
    func changed(to token: Int64) -> Bool {
        defer { lastToken = token }
        return token != lastToken
    }
}
