import Foundation

/// One central-directory record of a zip, read without trusting the archive.
///
/// ZIPFoundation hides the encryption flag and the raw Unix mode, and both are needed to refuse
/// hostile archives before anything is extracted, so the directory is parsed here.
struct ZipDirectoryEntry: Sendable, Equatable {
    /// Path as stored (UTF-8, lossy).
    var path: String
    /// General-purpose flag bit 0.
    var isEncrypted: Bool
    /// Unix file type bits (`S_IFMT`) when the archive was made on Unix/macOS, else nil.
    var unixFileType: UInt32?
    /// Declared sizes.
    var compressedSize: UInt64
    var uncompressedSize: UInt64
    /// Whether the entry is a folder.
    var isDirectory: Bool { path.hasSuffix("/") || unixFileType == 0o040000 }
}

/// Reads the central directory of a zip file.
enum ZipDirectory {
    static let maxDirectoryBytes = 256 << 20

    /// Parses the central directory of `url`; throws `corruptArchive` when it is not a readable zip.
    static func read(_ url: URL, displayName: String) throws(DatasetError) -> [ZipDirectoryEntry] {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw .unreadableFile(path: displayName, reason: "\(error.localizedDescription)")
        }
        defer { try? handle.close() }
        do {
            let fileSize = try handle.seekToEnd()
            guard fileSize >= 22 else { throw DatasetError.corruptArchive(source: displayName, reason: fileSize == 0 ? "empty file" : "too short") }
            let tailLength = min(fileSize, 65_557)
            try handle.seek(toOffset: fileSize - tailLength)
            let tail = try handle.read(upToCount: Int(tailLength)) ?? Data()
            let bytes = [UInt8](tail)
            var eocd = -1
            var i = bytes.count - 22
            while i >= 0 {
                if bytes[i] == 0x50, bytes[i + 1] == 0x4b, bytes[i + 2] == 0x05, bytes[i + 3] == 0x06 { eocd = i; break }
                i -= 1
            }
            guard eocd >= 0 else {
                throw DatasetError.corruptArchive(source: displayName, reason: "no end-of-central-directory record; the file is truncated or not a zip")
            }
            var count = UInt64(le16(bytes, eocd + 10))
            var dirSize = UInt64(le32(bytes, eocd + 12))
            var dirOffset = UInt64(le32(bytes, eocd + 16))
            if count == 0xFFFF || dirSize == 0xFFFF_FFFF || dirOffset == 0xFFFF_FFFF {
                // ZIP64: the locator sits just before the classic record.
                let loc = eocd - 20
                guard loc >= 0, le32(bytes, loc) == 0x0706_4b50 else {
                    throw DatasetError.corruptArchive(source: displayName, reason: "missing ZIP64 locator")
                }
                let z64Offset = le64(bytes, loc + 8)
                guard z64Offset + 56 <= fileSize else { throw DatasetError.corruptArchive(source: displayName, reason: "bad ZIP64 record offset") }
                try handle.seek(toOffset: z64Offset)
                let rec = [UInt8](try handle.read(upToCount: 56) ?? Data())
                guard rec.count == 56, le32(rec, 0) == 0x0606_4b50 else {
                    throw DatasetError.corruptArchive(source: displayName, reason: "bad ZIP64 end record")
                }
                count = le64(rec, 32); dirSize = le64(rec, 40); dirOffset = le64(rec, 48)
            }
            guard dirOffset + dirSize <= fileSize else {
                throw DatasetError.corruptArchive(source: displayName, reason: "central directory lies beyond the end of the file (truncated)")
            }
            guard dirSize <= UInt64(maxDirectoryBytes) else {
                throw DatasetError.corruptArchive(source: displayName, reason: "central directory of \(dirSize) bytes is too large")
            }
            try handle.seek(toOffset: dirOffset)
            let dir = [UInt8](try handle.read(upToCount: Int(dirSize)) ?? Data())
            var entries: [ZipDirectoryEntry] = []
            var p = 0
            while entries.count < count {
                guard p + 46 <= dir.count, le32(dir, p) == 0x0201_4b50 else {
                    throw DatasetError.corruptArchive(source: displayName, reason: "damaged central directory at entry \(entries.count + 1)")
                }
                let madeBy = le16(dir, p + 4) >> 8
                let flags = le16(dir, p + 8)
                var compressed = UInt64(le32(dir, p + 20))
                var uncompressed = UInt64(le32(dir, p + 24))
                let nameLength = Int(le16(dir, p + 28))
                let extraLength = Int(le16(dir, p + 30))
                let commentLength = Int(le16(dir, p + 32))
                let external = le32(dir, p + 38)
                let end = p + 46 + nameLength + extraLength + commentLength
                guard end <= dir.count else {
                    throw DatasetError.corruptArchive(source: displayName, reason: "damaged central directory at entry \(entries.count + 1)")
                }
                let name = String(decoding: dir[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
                // ZIP64 extra field: 64-bit sizes for the fields saturated at 0xFFFFFFFF, in this order.
                var e = p + 46 + nameLength
                let extraEnd = e + extraLength
                while e + 4 <= extraEnd {
                    let id = le16(dir, e), size = Int(le16(dir, e + 2))
                    if id == 0x0001 {
                        var f = e + 4
                        if uncompressed == 0xFFFF_FFFF, f + 8 <= e + 4 + size { uncompressed = le64(dir, f); f += 8 }
                        if compressed == 0xFFFF_FFFF, f + 8 <= e + 4 + size { compressed = le64(dir, f); f += 8 }
                    }
                    e += 4 + size
                }
                let unixType: UInt32? = (madeBy == 3 || madeBy == 19) ? (external >> 16) & 0o170000 : nil
                entries.append(ZipDirectoryEntry(path: name, isEncrypted: flags & 1 != 0,
                                                 unixFileType: unixType == 0 ? nil : unixType,
                                                 compressedSize: compressed, uncompressedSize: uncompressed))
                p = end
            }
            return entries
        } catch let error as DatasetError {
            throw error
        } catch {
            throw .corruptArchive(source: displayName, reason: "\(error.localizedDescription)")
        }
    }

    private static func le16(_ b: [UInt8], _ o: Int) -> UInt32 { UInt32(b[o]) | UInt32(b[o + 1]) << 8 }
    private static func le32(_ b: [UInt8], _ o: Int) -> UInt32 { le16(b, o) | le16(b, o + 2) << 16 }
    private static func le64(_ b: [UInt8], _ o: Int) -> UInt64 { UInt64(le32(b, o)) | UInt64(le32(b, o + 4)) << 32 }
}
