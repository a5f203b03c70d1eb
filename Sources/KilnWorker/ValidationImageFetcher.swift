import AsyncHTTPClient
import Foundation
import KilnCore
import KilnDataset
import KilnStore
import NIOCore

/// Brings a validation prompt's `image_url` to a local file the engine can read: a file this
/// server stores is used in place, an http(s) URL is downloaded into the job's `inputs/`.
struct ValidationImageFetcher: Sendable {
    var store: JobStore
    var owner: String
    var dataDirectory: String
    var limits: DatasetLimits
    /// Largest image accepted.
    var maxBytes = 50 << 20

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
        if FileManager.default.fileExists(atPath: destination) { return destination }
        var request = HTTPClientRequest(url: text)
        request.method = .GET
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(min(limits.fetchTimeout, 300))))
        } catch {
            throw JobFailure(statusCode: 400, type: "bad_validation_image", message: "could not download \(field) \(text): \(error)")
        }
        guard response.status.code == 200 else {
            throw JobFailure(statusCode: 400, type: "bad_validation_image", message: "\(field) \(text) answered HTTP \(response.status.code); check that the link is public")
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maxBytes)
        } catch {
            throw JobFailure(statusCode: 400, type: "bad_validation_image", message: "\(field) \(text) is larger than \(maxBytes) bytes or failed to download: \(error)")
        }
        let temporary = destination + ".part"
        try Data(body.readableBytesView).write(to: URL(fileURLWithPath: temporary))
        try FileManager.default.moveItem(atPath: temporary, toPath: destination)
        return destination
    }
}
