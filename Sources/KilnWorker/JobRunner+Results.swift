import Crypto
import Foundation
import KilnCore
import KilnEngine
import KilnStore

extension JobRunner {
    /// One output file: where it comes from, the name it is served under and its MIME type.
    struct ResultFile {
        var key: String
        var source: String
        var fileName: String
        var contentType: String
    }

    /// Copies the engine's artifacts (and the debug zip) into `outputs/`, registers each as a file
    /// owned by the job's owner, and returns the fal output JSON.
    func registerResults(
        _ job: Job, folder: JobFolder, outcome: EngineOutcome, debugZip: String?, reporter: JobReporter
    ) throws -> Data {
        guard let lora = outcome.artifact(.lora) else {
            throw JobFailure(statusCode: 500, type: "training_failed", message: "the engine finished without writing the LoRA file")
        }
        guard let config = outcome.artifact(.config) else {
            throw JobFailure(statusCode: 500, type: "training_failed", message: "the engine finished without writing the config file")
        }
        var files = [
            ResultFile(key: "lora_file", source: absolute(lora.path, folder), fileName: "lora_weights.safetensors",
                       contentType: "application/octet-stream"),
            ResultFile(key: "config_file", source: absolute(config.path, folder), fileName: "config.json",
                       contentType: "application/json"),
        ]
        if let video = outcome.artifact(.video) {
            files.append(ResultFile(key: "video", source: absolute(video.path, folder), fileName: "validation.mp4",
                                    contentType: "video/mp4"))
        }
        if job.request.debugDataset, let debugZip, FileManager.default.fileExists(atPath: debugZip) {
            files.append(ResultFile(key: "debug_dataset", source: debugZip, fileName: "debug_dataset.zip",
                                    contentType: "application/zip"))
        }

        // A repeated export (after a crash mid-way) replaces what an earlier attempt registered.
        for old in try store.files(jobID: job.id) { try store.deleteFile(id: old.id) }

        let base = configuration.publicBaseURL()
        var output: [String: FalFile?] = ["video": nil, "debug_dataset": nil]
        for file in files {
            let id = UUID().uuidString.lowercased()
            let folderName = (folder.outputs as NSString).appendingPathComponent(id)
            try FileManager.default.createDirectory(atPath: folderName, withIntermediateDirectories: true)
            let destination = (folderName as NSString).appendingPathComponent(file.fileName)
            try Self.linkOrCopy(file.source, to: destination)
            let (size, sha) = try Self.sizeAndSHA256(of: destination)
            let relative = Self.relativePath(destination, to: configuration.dataDirectory)
            let stored = StoredFile(
                id: id, owner: job.owner, fileName: file.fileName, contentType: file.contentType, size: size, sha256: sha,
                relativePath: relative, kind: .artifact, jobID: job.id)
            try store.insertFile(stored)
            output[file.key] = FalFile(url: stored.url(base: base), contentType: file.contentType,
                                       fileName: file.fileName, fileSize: size)
            reporter.log("output \(file.key): \(file.fileName) (\(size) bytes)", source: "worker")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(output)
    }

    private func absolute(_ path: String, _ folder: JobFolder) -> String {
        path.hasPrefix("/") ? path : (folder.engine as NSString).appendingPathComponent(path)
    }

    /// `path` relative to `base` when inside it, else `path` unchanged.
    static func relativePath(_ path: String, to base: String) -> String {
        let standardBase = URL(fileURLWithPath: base).standardizedFileURL.path
        let standardPath = URL(fileURLWithPath: path).standardizedFileURL.path
        let prefix = standardBase.hasSuffix("/") ? standardBase : standardBase + "/"
        return standardPath.hasPrefix(prefix) ? String(standardPath.dropFirst(prefix.count)) : standardPath
    }

    /// A hard link when possible (same disk, no copy of a large LoRA), else a copy.
    static func linkOrCopy(_ source: String, to destination: String) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: destination) { try fm.removeItem(atPath: destination) }
        if link(source, destination) == 0 { return }
        try fm.copyItem(atPath: source, toPath: destination)
    }

    /// Size and lowercase hex SHA-256 of a file, read in 1 MiB pieces.
    static func sizeAndSHA256(of path: String) throws -> (Int64, String) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw JobFailure(statusCode: 500, type: "internal_error", message: "cannot read output file \(path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (size, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }
}
