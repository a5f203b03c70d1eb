/// fal's File object, as found in outputs and in the `POST /files` answer.
public struct FalFile: Codable, Sendable, Equatable {
    /// Absolute URL the file is served from.
    public var url: String
    /// MIME type.
    public var contentType: String
    /// File name.
    public var fileName: String
    /// Size in bytes.
    public var fileSize: Int64

    /// Creates a File object.
    public init(url: String, contentType: String, fileName: String, fileSize: Int64) {
        self.url = url
        self.contentType = contentType
        self.fileName = fileName
        self.fileSize = fileSize
    }

    enum CodingKeys: String, CodingKey {
        case url
        case contentType = "content_type"
        case fileName = "file_name"
        case fileSize = "file_size"
    }
}
