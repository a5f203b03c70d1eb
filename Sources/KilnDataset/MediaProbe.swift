import Foundation

/// What ffprobe says about one source file.
struct MediaProbe: Sendable, Equatable {
    /// Coded width and height of the first video stream.
    var codedWidth: Int
    var codedHeight: Int
    /// Rotation from the display matrix or `rotate` tag, or for images from the first frame
    /// (a JPEG's EXIF orientation), in degrees (multiple of 90). Mirroring is not recorded: it keeps the shape.
    var rotation: Int
    /// Sample aspect ratio (pixel width / pixel height), 1 when unknown.
    var sampleAspectRatio: Double
    /// Duration in seconds; 0 for still images.
    var duration: Double
    /// Average frame rate, 0 when unknown.
    var frameRate: Double
    /// Whether there is a decodable audio stream.
    var hasAudio: Bool
    /// Channels of the first audio stream.
    var audioChannels: Int

    /// Width as displayed: rotation and pixel aspect applied.
    var displayWidth: Int {
        let w = Int((Double(codedWidth) * sampleAspectRatio).rounded())
        return rotation % 180 == 0 ? w : codedHeight
    }

    /// Height as displayed: rotation and pixel aspect applied.
    var displayHeight: Int {
        let w = Int((Double(codedWidth) * sampleAspectRatio).rounded())
        return rotation % 180 == 0 ? codedHeight : w
    }
}

extension MediaTool {
    /// Probes `file` once; throws a reason (for the report) when it has no decodable video/image stream.
    ///
    /// For images the same run also decodes the first frame, whose rotation (a JPEG's EXIF
    /// orientation) counts ahead of the stream's, so the displayed size is the upright one.
    func probe(_ file: URL, kind: MediaKind, displayName: String) async throws(DatasetError) -> MediaProbe {
        var arguments = ["-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
        if kind == .image {
            // ffprobe gives a JPEG's stored size and puts its EXIF orientation on the decoded frame
            // only, while ffmpeg's decode (the conform step) turns the pixels upright from it.
            arguments += ["-read_intervals", "%+#1", "-show_entries", "frame=stream_index:frame_side_data=rotation"]
        }
        let out = try await run(ffprobe, arguments + [file.path], file: displayName)
        guard out.succeeded else {
            throw .toolFailed(tool: "ffprobe", file: displayName, message: "does not decode: " + Self.tail(out.stderr, lines: 1))
        }
        guard let data = out.stdout.data(using: .utf8),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .toolFailed(tool: "ffprobe", file: displayName, message: "unreadable ffprobe output")
        }
        let streams = json["streams"] as? [[String: Any]] ?? []
        let format = json["format"] as? [String: Any] ?? [:]
        guard let video = streams.first(where: { ($0["codec_type"] as? String) == "video" && Self.int($0["width"]) > 0 }) else {
            throw .toolFailed(tool: "ffprobe", file: displayName, message: "no video or image stream")
        }
        let audio = streams.first(where: { ($0["codec_type"] as? String) == "audio" })
        var rotation = 0
        if let sideData = video["side_data_list"] as? [[String: Any]] {
            for item in sideData where item["rotation"] != nil {
                rotation = Self.int(item["rotation"])
            }
        }
        if rotation == 0, let tags = video["tags"] as? [String: Any], let rotate = tags["rotate"] {
            rotation = Self.int(rotate)
        }
        // ffmpeg prefers a frame's display matrix to the stream's when it autorotates; so do we.
        if let frameRotation = Self.firstFrameRotation(json, streamIndex: Self.int(video["index"])) {
            rotation = frameRotation
        }
        rotation = ((rotation % 360) + 360) % 360
        let duration = Self.double(format["duration"]) > 0 ? Self.double(format["duration"]) : Self.double(video["duration"])
        return MediaProbe(
            codedWidth: Self.int(video["width"]),
            codedHeight: Self.int(video["height"]),
            rotation: rotation,
            sampleAspectRatio: Self.ratio(video["sample_aspect_ratio"]) ?? 1,
            duration: duration,
            frameRate: Self.ratio(video["avg_frame_rate"]) ?? Self.ratio(video["r_frame_rate"]) ?? 0,
            hasAudio: audio != nil,
            audioChannels: Self.int(audio?["channels"])
        )
    }

    /// Rotation on the first decoded frame of stream `streamIndex`; nil when none was decoded or it has none.
    static func firstFrameRotation(_ json: [String: Any], streamIndex: Int) -> Int? {
        let frames = json["frames"] as? [[String: Any]] ?? []
        guard let frame = frames.first(where: { int($0["stream_index"]) == streamIndex }),
              let sideData = frame["side_data_list"] as? [[String: Any]],
              let item = sideData.last(where: { $0["rotation"] != nil }) else { return nil }
        return int(item["rotation"])
    }

    static func int(_ value: Any?) -> Int {
        if let n = value as? Int { return n }
        if let n = value as? Double { return Int(n) }
        if let s = value as? String { return Int(s) ?? Int(Double(s) ?? 0) }
        return 0
    }

    static func double(_ value: Any?) -> Double {
        if let n = value as? Double { return n }
        if let n = value as? Int { return Double(n) }
        if let s = value as? String { return Double(s) ?? 0 }
        return 0
    }

    /// Parses "num/den" or "num:den"; nil for 0 or unknown.
    static func ratio(_ value: Any?) -> Double? {
        guard let s = value as? String else { return nil }
        let parts = s.split(whereSeparator: { $0 == "/" || $0 == ":" }).compactMap { Double($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { return nil }
        return parts[0] / parts[1]
    }
}
