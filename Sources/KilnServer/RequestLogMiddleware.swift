import Foundation
import Hummingbird
import Logging

/// Logs one structured line per request (method, route, status, duration, owner) and feeds
/// the request metrics. Errors thrown by handlers are logged with the status they become.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = KilnRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: Int(response.status.code), start: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context, status: Int(status), start: start, error: error)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, start: ContinuousClock.Instant, error: (any Error)? = nil) {
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        metrics.recordRequest(method: request.method.rawValue, route: route, status: status, duration: elapsed)
        let level: Logger.Level = status >= 500 ? .error : .info
        // Building the metadata costs more than the request itself on a fast route: skip it when filtered out.
        guard context.logger.logLevel <= level else { return }
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.path),
            "route": .string(route),
            "status": .stringConvertible(status),
            "duration_ms": .string(String(format: "%.2f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)),
            "owner": .string(context.owner),
        ]
        if let error { metadata["error"] = .string("\(error)") }
        context.logger.log(level: level, "request", metadata: metadata)
    }
}
