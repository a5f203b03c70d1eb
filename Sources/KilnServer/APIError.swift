import Foundation
import HTTPTypes
import Hummingbird

/// An error the API answers with a JSON body `{"detail": ...}` and a chosen HTTP status.
///
/// Every failure a handler can meet is turned into one of these, so a client never sees
/// an HTML page or a bare 500 for something it did wrong.
public struct APIError: Error, CustomStringConvertible, HTTPResponseError, Sendable {
    /// The HTTP status to answer with.
    public var status: HTTPResponse.Status
    /// The JSON value of `detail`: a string message, or pydantic-style issue list.
    public var detailJSON: Data
    /// Optional `error_type` field that fal_client surfaces on its exception.
    public var errorType: String?
    /// Extra response headers (for example `WWW-Authenticate`).
    public var headers: HTTPFields

    /// Makes an error whose `detail` is a plain message.
    public init(_ status: HTTPResponse.Status, _ message: String, type: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.detailJSON = (try? JSONSerialization.data(withJSONObject: message, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data("\"\"".utf8)
        self.errorType = type
        self.headers = headers
    }

    /// Makes an error whose `detail` is already-encoded JSON (for example a validation issue list).
    public init(_ status: HTTPResponse.Status, detailJSON: Data, type: String? = nil) {
        self.status = status
        self.detailJSON = detailJSON
        self.errorType = type
        self.headers = [:]
    }

    /// A human-readable summary for logs.
    public var description: String {
        "\(status.code) \(String(decoding: body, as: UTF8.self))"
    }

    /// Makes an error whose whole body is given (for example KilnCore's `{"detail":[...]}`).
    public init(_ status: HTTPResponse.Status, fullBody: Data) {
        self.status = status
        self.detailJSON = Data()
        self.fullBody = fullBody
        self.errorType = nil
        self.headers = [:]
    }

    /// A body that replaces the `{"detail": ...}` one, when set.
    var fullBody: Data?

    /// The full JSON body.
    public var body: Data {
        if let fullBody { return fullBody }
        var out = Data("{\"detail\":".utf8)
        out.append(detailJSON)
        if let errorType {
            out.append(Data(",\"error_type\":".utf8))
            out.append((try? JSONSerialization.data(withJSONObject: errorType, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data("null".utf8))
        }
        out.append(Data("}".utf8))
        return out
    }

    /// Builds the Hummingbird response.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        if let errorType { fields[.falErrorType] = errorType }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func notFound(_ what: String) -> APIError {
        APIError(.notFound, "\(what) not found", type: "not_found")
    }
}
