import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Downloads `training_data_url` into a file: http(s) only, every hop's host resolved and checked
/// against `AddressPolicy` (the connection is then pinned to the checked address, so a DNS answer
/// that changes between check and connect cannot reach a private address), redirects followed by
/// hand so each one is checked, a size cap, a deadline, and retries with backoff on 5xx/timeouts.
/// Public so that every other URL a job names (validation images) is fetched under the same policy.
public struct DatasetFetcher: Sendable {
    /// Size cap (`maxArchiveBytes`), time limit, attempts and the private-address switch.
    public var limits: DatasetLimits
    var logger: Logger
    /// Which resolved addresses are refused; tests narrow it to exercise redirects on loopback.
    var isForbidden: @Sendable (String) -> Bool = { AddressPolicy.isForbidden($0) }
    static let maxRedirects = 5

    /// A fetcher under `limits`, logging retries to `logger`.
    public init(limits: DatasetLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// A failure worth another attempt (5xx, timeout, connection reset).
    private struct Retryable: Error { var reason: String }

    /// Downloads `url` into `destination`.
    public func fetch(_ url: URL, to destination: URL,
                      progress: @Sendable (DatasetProgress) -> Void = { _ in }) async throws(DatasetError) {
        let deadline = Date().addingTimeInterval(limits.fetchTimeout)
        var attempt = 0
        var lastReason = ""
        while attempt < max(1, limits.fetchAttempts) {
            attempt += 1
            do {
                try await fetchOnce(url, to: destination, deadline: deadline, progress: progress)
                return
            } catch let error as DatasetError {
                throw error
            } catch let error as Retryable {
                lastReason = error.reason
            } catch {
                lastReason = "\(error)"
            }
            if Date() >= deadline {
                throw .fetchFailed(url: url.absoluteString, attempts: attempt, reason: "time limit of \(Int(limits.fetchTimeout)) s reached (\(lastReason))")
            }
            if attempt < limits.fetchAttempts {
                let delay = limits.fetchBackoff * pow(2, Double(attempt - 1))
                logger.warning("download failed, retrying", metadata: ["url": "\(url)", "reason": "\(lastReason)", "delay": "\(delay)"])
                try? await Task.sleep(for: .seconds(delay))
                if Task.isCancelled { throw .fetchFailed(url: url.absoluteString, attempts: attempt, reason: "cancelled") }
            }
        }
        throw .fetchFailed(url: url.absoluteString, attempts: attempt, reason: lastReason)
    }

    private func fetchOnce(_ original: URL, to destination: URL, deadline: Date,
                           progress: @Sendable (DatasetProgress) -> Void) async throws {
        var url = original
        for _ in 0...Self.maxRedirects {
            // Redirects are followed here, one checked hop at a time.
            let next = try await AddressPolicy.withCheckedClient(
                for: url, allowPrivate: limits.allowPrivateURLs, isForbidden: isForbidden,
                timeout: .init(connect: .seconds(15), read: .seconds(60))
            ) { client in
                try await download(url, client: client, to: destination, deadline: deadline, progress: progress)
            }
            guard let next else { return }
            url = next
        }
        throw DatasetError.tooManyRedirects(url: original.absoluteString)
    }

    /// One request; returns the redirect target, or nil when the body was saved.
    private func download(_ url: URL, client: HTTPClient, to destination: URL, deadline: Date,
                          progress: @Sendable (DatasetProgress) -> Void) async throws -> URL? {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.headers.add(name: "User-Agent", value: "kiln-dataset/1")
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { throw Retryable(reason: "time limit reached") }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .milliseconds(Int64(remaining * 1000)))
        } catch {
            throw Retryable(reason: "\(error)")
        }
        let status = Int(response.status.code)
        if (300..<400).contains(status), let location = response.headers.first(name: "location") {
            guard let next = URL(string: location, relativeTo: url)?.absoluteURL else {
                throw DatasetError.unsupportedURL(url: location)
            }
            return next
        }
        if status >= 500 || status == 408 || status == 429 { throw Retryable(reason: "HTTP \(status)") }
        guard (200..<300).contains(status) else { throw DatasetError.httpStatus(url: url.absoluteString, status: status) }
        let total = response.headers.first(name: "content-length").flatMap { Int64($0) }
        if let total, total > limits.maxArchiveBytes {
            throw DatasetError.archiveTooLarge(source: url.absoluteString, limit: limits.maxArchiveBytes)
        }
        _ = FileManager.default.createFile(atPath: destination.path, contents: nil)
        let out = try FileHandle(forWritingTo: destination)
        defer { try? out.close() }
        var received: Int64 = 0
        var reported: Int64 = 0
        do {
            for try await buffer in response.body {
                received += Int64(buffer.readableBytes)
                if received > limits.maxArchiveBytes {
                    throw DatasetError.archiveTooLarge(source: url.absoluteString, limit: limits.maxArchiveBytes)
                }
                if Date() > deadline { throw Retryable(reason: "time limit reached while downloading") }
                try out.write(contentsOf: Data(buffer.readableBytesView))
                if received - reported >= 8 << 20 {
                    reported = received
                    progress(.downloading(bytes: received, total: total))
                }
            }
        } catch let error as DatasetError {
            throw error
        } catch let error as Retryable {
            throw error
        } catch {
            throw Retryable(reason: "connection lost after \(received) bytes: \(error)")
        }
        if let total, received != total { throw Retryable(reason: "got \(received) of \(total) bytes") }
        progress(.downloading(bytes: received, total: total))
        return nil
    }
}
