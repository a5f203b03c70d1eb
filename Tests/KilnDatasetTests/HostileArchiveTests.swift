import Foundation
import Testing
@testable import KilnDataset

/// Every hostile or broken archive is refused with a clear error, and nothing is written
/// outside the job folder (nor a dataset inside it).
@Suite struct HostileArchiveTests {
    /// Builds an archive with Python's zipfile: `entries` is a Python list literal of
    /// (name, data, unix_mode) tuples.
    static func pythonZip(_ zip: URL, entries: String, compression: String = "ZIP_DEFLATED") throws {
        try Fixtures.python("""
        import sys, zipfile
        with zipfile.ZipFile(sys.argv[1], 'w', zipfile.\(compression)) as z:
            for name, data, mode in \(entries):
                info = zipfile.ZipInfo(name)
                info.create_system = 3
                info.external_attr = mode << 16
                info.compress_type = zipfile.\(compression)
                z.writestr(info, data)
        """, [zip.path])
    }

    /// Runs the preparer on `zip` inside `root/job` and returns the error it threw.
    static func refuse(_ zip: URL, root: URL, limits: DatasetLimits = DatasetLimits()) async throws -> DatasetError {
        let job = root.appendingPathComponent("job")
        let before = Fixtures.listing(root).filter { !$0.hasPrefix("job") }
        let error = await #expect(throws: DatasetError.self) {
            _ = try await DatasetPreparer(options: DatasetOptions(resolution: .low), limits: limits)
                .prepare(source: .localFile(zip), into: job)
        }
        // Nothing new outside the job folder, and the job folder holds nothing.
        let after = Fixtures.listing(root).filter { !$0.hasPrefix("job") }
        #expect(after == before, "files appeared outside the job folder")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: job.path)) ?? [] == [])
        return try #require(error)
    }

    @Test func zipSlipIsRefused() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let zip = root.appendingPathComponent("slip.zip")
        try Self.pythonZip(zip, entries: "[('ok.mp4', b'x', 0o100644), ('a/../../evil.mp4', b'x', 0o100644)]")
        let error = try await Self.refuse(zip, root: root)
        #expect(error == .unsafeEntryPath(entry: "a/../../evil.mp4"))
        #expect(error.description.contains("a/../../evil.mp4"))
    }

    @Test func absolutePathIsRefused() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let zip = root.appendingPathComponent("abs.zip")
        let target = root.appendingPathComponent("abs-evil.mp4").path
        try Self.pythonZip(zip, entries: "[('\(target)', b'x', 0o100644)]")
        let error = try await Self.refuse(zip, root: root)
        guard case let .unsafeEntryPath(entry) = error else { Issue.record("wrong error \(error)"); return }
        #expect(entry.hasPrefix("/"))
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test func symlinkAndDeviceAreRefused() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let link = root.appendingPathComponent("link.zip")
        try Self.pythonZip(link, entries: "[('clip.mp4', b'/etc/passwd', 0o120777)]")
        #expect(try await Self.refuse(link, root: root) == .unsafeEntryType(entry: "clip.mp4", type: "symbolic link"))
        let device = root.appendingPathComponent("dev.zip")
        try Self.pythonZip(device, entries: "[('tty.mp4', b'', 0o020644)]")
        #expect(try await Self.refuse(device, root: root) == .unsafeEntryType(entry: "tty.mp4", type: "character device"))
    }

    @Test func zipBombIsRefused() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let zip = root.appendingPathComponent("bomb.zip")
        try Self.pythonZip(zip, entries: "[('bomb.mp4', b'\\0' * (20 << 20), 0o100644)]")
        let error = try await Self.refuse(zip, root: root)
        guard case let .decompressionLimit(entry, reason) = error else { Issue.record("wrong error \(error)"); return }
        #expect(entry == "bomb.mp4" && reason.contains("ratio"))
        // Per-entry and total caps.
        let big = root.appendingPathComponent("big.zip")
        try Self.pythonZip(big, entries: "[('a.mp4', b'x' * 4000, 0o100644), ('b.mp4', b'y' * 4000, 0o100644)]", compression: "ZIP_STORED")
        guard case .decompressionLimit(entry: "a.mp4", _) = try await Self.refuse(big, root: root, limits: DatasetLimits(maxEntryBytes: 1000)) else {
            Issue.record("per-entry cap not enforced"); return
        }
        guard case .decompressionLimit(entry: "b.mp4", _) = try await Self.refuse(big, root: root, limits: DatasetLimits(maxTotalUncompressedBytes: 6000)) else {
            Issue.record("total cap not enforced"); return
        }
    }

    @Test func entryLyingAboutItsSizeStopsAtTheCap() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let zip = root.appendingPathComponent("liar.zip")
        try Self.pythonZip(zip, entries: "[('liar.mp4', b'z' * 300000, 0o100644)]")
        // Declare 100 bytes in the central directory (offset 24 of its record) and the local header (offset 22).
        try Fixtures.python("""
        import sys, struct
        p = sys.argv[1]
        b = bytearray(open(p, 'rb').read())
        cd = b.rfind(b'PK\\x01\\x02'); struct.pack_into('<I', b, cd + 24, 100)
        struct.pack_into('<I', b, 22, 100)
        open(p, 'wb').write(bytes(b))
        """, [zip.path])
        let error = try await Self.refuse(zip, root: root)
        switch error {
        case .decompressionLimit(entry: "liar.mp4", _), .corruptArchive: break
        default: Issue.record("wrong error \(error)")
        }
    }

    @Test func encryptedArchiveIsRefused() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let src = root.appendingPathComponent("src")
        try Fixtures.write("secret", to: src.appendingPathComponent("clip.mp4"))
        let zip = root.appendingPathComponent("enc.zip")
        try Fixtures.run("zip", ["-q", "-P", "pw", zip.path, "clip.mp4"], in: src)
        #expect(try await Self.refuse(zip, root: root) == .encryptedArchive(entry: "clip.mp4"))
    }

    @Test func truncatedEmptyAndNonZipAreRefused() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let src = root.appendingPathComponent("src")
        try Fixtures.write(String(repeating: "data ", count: 2000), to: src.appendingPathComponent("clip.mp4"))
        let good = root.appendingPathComponent("good.zip")
        try Fixtures.zip(src, to: good)
        let bytes = try Data(contentsOf: good)
        let truncated = root.appendingPathComponent("truncated.zip")
        try bytes.prefix(bytes.count - 30).write(to: truncated)
        guard case .corruptArchive = try await Self.refuse(truncated, root: root) else { Issue.record("truncated accepted"); return }

        let empty = root.appendingPathComponent("empty.zip")
        try Fixtures.python("import sys, zipfile; zipfile.ZipFile(sys.argv[1], 'w').close()", [empty.path])
        #expect(try await Self.refuse(empty, root: root) == .noMedia(ignored: 0))

        let text = root.appendingPathComponent("text.zip")
        try Fixtures.write("this is not a zip, just some text that is long enough", to: text)
        let error = try await Self.refuse(text, root: root)
        guard case .corruptArchive = error else { Issue.record("text accepted: \(error)"); return }
        #expect(error.description.contains("text.zip"))

        let missing = root.appendingPathComponent("missing.zip")
        guard case .unreadableFile = try await Self.refuse(missing, root: root) else { Issue.record("missing accepted"); return }
    }

    @Test func mixedVideosAndImagesAreRefused() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let zip = root.appendingPathComponent("mixed.zip")
        try Self.pythonZip(zip, entries: "[('a/clip.MOV', b'x', 0o100644), ('b/photo.JPG', b'x', 0o100644), ('notes.txt', b'x', 0o100644)]")
        let error = try await Self.refuse(zip, root: root)
        #expect(error == .mixedMedia(video: "a/clip.MOV", image: "b/photo.JPG"))
        #expect(error.description.contains("a/clip.MOV") && error.description.contains("b/photo.JPG"))
    }

    @Test func undecodableFilesAreDroppedWithAReason() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let zip = root.appendingPathComponent("junk.zip")
        try Self.pythonZip(zip, entries: "[('fake.mp4', b'not a video at all', 0o100644)]")
        let error = try await Self.refuse(zip, root: root)
        guard case let .nothingUsable(dropped, reason) = error else { Issue.record("wrong error \(error)"); return }
        #expect(dropped == 1 && reason.contains("fake.mp4"))
    }
}
