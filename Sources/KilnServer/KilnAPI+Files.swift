import Foundation
import HTTPTypes
import Hummingbird
import KilnCore
import KilnStore

extension KilnAPI {
    /// Checks a client-supplied file name: one path component, printable, not too long.
    static func checkedFileName(_ raw: String, field: String) throws -> String {
        let name = raw.removingPercentEncoding ?? raw
        let bad = name.isEmpty || name == "." || name == ".." || name.hasPrefix(".")
            || name.contains("/") || name.contains("\\") || name.utf8.count > 255
            || name.unicodeScalars.contains { $0.properties.generalCategory == .control }
        if bad {
            throw APIError(.badRequest,
                           "\(field) must be a plain file name (no slashes, no leading dot, no control characters, at most 255 bytes); got \(String(reflecting: raw))",
                           type: "invalid_file_name")
        }
        return name
    }

    /// `POST /files`: stream the body (raw or multipart) to disk and record it.
    func upload(_ request: Request, context: KilnRequestContext) async throws -> Response {
        let limit = configuration.maxUploadSize
        if let length = request.headers[.contentLength].flatMap({ Int64($0) }), length > limit {
            throw APIError(.contentTooLarge, UploadError.tooLarge(limit: limit).description, type: "upload_too_large")
        }
        let contentType = request.headers[.contentType] ?? "application/octet-stream"
        let isMultipart = contentType.lowercased().hasPrefix("multipart/form-data")
        var declaredName: String?
        if !isMultipart {
            guard let header = request.headers[HTTPField.Name("x-file-name")!] else {
                throw APIError(.badRequest, "X-File-Name header is required for a raw upload (or send multipart/form-data with a file part)",
                               type: "missing_file_name")
            }
            declaredName = try Self.checkedFileName(header, field: "X-File-Name")
        }
        let boundary = isMultipart ? MultipartUpload.boundary(from: contentType) : nil
        if isMultipart, boundary == nil {
            throw APIError(.badRequest, "Content-Type multipart/form-data needs a boundary parameter", type: "invalid_multipart")
        }

        let id = UUID().uuidString.lowercased()
        let folder = (configuration.filesDirectory as NSString).appendingPathComponent(id)
        let sink = try UploadSink(folder: folder, limit: limit)
        do {
            var storedType = contentType
            if let boundary {
                let declared: MultipartUpload.Declared
                do {
                    declared = try await MultipartUpload.stream(body: request.body, boundary: boundary, into: sink)
                } catch let error as UploadError {
                    throw error
                } catch {
                    throw APIError(.badRequest, "malformed multipart/form-data body: \(error)", type: "invalid_multipart")
                }
                guard declared.sawFile else {
                    throw APIError(.badRequest, "multipart form has no file part (a part with a filename)", type: "invalid_multipart")
                }
                declaredName = try Self.checkedFileName(declared.fileName ?? "upload.bin", field: "file name")
                storedType = declared.contentType ?? "application/octet-stream"
            } else {
                for try await buffer in request.body { try sink.write(buffer) }
            }
            guard sink.size > 0 else {
                throw APIError(.badRequest, "the upload is empty", type: "empty_upload")
            }
            let fileName = declaredName ?? "upload.bin"
            let sha = try sink.finish(fileName: fileName)
            let stored = StoredFile(
                id: id, owner: context.owner, fileName: fileName, contentType: storedType, size: sink.size,
                sha256: sha, relativePath: "files/\(id)/\(fileName)", kind: .upload, jobID: nil, createdAt: Date())
            try store.insertFile(stored)
            metrics.recordUpload(bytes: sink.size)
            let answer = FalFile(url: fileURL(stored), contentType: stored.contentType, fileName: fileName, fileSize: stored.size)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
            return Self.json(data: try encoder.encode(answer), status: .created)
        } catch {
            sink.discard()
            try? FileManager.default.removeItem(atPath: folder)
            if case UploadError.tooLarge = error {
                throw APIError(.contentTooLarge, "\(error)", type: "upload_too_large")
            }
            throw error
        }
    }

    /// `GET|HEAD /files/{file_id}/{file_name}`: serve a stored file, honouring `Range`.
    func download(_ request: Request, context: KilnRequestContext) async throws -> Response {
        guard let id = context.parameters.get("file_id"), let name = context.parameters.get("file_name"),
              let file = try store.file(id: id, owner: context.owner),
              file.fileName == (name.removingPercentEncoding ?? name) else {
            throw APIError.notFound("File")
        }
        let path = (configuration.dataDirectory as NSString).appendingPathComponent(file.relativePath)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.int64Value else {
            throw APIError(.gone, "the stored bytes of file \(id) are missing on disk", type: "file_missing")
        }
        var headers: HTTPFields = [
            .contentType: file.contentType,
            .acceptRanges: "bytes",
            .contentDisposition: "attachment; filename=\"\(file.fileName.replacingOccurrences(of: "\"", with: ""))\"",
            .eTag: "\"\(file.sha256)\"",
        ]
        let range = ByteRange.parse(request.headers[.range], size: size)
        let isHead = request.method == .head
        switch range {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .whole:
            headers[.contentLength] = String(size)
            if isHead || size == 0 { return Response(status: .ok, headers: headers) }
            let body = try await FileIO().loadFile(path: path, range: 0...Int(size - 1), context: context)
            return Response(status: .ok, headers: headers, body: body)
        case .partial(let r):
            headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound)/\(size)"
            headers[.contentLength] = String(r.upperBound - r.lowerBound + 1)
            if isHead { return Response(status: .partialContent, headers: headers) }
            let body = try await FileIO().loadFile(path: path, range: Int(r.lowerBound)...Int(r.upperBound), context: context)
            return Response(status: .partialContent, headers: headers, body: body)
        }
    }
}
