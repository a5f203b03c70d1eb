import Foundation
import Hummingbird
import KilnCore
import KilnStore

extension KilnAPI {
    /// Builds the router: middleware (request logs, auth) and every route of the fal protocol.
    public func makeRouter() -> Router<KilnRequestContext> {
        let router = Router(context: KilnRequestContext.self)
        router.middlewares.add(RequestLogMiddleware(metrics: metrics))
        router.middlewares.add(ErrorMappingMiddleware())
        router.middlewares.add(AuthMiddleware(store: store, allowOpen: configuration.allowOpen, keyMode: KeyModeCache(store: store)))

        for app in ["fal-ai/ltx23-video-trainer", "ltx23-video-trainer"] {
            let base = RouterPath(app)
            router.post(base) { request, context in try await self.submit(request, context: context) }
            router.get("\(app)/requests/:request_id/status") { request, context in try await self.status(request, context: context) }
            router.get("\(app)/requests/:request_id/status/stream") { request, context in try await self.statusStream(request, context: context) }
            router.get("\(app)/requests/:request_id") { request, context in try await self.result(request, context: context) }
            router.put("\(app)/requests/:request_id/cancel") { request, context in try await self.cancel(request, context: context) }
            router.post("run/\(app)") { request, context in try await self.run(request, context: context) }
            router.post("run/\(app)/stream") { request, context in try await self.runStream(request, context: context) }
        }
        router.post("files") { request, context in try await self.upload(request, context: context) }
        router.get("files/:file_id/:file_name") { request, context in try await self.download(request, context: context) }
        router.head("files/:file_id/:file_name") { request, context in try await self.download(request, context: context) }

        router.get("healthz") { _, _ in try self.health() }
        router.get("openapi.json") { _, _ in
            Self.json(data: try OpenAPIDocument.json(publicURL: self.baseURL))
        }
        router.get("metrics") { _, _ in
            var counts: [String: Int] = [:]
            for state in JobState.allCases { counts[state.rawValue] = 0 }
            for (state, count) in try self.store.counts() { counts[state.rawValue] = count }
            self.metrics.setJobCounts(counts)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: self.metrics.render())))
        }
        return router
    }

    /// `GET /healthz`: 200 with job counts when the store answers, 503 otherwise.
    func health() throws -> Response {
        do {
            var counts: [String: Int] = [:]
            for (state, count) in try store.counts() { counts[state.rawValue] = count }
            return Self.json(["status": "ok", "jobs": counts])
        } catch {
            return Self.json(["status": "error", "detail": "job store unavailable: \(error)"], status: .serviceUnavailable)
        }
    }
}
