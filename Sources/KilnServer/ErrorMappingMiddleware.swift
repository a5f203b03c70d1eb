import Hummingbird
import KilnCore

/// Turns every error a handler throws into a JSON `{"detail": ...}` answer.
///
/// ``APIError`` passes through; Hummingbird's own errors (404 for unknown routes, 413
/// from body limits, 405) keep their status with fal's body shape; anything else is
/// ours, answered 500 with what failed.
struct ErrorMappingMiddleware: RouterMiddleware {
    typealias Context = KilnRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound ? "Not Found: no route \(request.method.rawValue) \(request.uri.path)" : error.status.reasonPhrase)
            throw APIError(error.status, message, headers: error.headers)
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, "\(error)")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            context.logger.error("internal error", metadata: ["error": .string("\(error)")])
            throw APIError(.internalServerError, "internal error: \(error)", type: "internal_error")
        }
    }
}
