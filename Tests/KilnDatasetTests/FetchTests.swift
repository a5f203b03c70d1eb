import Foundation
import Testing
@testable import KilnDataset

/// Downloads from a real HTTP server on 127.0.0.1 (Python's http.server in a subprocess).
@Suite(.serialized) struct FetchTests {
    /// A local server: /data.zip, /redirect -> /data.zip, /redirect-private -> 127.0.0.2,
    /// /missing (404), /flaky (503 once, then the zip), /huge (declares 10 GB).
    final class Server: @unchecked Sendable {
        let process = Process()
        let port: Int

        init(serving zip: URL) throws {
            let script = """
            import http.server, sys, os
            data = open(sys.argv[1], 'rb').read()
            hits = {'flaky': 0}
            class H(http.server.BaseHTTPRequestHandler):
                def log_message(self, *a): pass
                def send_zip(self):
                    self.send_response(200); self.send_header('Content-Length', str(len(data))); self.end_headers(); self.wfile.write(data)
                def do_GET(self):
                    p = self.path
                    if p == '/data.zip': self.send_zip()
                    elif p == '/redirect': self.send_response(302); self.send_header('Location', '/data.zip'); self.send_header('Content-Length', '0'); self.end_headers()
                    elif p == '/redirect-private': self.send_response(302); self.send_header('Location', 'http://127.0.0.2:%d/data.zip' % self.server.server_port); self.send_header('Content-Length', '0'); self.end_headers()
                    elif p == '/flaky':
                        hits['flaky'] += 1
                        if hits['flaky'] == 1: self.send_response(503); self.send_header('Content-Length', '0'); self.end_headers()
                        else: self.send_zip()
                    elif p == '/huge': self.send_response(200); self.send_header('Content-Length', str(11 << 30)); self.end_headers()
                    else: self.send_response(404); self.send_header('Content-Length', '0'); self.end_headers()
            s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
            print(s.server_port, flush=True)
            s.serve_forever()
            """
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", script, zip.path]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            var line = Data()
            while !line.contains(0x0A) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line.append(chunk)
            }
            port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }

        func url(_ path: String, host: String = "127.0.0.1") -> URL { URL(string: "http://\(host):\(port)\(path)")! }
        // SIGKILL, not terminate(): the test runner's threads block SIGTERM and the child inherits that mask.
        deinit { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    static func imageZip(_ root: URL) throws -> URL {
        let src = root.appendingPathComponent("src")
        try Fixtures.image(src.appendingPathComponent("a.png"), size: "40x30")
        let zip = root.appendingPathComponent("data.zip")
        try Fixtures.zip(src, to: zip)
        return zip
    }

    static let open = DatasetLimits(fetchBackoff: 0.05, allowPrivateURLs: true)

    @Test func downloadsFollowsRedirectsAndRetries() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(serving: try Self.imageZip(root))
        for path in ["/data.zip", "/redirect", "/flaky"] {
            let job = root.appendingPathComponent("job\(path.dropFirst())")
            let report = try await DatasetPreparer(options: DatasetOptions(resolution: .low), limits: Self.open)
                .prepare(source: .url(server.url(path)), into: job)
            #expect(report.totals.samples == 1, "\(path)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: job.path) == ["dataset"])
        }
    }

    @Test func clientErrorsNameTheURL() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(serving: try Self.imageZip(root))
        let job = root.appendingPathComponent("job")
        let preparer = DatasetPreparer(options: DatasetOptions(resolution: .low), limits: Self.open)
        let missing = server.url("/missing")
        await #expect(throws: DatasetError.httpStatus(url: missing.absoluteString, status: 404)) {
            _ = try await preparer.prepare(source: .url(missing), into: job)
        }
        let huge = server.url("/huge")
        await #expect(throws: DatasetError.archiveTooLarge(source: huge.absoluteString, limit: DatasetLimits().maxArchiveBytes)) {
            _ = try await preparer.prepare(source: .url(huge), into: job)
        }
        await #expect(throws: DatasetError.unsupportedURL(url: "ftp://example.com/a.zip")) {
            _ = try await preparer.prepare(source: .url(URL(string: "ftp://example.com/a.zip")!), into: job)
        }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: job.path)) == [])
    }

    @Test func privateAddressesAreRefusedAfterResolution() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(serving: try Self.imageZip(root))
        let preparer = DatasetPreparer(options: DatasetOptions(resolution: .low), limits: DatasetLimits())
        let job = root.appendingPathComponent("job")
        for url in [server.url("/data.zip"), server.url("/data.zip", host: "localhost"),
                    URL(string: "http://169.254.169.254/latest/meta-data")!, URL(string: "http://[::1]:9/x.zip")!,
                    URL(string: "http://10.1.2.3/x.zip")!, URL(string: "http://[fd00:ec2::254]/x")!] {
            do {
                _ = try await preparer.prepare(source: .url(url), into: job)
                Issue.record("\(url) was fetched")
            } catch let error as DatasetError {
                guard case .privateAddress = error else { Issue.record("\(url): \(error)"); continue }
                #expect(error.description.contains(url.absoluteString))
            }
        }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: job.path)) == [])
    }

    @Test func everyRedirectIsChecked() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(serving: try Self.imageZip(root))
        // Treat 127.0.0.1 as public and 127.0.0.2 as private: the first hop passes, the redirect must not.
        var fetcher = DatasetFetcher(limits: DatasetLimits(), logger: .init(label: "test"))
        fetcher.isForbidden = { $0 == "127.0.0.2" }
        let target = root.appendingPathComponent("download.zip")
        try await fetcher.fetch(server.url("/redirect"), to: target, progress: { _ in })
        #expect(FileManager.default.fileExists(atPath: target.path))
        await #expect(throws: DatasetError.privateAddress(url: "http://127.0.0.2:\(server.port)/data.zip", address: "127.0.0.2")) {
            try await fetcher.fetch(server.url("/redirect-private"), to: target, progress: { _ in })
        }
    }

    @Test func addressPolicyTable() {
        for bad in ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
                    "224.0.0.1", "::1", "::", "fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
                    "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "not-an-ip"] {
            #expect(AddressPolicy.isForbidden(bad), "\(bad)")
        }
        for good in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            #expect(!AddressPolicy.isForbidden(good), "\(good)")
        }
    }
}
