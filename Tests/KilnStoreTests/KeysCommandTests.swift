import Foundation
import Testing
import KilnCore
@testable import KilnStore

/// `kiln keys create|list|revoke` run as a real process against a real store.
@Suite struct KeysCommandTests {
    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func kiln(_ arguments: [String], environment: [String: String] = [:]) throws -> Output {
        let binary = try #require(ClaimRaceTests.kilnBinary(), "the kiln executable is not built; run `swift build --build-tests`")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func createListRevoke() throws {
        let folder = try TemporaryFolder()
        let dataDir = folder.url.appendingPathComponent("data").path
        let created = try Self.kiln(["keys", "create", "--name", "ci runner", "--data-dir", dataDir])
        #expect(created.status == 0, "\(created.stderr)")
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let credential = try #require(APIKeyCredential(token), "printed \(created.stdout)")
        #expect(created.stderr.contains("cannot be shown again"))

        let store = try JobStore(dataDirectory: dataDir)
        #expect(try store.authenticate(id: credential.id, secret: credential.secret)?.name == "ci runner")

        let listed = try Self.kiln(["keys", "list", "--data-dir", dataDir])
        #expect(listed.status == 0)
        #expect(listed.stdout.contains(credential.id) && listed.stdout.contains("ci runner") && listed.stdout.contains("active"))
        #expect(!listed.stdout.contains(credential.secret))

        // KILN_DATA_DIR is honoured when --data-dir is absent.
        let json = try Self.kiln(["keys", "list", "--json"], environment: ["KILN_DATA_DIR": dataDir])
        let keys = try JSONDecoder.iso8601.decode([APIKey].self, from: Data(json.stdout.utf8))
        #expect(keys.map(\.id) == [credential.id])

        let revoked = try Self.kiln(["keys", "revoke", credential.id, "--data-dir", dataDir])
        #expect(revoked.status == 0)
        #expect(try store.authenticate(id: credential.id, secret: credential.secret) == nil)
        #expect(try Self.kiln(["keys", "list", "--data-dir", dataDir]).stdout.contains("revoked"))

        let unknown = try Self.kiln(["keys", "revoke", "no-such-key", "--data-dir", dataDir])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no key with id no-such-key"))
    }
}

extension JSONDecoder {
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
