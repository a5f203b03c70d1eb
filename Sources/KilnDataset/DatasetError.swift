import Foundation

/// Why a dataset could not be prepared. Every case names the URL, entry or file at fault
/// and says what the user can do about it.
public enum DatasetError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A request field is out of range.
    case invalidOption(field: String, message: String)
    /// The URL is not http(s) or has no host.
    case unsupportedURL(url: String)
    /// The URL's host resolves to a private, loopback, link-local or metadata address.
    case privateAddress(url: String, address: String)
    /// The host name did not resolve.
    case unresolvableHost(url: String, host: String)
    /// The server answered a client error (4xx).
    case httpStatus(url: String, status: Int)
    /// The download failed after every retry.
    case fetchFailed(url: String, attempts: Int, reason: String)
    /// The download or archive is larger than the cap.
    case archiveTooLarge(source: String, limit: Int64)
    /// Too many redirects.
    case tooManyRedirects(url: String)
    /// The local file does not exist or cannot be read.
    case unreadableFile(path: String, reason: String)
    /// Not a zip archive, or a damaged/truncated one.
    case corruptArchive(source: String, reason: String)
    /// An entry is password-protected.
    case encryptedArchive(entry: String)
    /// An entry would be written outside the extraction folder (absolute path or `..`).
    case unsafeEntryPath(entry: String)
    /// An entry is a symlink, device, FIFO or socket.
    case unsafeEntryType(entry: String, type: String)
    /// An entry or the whole archive decompresses beyond the caps (zip bomb).
    case decompressionLimit(entry: String, reason: String)
    /// The archive has more entries than the cap.
    case tooManyEntries(count: Int, limit: Int)
    /// The archive holds no usable video or image.
    case noMedia(ignored: Int)
    /// The archive mixes videos and images.
    case mixedMedia(video: String, image: String)
    /// No sample survived preparation.
    case nothingUsable(dropped: Int, firstReason: String)
    /// ffmpeg or ffprobe could not be run or failed unexpectedly.
    case toolFailed(tool: String, file: String, message: String)
    /// Writing the output folder failed.
    case outputFailed(path: String, reason: String)

    public var description: String { description(naming: "training_data_url") }

    /// The description with `field` as the request field whose URL is at fault: the fetch
    /// errors are the same whichever field named the URL (a validation `image_url` too).
    public func description(naming field: String) -> String {
        switch self {
        case let .invalidOption(field, message):
            return "\(field): \(message)"
        case let .unsupportedURL(url):
            return "\(field) \(url) is not an http(s) URL with a host; give an https:// link to a zip or a file uploaded to this server"
        case let .privateAddress(url, address):
            return "\(field) \(url) resolves to \(address), a private/loopback/link-local/metadata address; use a public URL (operators can allow this with --allow-private-urls)"
        case let .unresolvableHost(url, host):
            return "\(field) \(url): host \(host) does not resolve; check the URL"
        case let .httpStatus(url, status):
            return "\(field) \(url) answered HTTP \(status); check that the link is public and not expired"
        case let .fetchFailed(url, attempts, reason):
            return "could not download \(url) after \(attempts) attempt(s): \(reason); try again later or upload the zip to this server"
        case let .archiveTooLarge(source, limit):
            return "\(source) is larger than the \(limit) byte limit; split the dataset or ask the operator to raise it"
        case let .tooManyRedirects(url):
            return "\(field) \(url) redirects too many times; give the final URL"
        case let .unreadableFile(path, reason):
            return "cannot read \(path): \(reason)"
        case let .corruptArchive(source, reason):
            return "\(source) is not a readable zip archive (\(reason)); re-create it with a standard zip tool"
        case let .encryptedArchive(entry):
            return "archive entry \(entry) is encrypted; upload a zip without a password"
        case let .unsafeEntryPath(entry):
            return "archive refused: entry \(entry) has an absolute path or escapes with '..'; re-create the zip from a folder"
        case let .unsafeEntryType(entry, type):
            return "archive refused: entry \(entry) is a \(type); zips may hold only regular files and folders"
        case let .decompressionLimit(entry, reason):
            return "archive refused: \(entry) \(reason) (possible zip bomb); split the dataset or ask the operator to raise the limit"
        case let .tooManyEntries(count, limit):
            return "archive refused: \(count) entries, more than the limit of \(limit)"
        case let .noMedia(ignored):
            return "the archive holds no video (.mp4 .mov .avi .mkv .webm) or image (.png .jpg .jpeg .webp) files (\(ignored) other file(s) ignored)"
        case let .mixedMedia(video, image):
            return "the archive mixes videos and images (e.g. \(video) and \(image)); a dataset must be only videos or only images"
        case let .nothingUsable(dropped, firstReason):
            return "no usable sample remains: \(dropped) source(s) dropped, e.g. \(firstReason)"
        case let .toolFailed(tool, file, message):
            return "\(tool) failed on \(file): \(message)"
        case let .outputFailed(path, reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
