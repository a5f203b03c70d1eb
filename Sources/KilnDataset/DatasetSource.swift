import Foundation

/// Where the user's zip comes from.
public enum DatasetSource: Sendable, Equatable {
    /// An http(s) URL (`training_data_url`), or a URL of a file this server issued.
    case url(URL)
    /// A zip already on this machine (CLI).
    case localFile(URL)
}

/// Progress of a preparation, for logs and progress bars.
public enum DatasetProgress: Sendable, Equatable {
    /// Bytes downloaded so far, and the expected total when the server sent it.
    case downloading(bytes: Int64, total: Int64?)
    /// The archive is being checked and extracted.
    case extracting(entries: Int)
    /// Sources are being probed (and scanned for scenes).
    case probing(done: Int, total: Int)
    /// Samples are being conformed.
    case conforming(done: Int, total: Int)
    /// The debug zip is being written.
    case packaging
    /// Finished.
    case finished(samples: Int)

    /// A one-line human description.
    public var message: String {
        switch self {
        case let .downloading(bytes, total):
            return total.map { "downloading \(bytes)/\($0) bytes" } ?? "downloading \(bytes) bytes"
        case let .extracting(entries): return "extracting \(entries) archive entries"
        case let .probing(done, total): return "probing sources \(done)/\(total)"
        case let .conforming(done, total): return "conforming samples \(done)/\(total)"
        case .packaging: return "writing debug dataset zip"
        case let .finished(samples): return "dataset ready: \(samples) samples"
        }
    }
}

/// One line of `manifest.jsonl` (ARCHITECTURE.md §6).
public struct ManifestEntry: Sendable, Codable, Equatable {
    /// Sample id, the file stem (`"0007"`).
    public var id: String
    /// Media file name relative to the dataset folder (`0007.mp4` or `0007.png`).
    public var media: String
    /// Audio file name relative to the dataset folder, or `nil` without audio.
    public var audio: String?
    /// Caption, trigger phrase included.
    public var caption: String
    /// Frame width in pixels.
    public var width: Int
    /// Frame height in pixels.
    public var height: Int
    /// Number of frames (1 for images).
    public var frames: Int
    /// Frames per second (the request's `frame_rate`; also written for images).
    public var fps: Int
    /// Source file's path inside the archive.
    public var source: String
    /// Scene index within the source, or `nil` when the source was not split.
    public var scene: Int?
    /// Window index within the source (or scene).
    public var window: Int

    /// Creates a manifest line.
    public init(id: String, media: String, audio: String?, caption: String, width: Int, height: Int,
                frames: Int, fps: Int, source: String, scene: Int?, window: Int) {
        self.id = id; self.media = media; self.audio = audio; self.caption = caption
        self.width = width; self.height = height; self.frames = frames; self.fps = fps
        self.source = source; self.scene = scene; self.window = window
    }

    // Explicit encoding so `audio` and `scene` are written as `null`, never omitted.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(media, forKey: .media)
        try c.encode(audio, forKey: .audio)
        try c.encode(caption, forKey: .caption)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(frames, forKey: .frames)
        try c.encode(fps, forKey: .fps)
        try c.encode(source, forKey: .source)
        try c.encode(scene, forKey: .scene)
        try c.encode(window, forKey: .window)
    }
}

/// `report.json`: what happened to every source.
public struct DatasetReport: Sendable, Codable, Equatable {
    /// What happened to one source file.
    public struct SourceReport: Sendable, Codable, Equatable {
        /// Path inside the archive.
        public var path: String
        /// `video` or `image`.
        public var kind: String
        /// Ids of the samples made from it.
        public var kept: [String]
        /// Why it (or a part of it) was dropped; empty when nothing was dropped.
        public var dropped: [String]
        /// Number of scenes found (1 when not split).
        public var scenes: Int
        /// Things the user should know (no caption, silent audio, retimed...).
        public var warnings: [String]
        /// Probed duration in seconds (videos).
        public var duration: Double?
        /// Displayed width x height of the source, after rotation.
        public var size: String?

        /// Creates a source report.
        public init(path: String, kind: String, kept: [String] = [], dropped: [String] = [], scenes: Int = 1,
                    warnings: [String] = [], duration: Double? = nil, size: String? = nil) {
            self.path = path; self.kind = kind; self.kept = kept; self.dropped = dropped; self.scenes = scenes
            self.warnings = warnings; self.duration = duration; self.size = size
        }
    }

    /// Totals over the whole dataset.
    public struct Totals: Sendable, Codable, Equatable {
        /// Media sources found.
        public var sources: Int
        /// Samples written.
        public var samples: Int
        /// Sources that produced no sample.
        public var droppedSources: Int
        /// Archive entries ignored (junk, other types, captions without media).
        public var ignoredFiles: Int
        /// Seconds of conformed video (frames / fps summed).
        public var outputSeconds: Double

        enum CodingKeys: String, CodingKey {
            case sources, samples, droppedSources = "dropped_sources", ignoredFiles = "ignored_files"
            case outputSeconds = "output_seconds"
        }
    }

    /// The options the dataset was prepared with.
    public var options: DatasetOptions
    /// Target frame width.
    public var width: Int
    /// Target frame height.
    public var height: Int
    /// Whether samples carry audio.
    public var withAudio: Bool
    /// `video` or `image`.
    public var mediaKind: String
    /// Per-source outcome, in archive order.
    public var sources: [SourceReport]
    /// Archive entries ignored, with the reason.
    public var ignored: [String]
    /// Totals.
    public var totals: Totals
    /// Absolute path of the debug zip, when `debug_dataset` was set.
    public var debugZip: String?

    enum CodingKeys: String, CodingKey {
        case options, width, height, withAudio = "with_audio", mediaKind = "media_kind", sources, ignored, totals
        case debugZip = "debug_zip"
    }
}
