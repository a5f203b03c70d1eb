import Crypto
import Foundation
import Hummingbird

/// Why an upload could not be stored.
public enum UploadError: Error, CustomStringConvertible, Sendable {
    /// The body grew past the configured cap; nothing was kept.
    case tooLarge(limit: Int64)
    /// The destination could not be created or written.
    case io(path: String, reason: String)

    /// What went wrong and what to do.
    public var description: String {
        switch self {
        case .tooLarge(let limit):
            return "upload exceeds the server's limit of \(limit) bytes; split the data or raise --max-upload-size"
        case .io(let path, let reason):
            return "could not write upload to \(path): \(reason)"
        }
    }
}

/// Writes an upload to disk chunk by chunk, hashing as it goes, and enforces a size cap.
///
/// The file is written under a temporary name and only renamed into place by ``finish()``,
/// so an aborted or oversize upload leaves nothing behind once ``discard()`` runs.
public final class UploadSink {
    /// Folder the file lands in (one folder per stored file).
    public let folder: String
    private let temporaryPath: String
    private let limit: Int64
    private var handle: FileHandle?
    private var hasher = SHA256()
    /// Bytes written so far.
    public private(set) var size: Int64 = 0

    /// Creates `folder` and an empty temporary file inside it.
    public init(folder: String, limit: Int64) throws {
        self.folder = folder
        self.temporaryPath = (folder as NSString).appendingPathComponent(".upload.partial")
        self.limit = limit
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw UploadError.io(path: folder, reason: "\(error)")
        }
        guard FileManager.default.createFile(atPath: temporaryPath, contents: nil) else {
            throw UploadError.io(path: temporaryPath, reason: "cannot create file")
        }
        guard let handle = FileHandle(forWritingAtPath: temporaryPath) else {
            throw UploadError.io(path: temporaryPath, reason: "cannot open file")
        }
        self.handle = handle
    }

    /// Appends bytes; throws ``UploadError/tooLarge(limit:)`` once the cap is passed.
    public func write(_ buffer: ByteBuffer) throws {
        let count = Int64(buffer.readableBytes)
        guard size + count <= limit else { throw UploadError.tooLarge(limit: limit) }
        size += count
        buffer.withUnsafeReadableBytes { raw in
            hasher.update(bufferPointer: raw)
            handle?.write(Data(raw))
        }
    }

    /// Closes the file, moves it to `folder/fileName` and returns the hex SHA-256 of its bytes.
    public func finish(fileName: String) throws -> String {
        try handle?.close()
        handle = nil
        let path = (folder as NSString).appendingPathComponent(fileName)
        do {
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: temporaryPath, toPath: path)
        } catch {
            throw UploadError.io(path: path, reason: "\(error)")
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Removes everything written, including the file's own folder when it is left empty.
    public func discard() {
        try? handle?.close()
        handle = nil
        try? FileManager.default.removeItem(atPath: temporaryPath)
        if let items = try? FileManager.default.contentsOfDirectory(atPath: folder), items.isEmpty {
            try? FileManager.default.removeItem(atPath: folder)
        }
    }
}
