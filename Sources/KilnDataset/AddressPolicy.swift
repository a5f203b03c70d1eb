import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decides whether a fetch may connect to an address: refuses loopback, private, link-local,
/// carrier-grade NAT, multicast, reserved and cloud metadata addresses (IPv4 and IPv6,
/// including IPv4-mapped and NAT64 forms).
public enum AddressPolicy {
    /// Checks an outgoing http(s) URL before connecting: resolves its host and returns the
    /// address to connect to, so the caller pins the connection to what was checked (a DNS
    /// answer that changes between check and connect cannot reach a private address). Returns
    /// nil when `allowPrivate` is set (nothing to pin). Throws when the URL is not http(s), its
    /// host does not resolve, or any of its addresses is forbidden.
    public static func checkedAddress(
        for url: URL, allowPrivate: Bool, isForbidden: (String) -> Bool = AddressPolicy.isForbidden
    ) async throws(DatasetError) -> String? {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty else {
            throw .unsupportedURL(url: url.absoluteString)
        }
        let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        let addresses = await resolve(bareHost)
        guard let first = addresses.first else { throw .unresolvableHost(url: url.absoluteString, host: host) }
        if allowPrivate { return nil }
        if let bad = addresses.first(where: isForbidden) {
            throw .privateAddress(url: url.absoluteString, address: bad)
        }
        return addresses.first(where: { ipv4($0) != nil }) ?? first
    }

    /// Resolves `host` and returns its addresses as strings (numeric hosts are returned as-is).
    static func resolve(_ host: String) async -> [String] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_family = AF_UNSPEC
                #if canImport(Glibc)
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                #else
                hints.ai_socktype = SOCK_STREAM
                #endif
                var result: UnsafeMutablePointer<addrinfo>?
                guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else {
                    continuation.resume(returning: [])
                    return
                }
                defer { freeaddrinfo(first) }
                var addresses: [String] = []
                var node: UnsafeMutablePointer<addrinfo>? = first
                while let current = node {
                    var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                    if getnameinfo(current.pointee.ai_addr, current.pointee.ai_addrlen, &buffer, socklen_t(buffer.count),
                                   nil, 0, NI_NUMERICHOST) == 0 {
                        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                        if !addresses.contains(text) { addresses.append(text) }
                    }
                    node = current.pointee.ai_next
                }
                continuation.resume(returning: addresses)
            }
        }
    }

    /// True when a fetch must not connect to `address` (a numeric IPv4 or IPv6 string).
    public static func isForbidden(_ address: String) -> Bool {
        let bare = address.split(separator: "%").first.map(String.init) ?? address
        if let v4 = ipv4(bare) { return isForbiddenV4(v4) }
        if let v6 = ipv6(bare) { return isForbiddenV6(v6) }
        return true  // unparseable: refuse rather than guess
    }

    static func isForbiddenV4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1]) {
        case (0, _), (10, _), (127, _): return true
        case (100, 64...127): return true          // carrier-grade NAT
        case (169, 254): return true               // link-local, incl. 169.254.169.254 metadata
        case (172, 16...31), (192, 168): return true
        case (192, 0) where b[2] == 0 || b[2] == 2: return true
        case (198, 18...19): return true           // benchmarking
        case (198, 51) where b[2] == 100, (203, 0) where b[2] == 113: return true
        case (224...255, _): return true           // multicast, reserved, broadcast
        default: return false
        }
    }

    static func isForbiddenV6(_ b: [UInt8]) -> Bool {
        if b.allSatisfy({ $0 == 0 }) { return true }                              // ::
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }          // ::1
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {    // ::ffff:a.b.c.d
            return isForbiddenV4(Array(b[12..<16]))
        }
        if b[0..<12].allSatisfy({ $0 == 0 }) { return isForbiddenV4(Array(b[12..<16])) } // ::a.b.c.d
        if b[0] == 0x00, b[1] == 0x64, b[2] == 0xff, b[3] == 0x9b { return isForbiddenV4(Array(b[12..<16])) } // NAT64
        if b[0] == 0xfe && (b[1] & 0xc0) == 0x80 { return true }                    // fe80::/10 link-local
        if b[0] == 0xfe && (b[1] & 0xc0) == 0xc0 { return true }                    // fec0::/10 site-local
        if (b[0] & 0xfe) == 0xfc { return true }                                    // fc00::/7 unique local (fd00:ec2::254)
        if b[0] == 0xff { return true }                                              // multicast
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0d, b[3] == 0xb8 { return true }    // documentation
        if b[0] == 0x20, b[1] == 0x02 { return isForbiddenV4(Array(b[2..<6])) }     // 6to4
        return false
    }

    static func ipv4(_ s: String) -> [UInt8]? {
        var addr = in_addr()
        guard inet_pton(AF_INET, s, &addr) == 1 else { return nil }
        return withUnsafeBytes(of: addr) { Array($0) }
    }

    static func ipv6(_ s: String) -> [UInt8]? {
        var addr = in6_addr()
        guard inet_pton(AF_INET6, s, &addr) == 1 else { return nil }
        return withUnsafeBytes(of: addr) { Array($0) }
    }
}
