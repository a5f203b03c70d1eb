import AsyncHTTPClient
import Foundation

extension AddressPolicy {
    /// Runs `body` with an HTTP client that can reach only `url`'s host, at the address
    /// ``checkedAddress(for:allowPrivate:isForbidden:)`` approved (the connection is pinned to
    /// it), and never follows a redirect (a caller that wants them checks each hop itself).
    /// The client is shut down when `body` returns or throws.
    ///
    /// Throws ``DatasetError`` when the URL fails the check, else whatever `body` throws.
    public static func withCheckedClient<T>(
        for url: URL, allowPrivate: Bool, isForbidden: (String) -> Bool = AddressPolicy.isForbidden,
        timeout: HTTPClient.Configuration.Timeout = .init(),
        _ body: (HTTPClient) async throws -> T
    ) async throws -> T {
        let pinned = try await checkedAddress(for: url, allowPrivate: allowPrivate, isForbidden: isForbidden)
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: timeout)
        if let pinned, let host = url.host { configuration.dnsOverride = [host: pinned] }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(client)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
