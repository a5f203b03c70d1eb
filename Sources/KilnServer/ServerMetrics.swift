import Foundation
import Prometheus
import Synchronization

/// The Prometheus registry behind `GET /metrics`: request counts and latencies by route,
/// and jobs by state (refreshed from the store at each scrape).
public final class ServerMetrics: Sendable {
    /// The registry every collector lives in.
    public let registry = PrometheusCollectorRegistry()
    private static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(5), .seconds(30),
    ]

    /// Creates an empty registry.
    public init() {}

    /// The collectors of one method, route and status.
    private struct RequestSeries: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    /// Collectors already registered, so a request does not pay for the registry's name,
    /// label, help-text and bucket checks each time it records.
    private let requestSeries = Mutex<[RequestSeries: (requests: Counter, duration: DurationHistogram)]>([:])

    /// Records one finished request.
    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let key = RequestSeries(method: method, route: route, status: status)
        let series = requestSeries.withLock { $0[key] } ?? makeRequestSeries(key)
        series.requests.increment()
        series.duration.record(duration)
    }

    private func makeRequestSeries(_ key: RequestSeries) -> (requests: Counter, duration: DurationHistogram) {
        let series = (
            requests: registry.makeCounter(
                descriptor: .init(namespace: "kiln", metricName: "http_requests", unitName: "total",
                                  helpText: "HTTP requests answered, by method, route and status."),
                labels: [("method", key.method), ("route", key.route), ("status", String(key.status))]
            ),
            duration: registry.makeDurationHistogram(
                descriptor: .init(namespace: "kiln", metricName: "http_request_duration", unitName: "seconds",
                                  helpText: "Time to answer an HTTP request (headers), by method and route."),
                labels: [("method", key.method), ("route", key.route)],
                buckets: Self.latencyBuckets
            )
        )
        // The registry hands back the same collectors to a racing caller, so either copy is fine.
        requestSeries.withLock { $0[key] = series }
        return series
    }

    /// Sets the jobs-by-state gauges.
    func setJobCounts(_ counts: [String: Int]) {
        for (state, count) in counts {
            registry.makeGauge(
                descriptor: .init(namespace: "kiln", metricName: "jobs", unitName: "",
                                  helpText: "Jobs in the store, by state."),
                labels: [("state", state)]
            ).set(Double(count))
        }
    }

    /// Counts one stored upload and its size.
    func recordUpload(bytes: Int64) {
        registry.makeCounter(
            descriptor: .init(namespace: "kiln", metricName: "uploaded", unitName: "bytes_total",
                              helpText: "Bytes accepted through POST /files.")
        ).increment(by: Double(bytes))
    }

    /// The text exposition format.
    func render() -> String { registry.emitToString() }
}
