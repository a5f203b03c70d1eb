import Foundation

/// Finds scene cuts with ffmpeg's `select='gt(scene,T)'` on a downscaled copy of the video.
///
/// `scene` is ffmpeg's frame-difference score in 0...1; Kiln's default threshold 0.3 catches
/// hard cuts and ignores camera motion (see `DatasetLimits.sceneThreshold`).
struct SceneDetector: Sendable {
    var tool: MediaTool
    var threshold: Double
    var minimumDuration: Double

    /// Scene ranges `[start, end)` in seconds covering `0..<duration`.
    func scenes(of file: URL, displayName: String, duration: Double) async throws(DatasetError) -> [Range<Double>] {
        let filter = "scale=160:-2,select='gt(scene\\,\(threshold))',metadata=print:file=-"
        let out = try await tool.ffmpeg(["-i", file.path, "-an", "-sn", "-vf", filter, "-f", "null", "-"], file: displayName)
        var cuts: [Double] = []
        for line in out.stdout.split(whereSeparator: \.isNewline) where line.hasPrefix("frame:") {
            if let range = line.range(of: "pts_time:") {
                let value = line[range.upperBound...].prefix { !$0.isWhitespace }
                if let t = Double(value) { cuts.append(t) }
            }
        }
        return Self.ranges(cuts: cuts, duration: duration, minimum: minimumDuration)
    }

    /// Turns cut times into ranges, merging scenes shorter than `minimum` into their neighbour.
    static func ranges(cuts: [Double], duration: Double, minimum: Double) -> [Range<Double>] {
        var bounds: [Double] = [0]
        for cut in cuts.sorted() where cut > 0 && cut < duration {
            if cut - bounds.last! >= minimum { bounds.append(cut) }
        }
        if bounds.count > 1, duration - bounds.last! < minimum { bounds.removeLast() }
        bounds.append(duration)
        return (0..<(bounds.count - 1)).map { bounds[$0]..<bounds[$0 + 1] }
    }
}
