import Foundation
import Synchronization
import Testing

@testable import KilnEngine

/// The runner against the real Python engine (`python -m kiln_engine`) on the built-in tiny model.
/// Serialized: each test starts a PyTorch process, and the build machines have two cores.
@Suite("Engine runner (real Python engine, tiny model)", .serialized, .enabled(if: EngineFixture.python != nil))
struct EngineRunnerTests {
    @Test func tinyRunStreamsEventsAndReportsArtifacts() async throws {
        let job = try EngineFixture.job(clips: 2)
        defer { job.remove() }
        let seen = Mutex<[EngineEvent]>([])
        let runner = EngineRunner(python: EngineFixture.python!)
        let outcome = try await runner.run(
            spec: EngineFixture.spec(job, steps: 3, validation: ["a test pattern"]), in: job.root + "/engine",
            onEvent: { event in seen.withLock { $0.append(event) } })
        let events = seen.withLock { $0 }
        #expect(events.last == .done)
        #expect(events.contains(.phase(name: "training")))
        let training = events.compactMap { event -> EngineProgress? in
            if case .progress(let p) = event, p.phase == "training" { return p }
            return nil
        }
        #expect(training.map(\.step) == [1, 2, 3])
        #expect(training.allSatisfy { $0.total == 3 && $0.loss != nil && $0.learningRate != nil })
        let lora = try #require(outcome.artifact(.lora))
        #expect(FileManager.default.fileExists(atPath: lora.path))
        #expect(outcome.artifact(.config) != nil)
        let video = try #require(outcome.artifact(.video))
        #expect(video.path.hasSuffix(".mp4") && FileManager.default.fileExists(atPath: video.path))
        #expect(outcome.lastProgress?.phase == "validating")
        #expect(FileManager.default.fileExists(atPath: job.root + "/engine/spec.json"))
    }

    @Test func badManifestIsATypedEngineErrorThroughTheEventStream() async throws {
        let job = try EngineFixture.job(clips: 0)
        defer { job.remove() }
        try Data("{\"id\": \"0000\", \"media\": \"missing.mp4\"}\n".utf8).write(to: URL(fileURLWithPath: job.manifest))
        let specFile = job.root + "/spec.json"
        try JSONEncoder().encode(EngineFixture.spec(job, steps: 2)).write(to: URL(fileURLWithPath: specFile))
        let runner = EngineRunner(python: EngineFixture.python!)
        var events: [EngineEvent] = []
        do {
            for try await event in runner.events(specFile: specFile) { events.append(event) }
            Issue.record("expected the stream to throw")
        } catch let error as KilnEngineError {
            guard case .engineFailed(let kind, let message, let code) = error else {
                Issue.record("expected engineFailed, got \(error)")
                return
            }
            #expect(kind == .badDataset)
            #expect(code == 3)
            #expect(message.contains("manifest.jsonl line 1"))
            #expect(error.description.contains("BadDataset"))
        }
        #expect(events.contains { if case .error(.badDataset, _) = $0 { true } else { false } })
        #expect(!events.contains(.done))
    }

    /// Starts a long run in `job`, cancels it once training has begun, and returns its result and
    /// how long it took to stop after the cancel.
    func cancelOnceTraining(_ job: EngineFixture.Job, gracePeriod: Duration) async -> (Result<EngineOutcome, any Error>, Duration) {
        let runner = EngineRunner(python: EngineFixture.python!, gracePeriod: gracePeriod)
        let (training, trainingStarted) = AsyncStream<Void>.makeStream()
        let task = Task {
            // The stream also ends with the run, so a run that fails early cannot hang the test.
            defer { trainingStarted.finish() }
            return try await runner.run(spec: EngineFixture.spec(job, steps: 100_000), in: job.root + "/engine") { event in
                if case .progress(let p) = event, p.phase == "training" { trainingStarted.yield() }
            }
        }
        for await _ in training { break }
        let cancelledAt = ContinuousClock.now
        task.cancel()
        let result = await task.result
        return (result, ContinuousClock.now - cancelledAt)
    }

    @Test func cancellingStopsTheEngineAfterACheckpoint() async throws {
        let job = try EngineFixture.job(clips: 1)
        defer { job.remove() }
        let (result, stopTook) = await cancelOnceTraining(job, gracePeriod: .seconds(60))
        #expect(stopTook < .seconds(30))
        guard case .failure(let error as KilnEngineError) = result, case .cancelled(let checkpoint) = error else {
            Issue.record("expected .cancelled, got \(result)")
            return
        }
        let path = try #require(checkpoint)
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test func cancellingWithNoGraceKillsTheProcessGroup() async throws {
        let job = try EngineFixture.job(clips: 1)
        defer { job.remove() }
        let (result, _) = await cancelOnceTraining(job, gracePeriod: .zero)
        guard case .failure(let error as KilnEngineError) = result, case .cancelled(let checkpoint) = error else {
            Issue.record("expected .cancelled, got \(result)")
            return
        }
        // SIGKILL right behind SIGTERM: the engine had no time to finish its step and save.
        #expect(checkpoint == nil)
    }
}

/// Paths and helpers for running the real engine from Swift tests.
enum EngineFixture {
    /// The repository's venv interpreter, when `make setup` has created it.
    static let python: PythonInterpreter? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let path = root + "/.venv/bin/python"
        return FileManager.default.isExecutableFile(atPath: path) ? PythonInterpreter(path: path, engineDirectory: root + "/engine") : nil
    }()

    /// Tiny model written once per machine, shared by every run.
    static let cacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-engine-swift-tests-cache").path

    struct Job {
        var root: String
        var manifest: String { root + "/dataset/manifest.jsonl" }
        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    /// A job folder with `clips` conformed 64x64, 9-frame clips (+ stereo wav) and their manifest.
    static func job(clips: Int) throws -> Job {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-engine-\(UUID().uuidString)").path
        let dataset = root + "/dataset"
        try FileManager.default.createDirectory(atPath: dataset, withIntermediateDirectories: true)
        var lines = ""
        for index in 0..<clips {
            let name = String(format: "%04d", index)
            try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=25", "-frames:v", "9", "-pix_fmt", "yuv420p",
                        "-c:v", "libx264", "\(dataset)/\(name).mp4"])
            try ffmpeg(["-f", "lavfi", "-i", "sine=frequency=\(220 * (index + 1)):sample_rate=48000", "-t", "0.36", "-ac", "2",
                        "-c:a", "pcm_s16le", "\(dataset)/\(name).wav"])
            lines += #"{"id":"\#(name)","media":"\#(name).mp4","audio":"\#(name).wav","caption":"clip \#(index)","#
                + #""width":64,"height":64,"frames":9,"fps":25,"source":"test","scene":0,"window":0}"# + "\n"
        }
        try Data(lines.utf8).write(to: URL(fileURLWithPath: dataset + "/manifest.jsonl"))
        return Job(root: root)
    }

    static func ffmpeg(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-v", "error", "-y"] + arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    /// The engine spec of engine/README.md, for the tiny model on the CPU.
    struct Spec: Encodable, Sendable {
        struct Model: Encodable, Sendable {
            var kind = "tiny"
            var seed = 0
        }
        struct Request: Encodable, Sendable {
            struct Prompt: Encodable, Sendable { var prompt: String }
            var rank = 8
            var number_of_steps: Int
            var number_of_frames = 9
            var frame_rate = 25
            var validation: [Prompt]
            var validation_number_of_frames = 9
        }
        var manifest: String
        var output_dir: String
        var cache_dir: String
        var model = Model()
        var device = "cpu"
        var request: Request
        var checkpoint_interval = 0
        var validation_steps = 2
        var validation_size = [64, 64]
    }

    static func spec(_ job: Job, steps: Int, validation: [String] = []) -> Spec {
        Spec(manifest: job.manifest, output_dir: job.root + "/engine/out", cache_dir: cacheDirectory,
             request: .init(number_of_steps: steps, validation: validation.map { .init(prompt: $0) }))
    }
}
