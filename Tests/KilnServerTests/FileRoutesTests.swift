import AsyncHTTPClient
import Foundation
import KilnCore
import KilnServer
import KilnStore
import NIOCore
import Testing

@Suite("Files: upload, cap, Range")
struct FileRoutesTests {
    static func filesLeft(_ harness: Harness) -> [String] {
        let folder = (harness.dataDirectory as NSString).appendingPathComponent("files")
        return (FileManager.default.subpaths(atPath: folder) ?? [])
    }

    @Test("a raw upload answers 201 with a File object whose URL serves the bytes, whole and by Range")
    func rawUploadAndRange() async throws {
        let harness = try Harness()
        try await harness.run { api in
            let bytes = Data((0..<1000).map { UInt8($0 % 251) })
            let answer = try await api.send(.POST, "/files", headers: [("X-File-Name", "clips.zip"), ("Content-Type", "application/zip")], body: bytes)
            #expect(answer.status == 201)
            let url = try #require(answer.json["url"] as? String)
            #expect(url.hasPrefix(api.base + "/files/"))
            #expect(url.hasSuffix("/clips.zip"))
            #expect(answer.json["file_name"] as? String == "clips.zip")
            #expect(answer.json["content_type"] as? String == "application/zip")
            #expect(answer.json["file_size"] as? Int == 1000)

            let whole = try await api.send(.GET, url)
            #expect(whole.status == 200)
            #expect(whole.body == bytes)
            #expect(whole.headers.first(name: "accept-ranges") == "bytes")

            let middle = try await api.send(.GET, url, headers: [("Range", "bytes=10-19")])
            #expect(middle.status == 206)
            #expect(middle.body == bytes[10...19])
            #expect(middle.headers.first(name: "content-range") == "bytes 10-19/1000")

            let open = try await api.send(.GET, url, headers: [("Range", "bytes=990-")])
            #expect(open.status == 206)
            #expect(open.body == bytes[990...])

            let suffix = try await api.send(.GET, url, headers: [("Range", "bytes=-5")])
            #expect(suffix.body == bytes[995...])

            let past = try await api.send(.GET, url, headers: [("Range", "bytes=5000-")])
            #expect(past.status == 416)
            #expect(past.headers.first(name: "content-range") == "bytes */1000")

            let head = try await api.send(.HEAD, url)
            #expect(head.status == 200)
            #expect(head.body.isEmpty)

            let wrongName = try await api.send(.GET, url.replacingOccurrences(of: "clips.zip", with: "other.zip"))
            #expect(wrongName.status == 404)

            let stored = try #require(try harness.store.file(id: String(url.split(separator: "/").dropLast().last!)))
            #expect(stored.size == 1000)
            #expect(stored.sha256.count == 64)
        }
    }

    @Test("a multipart upload stores the file part under its filename")
    func multipart() async throws {
        let harness = try Harness()
        try await harness.run { api in
            let boundary = "kiln-test-boundary"
            var body = Data()
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".utf8))
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.zip\"\r\nContent-Type: application/zip\r\n\r\n".utf8))
            body.append(Data("PK-not-really-a-zip".utf8))
            body.append(Data("\r\n--\(boundary)--\r\n".utf8))
            let answer = try await api.send(.POST, "/files", headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: body)
            #expect(answer.status == 201, "\(answer.text)")
            #expect(answer.json["file_name"] as? String == "data.zip")
            #expect(answer.json["content_type"] as? String == "application/zip")
            let url = try #require(answer.json["url"] as? String)
            #expect(try await api.send(.GET, url).text == "PK-not-really-a-zip")

            let noFile = "--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--\(boundary)--\r\n"
            let refused = try await api.send(.POST, "/files", headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: Data(noFile.utf8))
            #expect(refused.status == 400)
        }
    }

    @Test("uploads over the cap are 413 and leave nothing on disk, with or without Content-Length")
    func cap() async throws {
        let harness = try Harness(maxUploadSize: 1000)
        try await harness.run { api in
            let declared = try await api.send(.POST, "/files", headers: [("X-File-Name", "big.bin")], body: Data(count: 1001))
            #expect(declared.status == 413)
            #expect(declared.json["detail"] is String)

            // Chunked, so the server only finds out while streaming.
            var request = HTTPClientRequest(url: api.base + "/files")
            request.method = .POST
            request.headers.add(name: "X-File-Name", value: "big.bin")
            let chunks = (0..<8).map { _ in ByteBuffer(repeating: 7, count: 400) }
            request.body = .stream(chunks.async, length: .unknown)
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.status.code == 413)
            #expect(Self.filesLeft(harness).isEmpty, "left: \(Self.filesLeft(harness))")

            let exact = try await api.send(.POST, "/files", headers: [("X-File-Name", "ok.bin")], body: Data(count: 1000))
            #expect(exact.status == 201)
        }
    }

    @Test("bad upload input is a 400 naming the problem")
    func badUploads() async throws {
        let harness = try Harness()
        try await harness.run { api in
            let noName = try await api.send(.POST, "/files", body: Data("x".utf8))
            #expect(noName.status == 400)
            #expect((noName.json["detail"] as? String)?.contains("X-File-Name") == true)
            let traversal = try await api.send(.POST, "/files", headers: [("X-File-Name", "../../etc/passwd")], body: Data("x".utf8))
            #expect(traversal.status == 400)
            #expect((traversal.json["detail"] as? String)?.contains("X-File-Name") == true)
            let empty = try await api.send(.POST, "/files", headers: [("X-File-Name", "e.zip")], body: Data())
            #expect(empty.status == 400)
            #expect(Self.filesLeft(harness).isEmpty)
        }
    }

    @Test("a training_data_url naming an uploaded file is accepted; an unknown one of ours is not")
    func issuedFileURL() async throws {
        let harness = try Harness()
        try await harness.run { api in
            let upload = try await api.send(.POST, "/files", headers: [("X-File-Name", "d.zip")], body: Data("zip".utf8))
            let url = try #require(upload.json["url"] as? String)
            let ok = try await api.submit(#"{"training_data_url":"\#(url)"}"#)
            #expect(ok.status == 200)
            // http(s) URLs are always allowed, so only a non-http scheme can tell the two apart.
            let unknown = try await api.submit(#"{"training_data_url":"file:///etc/passwd"}"#)
            #expect(unknown.status == 422)
        }
    }
}

extension Array where Element: Sendable {
    /// An `AsyncSequence` over the array, for streaming request bodies.
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}
