import AsyncHTTPClient
import Foundation
import KilnStore
import NIOCore
import NIOSSL
import Testing

@Suite("A spawned `kiln serve`", .serialized)
struct SpawnedServerTests {
    static func tempDir() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kiln-spawn-\(UUID().uuidString)").path
    }

    @Test("kill -9 after several submits, restart on the same data dir: every accepted job is still there")
    func survivesSIGKILL() async throws {
        let data = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let first = try SpawnedServer(dataDirectory: data)
        #expect(first.url.hasPrefix("http://127.0.0.1:"))
        let api = TestAPI(base: first.url)
        var ids: [UUID] = []
        for _ in 0..<8 { ids.append(try await api.submitted()) }
        _ = try await api.send(.PUT, api.requestPath(ids[0], "/cancel"))
        first.kill9()

        let second = try SpawnedServer(dataDirectory: data)
        defer { second.stop() }
        let again = TestAPI(base: second.url)
        for (index, id) in ids.enumerated() {
            let status = try await again.send(.GET, again.requestPath(id, "/status"))
            #expect(status.status == (index == 0 ? 200 : 202), "job \(index) after restart")
            #expect(status.json["status"] as? String == (index == 0 ? "COMPLETED" : "IN_QUEUE"))
            if index > 0 { #expect(status.json["queue_position"] as? Int == index - 1) }
        }
    }

    @Test("TLS with a self-signed certificate made by openssl")
    func tls() async throws {
        let data = Self.tempDir()
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let cert = data + "/cert.pem", key = data + "/key.pem"
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0)

        let server = try SpawnedServer(dataDirectory: data + "/store", extraArguments: ["--tls-cert", cert, "--tls-key", key])
        defer { server.stop() }
        #expect(server.url.hasPrefix("https://127.0.0.1:"))

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(cert)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        var request = HTTPClientRequest(url: server.url + "/fal-ai/ltx23-video-trainer")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: Harness.validBody))
        let response = try await client.execute(request, timeout: .seconds(30))
        #expect(response.status == .ok)
        let body = try await response.body.collect(upTo: 1 << 20)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
        #expect((json["status_url"] as? String)?.hasPrefix(server.url) == true)
        try await client.shutdown()

        // Without trusting the certificate the handshake fails: TLS is really on.
        await #expect(throws: (any Error).self) {
            _ = try await HTTPClient.shared.execute(HTTPClientRequest(url: server.url + "/healthz"), timeout: .seconds(10))
        }

        // The client commands trust what SSL_CERT_FILE names, as fal_client and curl do.
        func kiln(_ arguments: [String], certificate: String?) throws -> (status: Int32, out: String, err: String) {
            try server.runClient(arguments, environment: ["SSL_CERT_FILE": certificate])
        }
        let trusted = try kiln(["submit", "--json", Harness.validBody], certificate: cert)
        #expect(trusted.status == 0, "\(trusted.err)")
        #expect(trusted.out.contains("request_id"))
        let untrusted = try kiln(["submit", "--json", Harness.validBody], certificate: nil)
        #expect(untrusted.status != 0)
        #expect(untrusted.err.contains("cannot reach"))
    }

    @Test("bad serve options (port, size, half a TLS pair, open mode on 0.0.0.0) fail fast with a message")
    func badOptions() throws {
        for arguments in [["serve", "--port", "70000"], ["serve", "--max-upload-size", "lots"], ["serve", "--tls-cert", "x.pem"],
                          ["serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", Self.tempDir()]] {
            let process = Process()
            process.executableURL = SpawnedServer.binary
            process.arguments = arguments
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus != 0, "\(arguments) should fail")
            #expect(!message.isEmpty)
        }
    }

    @Test("the client commands drive a running server: submit, status, logs, cancel, result")
    func clientCommands() async throws {
        let data = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try SpawnedServer(dataDirectory: data)
        defer { server.stop() }

        func kiln(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
            try server.runClient(arguments)
        }

        let submitted = try kiln(["submit", "--json", Harness.validBody])
        #expect(submitted.status == 0, "\(submitted.err)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(submitted.out.utf8)) as? [String: Any])
        let id = try #require(answer["request_id"] as? String)

        let status = try kiln(["status", id])
        #expect(status.status == 0)
        #expect(status.out.contains("IN_QUEUE"))

        let pending = try kiln(["result", id])
        #expect(pending.status != 0)
        #expect(pending.err.contains("in progress"))

        let invalid = try kiln(["submit", "--json", #"{"training_data_url":"https://e.com/a.zip","rank":3}"#])
        #expect(invalid.status != 0)
        #expect(invalid.err.contains("rank"))

        let cancel = try kiln(["cancel", id])
        #expect(cancel.status == 0)
        #expect(cancel.out.contains("CANCELLATION_REQUESTED"))

        let follow = try kiln(["logs", id, "--follow"])
        #expect(follow.status == 0)
        #expect(follow.err.contains("completed"))

        let result = try kiln(["result", id])
        #expect(result.status != 0)
        #expect(result.err.contains("cancelled by the user"))

        let missing = try kiln(["status", UUID().uuidString])
        #expect(missing.status != 0)
        #expect(missing.err.contains("404"))
    }
}
