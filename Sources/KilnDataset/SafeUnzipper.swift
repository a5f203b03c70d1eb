import Foundation
import ZIPFoundation

/// Checks a zip against path, type and size rules, then extracts chosen entries under a folder.
///
/// The whole archive is refused when any entry is hostile, even one that would be ignored:
/// an archive built to attack is not trusted for its other entries either.
struct SafeUnzipper: Sendable {
    var limits: DatasetLimits

    /// Entries smaller than this are exempt from the ratio check (a small text file of spaces is harmless).
    static let ratioExemptBytes: UInt64 = 1 << 20

    /// Reads and checks the directory; returns the regular files' paths in archive order.
    func inspect(_ archive: URL, displayName: String) throws(DatasetError) -> [ZipDirectoryEntry] {
        let entries = try ZipDirectory.read(archive, displayName: displayName)
        guard entries.count <= limits.maxEntries else { throw .tooManyEntries(count: entries.count, limit: limits.maxEntries) }
        var total: UInt64 = 0
        for entry in entries {
            guard Self.isSafePath(entry.path) else { throw .unsafeEntryPath(entry: entry.path) }
            if let type = entry.unixFileType, type != 0o100000, type != 0o040000 {
                throw .unsafeEntryType(entry: entry.path, type: Self.typeName(type))
            }
            if entry.isEncrypted { throw .encryptedArchive(entry: entry.path) }
            if entry.isDirectory { continue }
            if entry.uncompressedSize > UInt64(limits.maxEntryBytes) {
                throw .decompressionLimit(entry: entry.path, reason: "declares \(entry.uncompressedSize) bytes, over the per-file limit of \(limits.maxEntryBytes)")
            }
            if entry.uncompressedSize > Self.ratioExemptBytes,
               Double(entry.uncompressedSize) / Double(max(entry.compressedSize, 1)) > limits.maxCompressionRatio {
                throw .decompressionLimit(entry: entry.path, reason: "expands \(entry.compressedSize) to \(entry.uncompressedSize) bytes, over the ratio limit of \(Int(limits.maxCompressionRatio))")
            }
            total += entry.uncompressedSize
            if total > UInt64(limits.maxTotalUncompressedBytes) {
                throw .decompressionLimit(entry: entry.path, reason: "brings the archive to \(total) bytes, over the total limit of \(limits.maxTotalUncompressedBytes)")
            }
        }
        return entries
    }

    /// Extracts the entries at `selected` (directory index -> entry checked by `inspect`) into
    /// `folder`, enforcing the caps on the bytes actually written, so an archive that lies about
    /// its sizes stops at the cap. Entries are matched by position because ZIPFoundation and the
    /// directory reader may decode non-UTF-8 names differently.
    func extract(_ archive: URL, displayName: String, selected: [Int: ZipDirectoryEntry],
                 into folder: URL) throws(DatasetError) -> [String: URL] {
        let zip: Archive
        do { zip = try Archive(url: archive, accessMode: .read) } catch {
            throw .corruptArchive(source: displayName, reason: "\(error)")
        }
        let root = folder.standardizedFileURL.path
        var written: [String: URL] = [:]
        var total: Int64 = 0
        for (index, entry) in zip.enumerated() {
            guard let checked = selected[index] else { continue }
            guard entry.type == .file else { throw .unsafeEntryType(entry: checked.path, type: "non-regular file") }
            let name = checked.path
            let target = folder.appendingPathComponent(name).standardizedFileURL
            guard target.path.hasPrefix(root + "/") else { throw .unsafeEntryPath(entry: name) }
            let entryCap = Int64(min(checked.uncompressedSize, UInt64(limits.maxEntryBytes)))
            do {
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                guard FileManager.default.createFile(atPath: target.path, contents: nil) else {
                    throw DatasetError.outputFailed(path: target.path, reason: "cannot create file")
                }
                let out = try FileHandle(forWritingTo: target)
                defer { try? out.close() }
                var size: Int64 = 0
                let maxTotal = limits.maxTotalUncompressedBytes
                _ = try zip.extract(entry, skipCRC32: false) { chunk in
                    size += Int64(chunk.count)
                    total += Int64(chunk.count)
                    if size > entryCap {
                        throw DatasetError.decompressionLimit(entry: name, reason: "expands beyond its declared size of \(entryCap) bytes")
                    }
                    if total > maxTotal {
                        throw DatasetError.decompressionLimit(entry: name, reason: "brings the archive over the total limit of \(maxTotal) bytes")
                    }
                    try out.write(contentsOf: chunk)
                }
            } catch let error as DatasetError {
                throw error
            } catch {
                throw .corruptArchive(source: displayName, reason: "entry \(name) does not extract: \(error)")
            }
            written[name] = target
        }
        return written
    }

    /// Relative, without `..`, drive letters or NUL; backslashes count as separators.
    static func isSafePath(_ path: String) -> Bool {
        if path.isEmpty || path.contains("\0") { return false }
        if path.hasPrefix("/") || path.hasPrefix("\\") { return false }
        let chars = Array(path)
        if chars.count >= 2, chars[1] == ":", chars[0].isLetter { return false }
        let parts = path.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        return !parts.contains("..")
    }

    static func typeName(_ type: UInt32) -> String {
        switch type {
        case 0o120000: return "symbolic link"
        case 0o020000: return "character device"
        case 0o060000: return "block device"
        case 0o010000: return "FIFO"
        case 0o140000: return "socket"
        default: return "special file"
        }
    }
}
