import Foundation
import Hummingbird
import MultipartKit

/// Streams the first file part of a `multipart/form-data` body into an ``UploadSink``.
///
/// Parts without a `filename` (ordinary form fields) are skipped; a `file_name` or
/// `content_type` field, when present, overrides what the file part declares.
struct MultipartUpload {
    /// What the form declared about the file.
    struct Declared {
        var fileName: String?
        var contentType: String?
        var sawFile = false
    }

    /// Extracts the boundary parameter from a `multipart/form-data; boundary=...` content type.
    static func boundary(from contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }

    /// Reads a `Content-Disposition` parameter such as `name` or `filename`.
    static func dispositionParameter(_ name: String, in value: String) -> String? {
        for parameter in value.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == name {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// Feeds the whole body through the parser, writing the file part into `sink`.
    static func stream<Body: AsyncSequence>(
        body: Body, boundary: String, into sink: UploadSink
    ) async throws -> Declared where Body.Element == ByteBuffer {
        let parser = MultipartParser(boundary: boundary)
        var declared = Declared()
        var partHeaders: [String: String] = [:]
        var fieldValue = Data()
        var inFilePart = false
        var fileDone = false
        var failure: (any Error)?

        parser.onHeader = { name, value in
            partHeaders[name.lowercased()] = value
        }
        parser.onBody = { buffer in
            guard failure == nil else { return }
            if !inFilePart, !fileDone, let disposition = partHeaders["content-disposition"],
               let fileName = dispositionParameter("filename", in: disposition) {
                inFilePart = true
                declared.sawFile = true
                if declared.fileName == nil, !fileName.isEmpty { declared.fileName = fileName }
                if declared.contentType == nil { declared.contentType = partHeaders["content-type"] }
            }
            if inFilePart {
                do { try sink.write(buffer) } catch { failure = error }
            } else {
                fieldValue.append(contentsOf: buffer.readableBytesView)
            }
        }
        parser.onPartComplete = {
            if inFilePart {
                inFilePart = false
                fileDone = true
            } else if !fileDone, let disposition = partHeaders["content-disposition"],
                      let fileName = dispositionParameter("filename", in: disposition) {
                // A file part with no bytes never reaches onBody.
                declared.sawFile = true
                fileDone = true
                if declared.fileName == nil, !fileName.isEmpty { declared.fileName = fileName }
                if declared.contentType == nil { declared.contentType = partHeaders["content-type"] }
            } else if let disposition = partHeaders["content-disposition"],
                      let name = dispositionParameter("name", in: disposition) {
                let text = String(decoding: fieldValue, as: UTF8.self)
                if name == "file_name", !text.isEmpty { declared.fileName = text }
                if name == "content_type", !text.isEmpty { declared.contentType = text }
            }
            partHeaders = [:]
            fieldValue = Data()
        }
        for try await buffer in body {
            try parser.execute(buffer)
            if let failure { throw failure }
        }
        if let failure { throw failure }
        return declared
    }
}
