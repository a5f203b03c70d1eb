import Foundation
@testable import KilnDataset

/// Generates test media with ffmpeg's lavfi sources and zips with the `zip` tool or Python;
/// nothing is committed, everything lives in a fresh temporary folder.
enum Fixtures {
    struct CommandFailed: Error, CustomStringConvertible {
        var command: String
        var output: String
        var description: String { "\(command) failed: \(output)" }
    }

    /// Runs a command and returns its standard output; throws with stderr when it fails.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed(command: ([executable] + arguments).joined(separator: " "),
                                output: String(decoding: errData, as: UTF8.self))
        }
        return String(decoding: outData, as: UTF8.self)
    }

    /// A fresh temporary folder.
    static func tempFolder(_ name: String = "kiln-dataset-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Audio track of a generated video.
    enum Audio { case none, mono, stereo }

    /// Writes a video of `duration` seconds from a lavfi `source` (e.g. "testsrc2").
    static func video(_ url: URL, source: String = "testsrc2", size: String = "320x180", rate: Int = 25,
                      duration: Double, audio: Audio = .stereo, extraVideoFilter: String? = nil,
                      codec: [String] = ["-c:v", "libx264", "-pix_fmt", "yuv420p"]) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var args = ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", "\(source)=size=\(size):rate=\(rate):duration=\(duration)"]
        switch audio {
        case .none: break
        case .mono, .stereo:
            args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=\(duration)",
                     "-ac", audio == .mono ? "1" : "2", "-c:a", url.pathExtension == "avi" ? "mp3" : "aac"]
        }
        if let extraVideoFilter { args += ["-vf", extraVideoFilter] }
        args += codec + [url.path]
        try run("ffmpeg", args)
    }

    /// A video whose coded frame is white on the left and black on the right, stored with a
    /// 90-degree rotation, so its displayed frame is black on top and white below.
    static func rotatedVideo(_ url: URL, duration: Double) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let plain = url.deletingLastPathComponent().appendingPathComponent("plain-\(UUID().uuidString).mp4")
        try run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                           "color=white:s=160x180:r=25:d=\(duration)[a];color=black:s=160x180:r=25:d=\(duration)[b];[a][b]hstack",
                           "-c:v", "libx264", "-pix_fmt", "yuv420p", plain.path])
        try run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-i", plain.path, "-c", "copy",
                           "-metadata:s:v:0", "rotate=90", url.path])
        try FileManager.default.removeItem(at: plain)
    }

    /// Two visually different scenes of `sceneLength` seconds each, with audio.
    static func twoSceneVideo(_ url: URL, sceneLength: Double) throws {
        try run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y",
                           "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=\(sceneLength)",
                           "-f", "lavfi", "-i", "mandelbrot=size=320x180:rate=25,trim=duration=\(sceneLength)",
                           "-f", "lavfi", "-i", "sine=frequency=220:duration=\(sceneLength * 2)",
                           "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-map", "2:a",
                           "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", url.path])
    }

    /// An image of odd size.
    static func image(_ url: URL, size: String) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(size)",
                           "-frames:v", "1", url.path])
    }

    /// Zips the contents of `folder` (paths relative to it) into `zip`.
    static func zip(_ folder: URL, to zip: URL) throws {
        try run("zip", ["-q", "-r", "-X", zip.path, "."], in: folder)
    }

    /// Runs a Python snippet (for archives the zip tool will not make).
    static func python(_ code: String, _ arguments: [String] = []) throws {
        try run("python3", ["-c", code] + arguments)
    }

    /// Writes text to a file, creating folders.
    static func write(_ text: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// What ffprobe measures on an output clip.
    struct VideoFacts: Equatable {
        var frames: Int
        var width: Int
        var height: Int
        var fps: String
    }

    static func videoFacts(_ url: URL) throws -> VideoFacts {
        let csv = try run("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                                      "stream=width,height,r_frame_rate,nb_read_frames", "-of", "csv=p=0", url.path])
        let parts = csv.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").map(String.init)
        return VideoFacts(frames: Int(parts[3]) ?? -1, width: Int(parts[0]) ?? -1, height: Int(parts[1]) ?? -1, fps: parts[2])
    }

    /// Sample rate, channels and number of samples per channel of a WAV, measured by ffprobe.
    static func audioFacts(_ url: URL) throws -> (rate: Int, channels: Int, samples: Int) {
        let csv = try run("ffprobe", ["-v", "error", "-show_entries", "stream=sample_rate,channels,duration_ts",
                                      "-of", "csv=p=0", url.path])
        let parts = csv.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").compactMap { Int($0) }
        return (parts[0], parts[1], parts[2])
    }

    /// The first frame of `url` decoded by ffmpeg as raw pixels in `pixelFormat` (`gray`, `rgb24`).
    static func firstFrame(_ url: URL, pixelFormat: String) throws -> (bytes: [UInt8], status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-v", "error", "-i", url.path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", pixelFormat, "-"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = [UInt8](out.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        return (data, process.terminationStatus)
    }

    /// Mean luma of the first and last rows of the first frame.
    static func topAndBottomLuma(_ url: URL, width: Int, height: Int) throws -> (top: Double, bottom: Double) {
        let data = try firstFrame(url, pixelFormat: "gray").bytes
        let top = data[0..<width].reduce(0) { $0 + Int($1) }
        let bottom = data[(width * (height - 1))..<(width * height)].reduce(0) { $0 + Int($1) }
        return (Double(top) / Double(width), Double(bottom) / Double(width))
    }

    /// Reads manifest.jsonl.
    static func manifest(_ dataset: URL) throws -> [ManifestEntry] {
        let text = try String(contentsOf: dataset.appendingPathComponent("manifest.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(ManifestEntry.self, from: Data($0.utf8)) }
    }

    /// Everything under `folder`, as relative paths.
    static func listing(_ folder: URL) -> [String] {
        let base = folder.standardizedFileURL.path
        let all = FileManager.default.enumerator(atPath: base)?.allObjects as? [String] ?? []
        return all.sorted()
    }
}
