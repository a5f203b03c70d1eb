import Foundation
import Logging
import Testing
import KilnCore
import KilnDataset
import KilnStore
@testable import KilnWorker

/// Validation images given as http(s) URLs are fetched under the training data's address
/// policy, from a real HTTP server on 127.0.0.1 (Python's http.server in a subprocess).
@Suite struct ValidationImageTests {
    /// Serves `folder` on 127.0.0.1 until released.
    static func folderServer(_ folder: URL) throws -> LocalPythonServer {
        try LocalPythonServer(script: """
            import functools, http.server, sys
            handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
            handler.func.log_message = lambda *a: None
            server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
            print(server.server_port, flush=True)
            server.serve_forever()
            """, arguments: [folder.path])
    }

    func fetcher(store: JobStore, dataDirectory: String, allowPrivate: Bool) -> ValidationImageFetcher {
        var limits = DatasetLimits(fetchAttempts: 1, allowPrivateURLs: allowPrivate)
        limits.fetchBackoff = 0.05
        return ValidationImageFetcher(store: store, owner: "o", dataDirectory: dataDirectory, limits: limits,
                                      logger: Logger(label: "test"))
    }

    @Test func aPrivateAddressIsRefusedNamingTheFieldAndLeavesNothing() async throws {
        let folder = try TemporaryFolder()
        let served = folder.url.appendingPathComponent("served")
        try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
        try Data([0x89, 0x50, 0x4E, 0x47]).write(to: served.appendingPathComponent("card.png"))
        let server = try Self.folderServer(served)
        let inputs = folder.url.appendingPathComponent("inputs")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        let store = try JobStore(path: folder.url.appendingPathComponent("kiln.sqlite").path)

        let refusing = fetcher(store: store, dataDirectory: folder.path, allowPrivate: false)
        let error = await #expect(throws: JobFailure.self) {
            try await refusing.localPath(for: server.url("/card.png"), index: 1, into: inputs.path)
        }
        #expect(error?.type == "bad_validation_image")
        #expect(error?.statusCode == 400)
        #expect(error?.message.contains("validation[1].image_url") == true)
        #expect(error?.message.contains("127.0.0.1") == true && error?.message.contains("private") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: inputs.path).isEmpty)

        let allowing = fetcher(store: store, dataDirectory: folder.path, allowPrivate: true)
        let path = try await allowing.localPath(for: server.url("/card.png"), index: 1, into: inputs.path)
        #expect(FileManager.default.contents(atPath: path) == Data([0x89, 0x50, 0x4E, 0x47]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: inputs.path) == ["validation_1.png"])

        let missing = await #expect(throws: JobFailure.self) {
            try await allowing.localPath(for: server.url("/gone.png"), index: 0, into: inputs.path)
        }
        #expect(missing?.message.contains("validation[0].image_url") == true && missing?.message.contains("404") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: inputs.path) == ["validation_1.png"])
    }
}
