import Foundation
import Testing
import KilnCore
@testable import KilnStore

/// File records and API keys.
@Suite struct FileAndKeyTests {
    @Test func filesByIdOwnerAndJob() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let job = try store.submit(owner: "alice", request: sampleRequest())
        let upload = StoredFile(id: "u1", owner: "alice", fileName: "clips.zip", contentType: "application/zip", size: 1234,
                                sha256: String(repeating: "ab", count: 32), relativePath: "files/u1/clips.zip", kind: .upload)
        let lora = StoredFile(id: "a1", owner: "alice", fileName: "lora.safetensors", contentType: "application/octet-stream",
                              size: 99, sha256: String(repeating: "cd", count: 32), relativePath: "files/a1/lora.safetensors",
                              kind: .artifact, jobID: job.id, createdAt: Date(timeIntervalSince1970: 1_000))
        let config = StoredFile(id: "a2", owner: "alice", fileName: "config.json", contentType: "application/json",
                                size: 9, sha256: String(repeating: "ef", count: 32), relativePath: "files/a2/config.json",
                                kind: .artifact, jobID: job.id, createdAt: Date(timeIntervalSince1970: 2_000))
        for file in [upload, config, lora] { try store.insertFile(file) }
        let read = try #require(try store.file(id: "u1", owner: "alice"))
        #expect(read.fileName == "clips.zip" && read.size == 1234 && read.kind == .upload && read.jobID == nil)
        #expect(read.sha256 == upload.sha256 && read.relativePath == upload.relativePath)
        #expect(try store.file(id: "u1", owner: "bob") == nil)
        #expect(try store.file(id: "u1")?.id == "u1")
        #expect(try store.file(id: "nope") == nil)
        #expect(try store.files(jobID: job.id).map(\.id) == ["a1", "a2"])
        #expect(try store.files(jobID: job.id).first == lora)
        #expect(throws: JobStoreError.self) { try store.insertFile(upload) }
        #expect(try store.deleteFile(id: "u1"))
        #expect(try !store.deleteFile(id: "u1"))
        #expect(try store.file(id: "u1") == nil)
    }

    @Test func keysCreateAuthenticateRevoke() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        #expect(try !store.hasActiveKeys())
        let first = try store.createKey(name: "laptop")
        let second = try store.createKey()
        #expect(first.id != second.id && first.secret != second.secret)
        #expect(first.secret.count == 64)
        #expect(try store.hasActiveKeys())
        #expect(try store.authenticate(id: first.id, secret: first.secret)?.name == "laptop")
        #expect(try store.authenticate(id: second.id, secret: second.secret)?.name == nil)
        #expect(try store.authenticate(id: first.id, secret: second.secret) == nil)
        #expect(try store.authenticate(id: first.id, secret: first.secret + "x") == nil)
        #expect(try store.authenticate(id: first.id, secret: "") == nil)
        #expect(try store.authenticate(id: "unknown", secret: first.secret) == nil)
        #expect(try store.listKeys().map(\.id).sorted() == [first.id, second.id].sorted())

        #expect(try store.revokeKey(id: first.id))
        #expect(try store.authenticate(id: first.id, secret: first.secret) == nil)
        #expect(try store.listKeys().first { $0.id == first.id }?.revokedAt != nil)
        #expect(try store.revokeKey(id: first.id))
        #expect(try !store.revokeKey(id: "unknown"))
        #expect(try store.hasActiveKeys())
        #expect(try store.revokeKey(id: second.id))
        #expect(try !store.hasActiveKeys())
    }

    @Test func onlyASaltedHashOfTheSecretIsStored() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let key = try store.createKey(name: "ci")
        let other = try store.createKey(name: "ci2")
        // Checkpoint the WAL so the main file holds everything, then look for the secret anywhere.
        try store.pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        for path in [folder.storePath, folder.storePath + "-wal"] {
            guard let bytes = FileManager.default.contents(atPath: path) else { continue }
            #expect(bytes.range(of: Data(key.secret.utf8)) == nil, "secret found in \(path)")
            #expect(bytes.range(of: Data(key.id.utf8)) != nil || path.hasSuffix("-wal"))
        }
        let hashes = try store.read("test") { db in try Data.fetchAll(db, sql: "SELECT hash FROM api_keys ORDER BY created_at") }
        #expect(hashes.count == 2 && hashes[0] != hashes[1] && hashes.allSatisfy { $0.count == 32 })
        _ = other
    }

    @Test func constantTimeCompare() {
        #expect(JobStore.constantTimeEqual(Data([1, 2, 3]), Data([1, 2, 3])))
        #expect(!JobStore.constantTimeEqual(Data([1, 2, 3]), Data([1, 2, 4])))
        #expect(!JobStore.constantTimeEqual(Data([1, 2, 3]), Data([1, 2])))
    }
}
