import Foundation
import Prometheus

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

    /// Records one finished request.
    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let labels = [("method", method), ("route", route), ("status", String(status))]
        registry.makeCounter(
            descriptor: .init(namespace: "kiln", metricName: "http_requests", unitName: "total",
                              helpText: "HTTP requests answered, by method, route and status."),
            labels: labels
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "kiln", metricName: "http_request_duration", unitName: "seconds",
                              helpText: "Time to answer an HTTP request (headers), by method and route."),
            labels: [("method", method), ("route", route)],
            buckets: Self.latencyBuckets
        ).record(duration)
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
