import Foundation
import KilnCore
import KilnDataset
import KilnStore
import Logging

/// Brings a validation prompt's `image_url` to a local file the engine can read: a file this
/// server stores is used in place, an http(s) URL is downloaded into the job's `inputs/`.
///
/// Downloads go through ``DatasetFetcher``, the same policy as `training_data_url`: a URL
/// that resolves (or redirects) to a loopback, private, link-local or metadata address is
/// refused unless the operator allowed private URLs, so a request cannot make the worker
/// read an internal service and show the answer in its validation video.
struct ValidationImageFetcher: Sendable {
    var store: JobStore
    var owner: String
    var dataDirectory: String
    var limits: DatasetLimits
    var logger: Logger
    /// Largest image accepted.
    var maxBytes: Int64 = 50 << 20

    func localPath(for text: String, index: Int, into folder: String) async throws -> String {
        let field = "validation[\(index)].image_url"
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else {
            throw JobFailure(statusCode: 422, type: "bad_validation_image", message: "\(field) \(text) is not a URL")
        }
        if url.isFileURL { return url.path }
        if let path = JobRunner.issuedFilePath(url, owner: owner, store: store, dataDirectory: dataDirectory) {
            return path
        }
        guard scheme == "http" || scheme == "https" else {
            throw JobFailure(statusCode: 422, type: "bad_validation_image", message: "\(field) \(text) is not an http(s) URL or a file uploaded to this server")
        }
        let ext = url.pathExtension.isEmpty ? "png" : url.pathExtension.lowercased()
        let destination = (folder as NSString).appendingPathComponent("validation_\(index).\(ext)")
        // Only a finished download is ever at `destination`, so a retried attempt can reuse it.
        if FileManager.default.fileExists(atPath: destination) { return destination }
        let partial = URL(fileURLWithPath: destination + ".part")
        var imageLimits = limits
        imageLimits.maxArchiveBytes = maxBytes
        imageLimits.fetchTimeout = min(limits.fetchTimeout, 300)
        do {
            try await DatasetFetcher(limits: imageLimits, logger: logger).fetch(url, to: partial)
            try FileManager.default.moveItem(at: partial, to: URL(fileURLWithPath: destination))
        } catch let error as DatasetError {
            try? FileManager.default.removeItem(at: partial)
            throw Self.failure(error, field: field)
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw JobFailure(statusCode: 500, type: "bad_validation_image", message: "could not store \(field) \(text): \(error)")
        }
        return destination
    }

    /// The user-facing failure for a download error, naming the request field at fault.
    static func failure(_ error: DatasetError, field: String) -> JobFailure {
        let message: String
        switch error {
        // The archive-specific remedies (split the dataset, upload the zip) do not fit an image.
        case let .archiveTooLarge(url, limit):
            message = "\(field) \(url) is larger than \(limit) bytes; use a smaller image"
        case let .fetchFailed(url, attempts, reason):
            message = "could not download \(field) \(url) after \(attempts) attempt(s): \(reason)"
        default:
            message = error.description(naming: field)
        }
        return JobFailure(statusCode: 400, type: "bad_validation_image", message: message)
    }
}
