import Foundation

extension StoredFile {
    /// The absolute URL `GET /files/{id}/{name}` serves this file at, under `base` (the
    /// server's public URL). One definition, so the server's answers and the worker's job
    /// results name files the same way.
    public func url(base: String) -> String {
        "\(Self.trimmingSlashes(base))/files/\(id)/\(Self.percentEncodedPathComponent(fileName))"
    }

    /// `url` without trailing slashes.
    public static func trimmingSlashes(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// `name` encoded as a single path component (`/`, `?` and `#` escaped too).
    static func percentEncodedPathComponent(_ name: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
    }
}
