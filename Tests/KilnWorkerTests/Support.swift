import Foundation
import Testing
import KilnCore
import KilnStore
@testable import KilnWorker

/// A fresh temporary folder, removed when the value is released.
final class TemporaryFolder: @unchecked Sendable {
    let url: URL
    init(_ name: String = "kiln-worker") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var path: String { url.path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

struct CommandFailed: Error, CustomStringConvertible {
    var command: String
    var output: String
    var description: String { "\(command) failed: \(output)" }
}

/// Runs a command and returns its standard output; throws with stderr when it fails.
@discardableResult
func runCommand(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> String {
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
        throw CommandFailed(command: ([executable] + arguments).joined(separator: " "), output: String(decoding: errData, as: UTF8.self))
    }
    return String(decoding: outData, as: UTF8.self)
}

/// Waits until `condition` holds for the job, polling the store; on timeout, throws with the job's
/// state and logs.
func wait(
    for id: UUID, in store: JobStore, timeout: Duration, _ what: String, _ condition: (Job) -> Bool
) async throws -> Job {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let job = try store.job(id: id), condition(job) { return job }
        try await Task.sleep(for: .milliseconds(50))
    }
    let job = try store.job(id: id)
    let logs = try store.logs(jobID: id).map(\.message).joined(separator: "\n")
    throw CommandFailed(command: "waiting for \(what)", output: "job now \(String(describing: job?.state)) \(String(describing: job?.stage)) \(String(describing: job?.progress)); logs:\n\(logs)")
}

/// Sample datasets made with ffmpeg: short clips with a sine tone and a caption each.
enum SampleData {
    /// Writes `clips` videos of `seconds` each (with audio and `.txt` captions) zipped into `<folder>/data.zip`.
    static func videoZip(in folder: URL, clips: Int = 2, seconds: Double = 1) throws -> URL {
        let media = folder.appendingPathComponent("media-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: media, withIntermediateDirectories: true)
        let sources = ["testsrc2", "rgbtestsrc", "smptebars", "testsrc"]
        for index in 0..<clips {
            let name = String(format: "clip%02d", index)
            try runCommand("ffmpeg", [
                "-hide_banner", "-loglevel", "error", "-y",
                "-f", "lavfi", "-i", "\(sources[index % sources.count])=size=256x256:rate=25:duration=\(seconds)",
                "-f", "lavfi", "-i", "sine=frequency=\(330 + 110 * index):sample_rate=44100:duration=\(seconds)",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", "-shortest",
                media.appendingPathComponent("\(name).mp4").path,
            ])
            try Data("a test pattern number \(index) with a steady tone".utf8)
                .write(to: media.appendingPathComponent("\(name).txt"))
        }
        let zip = folder.appendingPathComponent("data-\(UUID().uuidString.prefix(6)).zip")
        try runCommand("zip", ["-q", "-r", "-X", zip.path, "."], in: media)
        try FileManager.default.removeItem(at: media)
        return zip
    }

    /// Stores `zip` as an upload of `owner` in the data directory, the way `POST /files` does,
    /// and returns its URL on a server at `base`.
    static func upload(_ zip: URL, owner: String, store: JobStore, dataDirectory: String, base: String) throws -> String {
        let id = UUID().uuidString.lowercased()
        let relative = "files/\(id)/data.zip"
        let destination = (dataDirectory as NSString).appendingPathComponent(relative)
        try FileManager.default.createDirectory(
            atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: zip.path, toPath: destination)
        let (size, sha) = try JobRunner.sizeAndSHA256(of: destination)
        try store.insertFile(StoredFile(
            id: id, owner: owner, fileName: "data.zip", contentType: "application/zip", size: size, sha256: sha,
            relativePath: relative, kind: .upload))
        return "\(base)/files/\(id)/data.zip"
    }

    /// The smallest request the tiny model trains in seconds: low resolution, 9 frames.
    static func tinyRequest(url: String, steps: Int = 4, validation: [ValidationPrompt] = [], debug: Bool = false) -> TrainingRequest {
        TrainingRequest(
            trainingDataURL: url, rank: 8, numberOfSteps: steps, numberOfFrames: 9, frameRate: 25, resolution: .low,
            debugDataset: debug, validation: validation, validationNumberOfFrames: 9, validationResolution: .low)
    }
}

/// Worker settings for tests: tiny model on the CPU, quick heartbeats.
func testConfiguration(dataDirectory: String, base: String = "http://127.0.0.1:9") -> WorkerConfiguration {
    WorkerConfiguration(
        dataDirectory: dataDirectory, model: .tiny(seed: 0), device: "cpu", publicBaseURL: { base },
        leaseSeconds: 6, heartbeatInterval: .milliseconds(500), pollInterval: .milliseconds(200),
        checkpointInterval: 2, logEverySteps: 2, cancelGracePeriod: .seconds(5), validationSteps: 2,
        datasetLimits: DatasetLimitsForTests.value,
        webhook: WebhookPolicy(initialBackoff: .milliseconds(200), maxBackoff: .seconds(1), giveUpAfter: .seconds(30)))
}

import KilnDataset

enum DatasetLimitsForTests {
    static var value: DatasetLimits {
        var limits = DatasetLimits()
        limits.allowPrivateURLs = true
        limits.parallelism = 2
        return limits
    }
}

/// The suites that run real jobs (ffmpeg, the engine, worker processes). They run one after the
/// other: on a 2-core machine, jobs running side by side starve each other's polling and leases.
@Suite(.serialized) enum WorkerEndToEnd {}
