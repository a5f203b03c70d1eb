import Foundation

/// Kind of a media source.
enum MediaKind: String, Sendable, Codable {
    case video, image
}

/// A media file of the archive and its caption file, before probing.
struct ScannedSource: Sendable, Equatable {
    /// Path inside the archive.
    var path: String
    var kind: MediaKind
    /// Path of `name.txt` inside the archive, when present.
    var captionPath: String?
}

/// Result of classifying the archive's entries.
struct ScanResult: Sendable, Equatable {
    var kind: MediaKind
    var sources: [ScannedSource]
    /// Entries not used, each with the reason ("path: reason").
    var ignored: [String]
}

/// Classifies archive entries into videos, images and captions; refuses mixed sets.
enum DatasetScanner {
    static let videoExtensions: Set<String> = ["mp4", "mov", "avi", "mkv", "webm"]
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "webp"]
    static let junkNames: Set<String> = ["thumbs.db", "desktop.ini", "__macosx"]

    /// Classifies the regular files' `paths` (archive order).
    static func scan(_ paths: [String]) throws(DatasetError) -> ScanResult {
        var media: [ScannedSource] = []
        var captions: [String: String] = [:]  // lowercased stem -> caption path
        var ignored: [String] = []
        for path in paths {
            let parts = path.split(whereSeparator: { $0 == "/" || $0 == "\\" }).map(String.init)
            guard let name = parts.last else { continue }
            if parts.contains(where: { $0.hasPrefix(".") || junkNames.contains($0.lowercased()) }) {
                ignored.append("\(path): system or hidden file")
                continue
            }
            let ext = (name as NSString).pathExtension.lowercased()
            if videoExtensions.contains(ext) {
                media.append(ScannedSource(path: path, kind: .video))
            } else if imageExtensions.contains(ext) {
                media.append(ScannedSource(path: path, kind: .image))
            } else if ext == "txt" {
                captions[stem(path)] = path
            } else {
                ignored.append("\(path): unsupported file type")
            }
        }
        let videos = media.filter { $0.kind == .video }
        let images = media.filter { $0.kind == .image }
        if let v = videos.first, let i = images.first { throw .mixedMedia(video: v.path, image: i.path) }
        guard let kind = media.first?.kind else { throw .noMedia(ignored: ignored.count + captions.count) }
        var used: Set<String> = []
        for index in media.indices {
            if let caption = captions[stem(media[index].path)], !used.contains(caption) {
                media[index].captionPath = caption
                used.insert(caption)
            }
        }
        for caption in captions.values.sorted() where !used.contains(caption) {
            ignored.append("\(caption): caption without a matching media file")
        }
        // Sorted so sample ids do not depend on the order the zip tool stored the files in.
        media.sort { $0.path < $1.path }
        return ScanResult(kind: kind, sources: media, ignored: ignored)
    }

    /// Path without extension, lowercased, so `Clip.MP4` pairs with `clip.txt`.
    static func stem(_ path: String) -> String {
        (path as NSString).deletingPathExtension.lowercased()
    }

    /// Reads a caption file: UTF-8 (BOM stripped), CRLF/CR made spaces, whitespace collapsed.
    static func readCaption(_ url: URL) -> (text: String, warning: String?) {
        guard let data = try? Data(contentsOf: url) else { return ("", "caption file unreadable; empty caption used") }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var warning: String?
        let text: String
        if let s = String(bytes: bytes, encoding: .utf8) {
            text = s
        } else {
            text = String(decoding: bytes, as: UTF8.self)
            warning = "caption is not valid UTF-8; invalid bytes replaced"
        }
        let flat = text.split(whereSeparator: { $0.isWhitespace || $0.isNewline }).joined(separator: " ")
        return (flat, warning)
    }

    /// Prepends the trigger phrase unless the caption already contains it (case-insensitive).
    static func applyTrigger(_ trigger: String, to caption: String) -> String {
        let t = trigger.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !t.isEmpty else { return caption }
        if caption.range(of: t, options: .caseInsensitive) != nil { return caption }
        return caption.isEmpty ? t : "\(t) \(caption)"
    }
}
