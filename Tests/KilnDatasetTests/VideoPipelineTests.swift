import Foundation
import KilnCore
import Testing
@testable import KilnDataset

/// One prepared dataset from a zip with every awkward kind of video, checked with ffprobe.
@Suite(.serialized) struct VideoPipelineTests {
    static let frames = 17
    static let fps = 25

    /// Builds the archive once per test that needs it (the suite is serialized to spare the 2 cores).
    static func prepareMixedVideos(debug: Bool = false) async throws -> (job: URL, root: URL, report: DatasetReport) {
        let root = try Fixtures.tempFolder()
        let src = root.appendingPathComponent("src")
        try Fixtures.video(src.appendingPathComponent("landscape.mp4"), rate: 30, duration: 1.5, audio: .stereo)
        try Fixtures.write("\u{FEFF}a red car\r\ndriving\r\n", to: src.appendingPathComponent("landscape.txt"))
        try Fixtures.rotatedVideo(src.appendingPathComponent("phone/portrait.mov"), duration: 1.0)
        try Fixtures.write("TOK a phone clip", to: src.appendingPathComponent("phone/portrait.txt"))
        try Fixtures.video(src.appendingPathComponent("Sixty.MKV"), rate: 60, duration: 1.2, audio: .mono)
        try Fixtures.video(src.appendingPathComponent("vfr.mp4"), rate: 30, duration: 1.5, audio: .stereo,
                           extraVideoFilter: "select='lt(n\\,10)+not(mod(n\\,3))'", codec: ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-fps_mode", "vfr"])
        try Fixtures.video(src.appendingPathComponent("short.avi"), rate: 25, duration: 0.4, audio: .stereo,
                           codec: ["-c:v", "mpeg4"])
        try Fixtures.twoSceneVideo(src.appendingPathComponent("scenes.mp4"), sceneLength: 2.2)
        try Fixtures.write("x", to: src.appendingPathComponent("__MACOSX/._landscape.mp4"))
        try Fixtures.write("x", to: src.appendingPathComponent(".DS_Store"))
        try Fixtures.write("%PDF", to: src.appendingPathComponent("notes.pdf"))
        let zip = root.appendingPathComponent("data.zip")
        try Fixtures.zip(src, to: zip)
        let job = root.appendingPathComponent("job")
        let options = DatasetOptions(numberOfFrames: frames, frameRate: fps, resolution: .low, aspectRatio: .square,
                                     triggerPhrase: "TOK", splitInputDurationThreshold: 3, debugDataset: debug)
        let report = try await DatasetPreparer(options: options).prepare(source: .localFile(zip), into: job)
        return (job, root, report)
    }

    @Test func everyClipIsExactAndAudioMatches() async throws {
        let (job, root, report) = try await Self.prepareMixedVideos(debug: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let dataset = job.appendingPathComponent("dataset")
        let manifest = try Fixtures.manifest(dataset)
        #expect(report.withAudio)
        #expect(manifest.count == report.totals.samples)
        // landscape 1.5 s -> 2 windows; portrait 1 s, 60 fps 1.2 s, vfr 1.5 s -> 1, 1, 2; scenes 2 x 2.2 s -> 3 + 3.
        let bySource = Dictionary(grouping: manifest, by: \.source).mapValues(\.count)
        #expect(bySource["landscape.mp4"] == 2)
        #expect(bySource["phone/portrait.mov"] == 1)
        #expect(bySource["Sixty.MKV"] == 1)
        #expect(bySource["vfr.mp4"] == 2)
        #expect(bySource["scenes.mp4"] == 6)
        #expect(bySource["short.avi"] == nil)
        let expectedSamples = Self.frames * DatasetFormat.audioSampleRate / Self.fps
        for (index, entry) in manifest.enumerated() {
            #expect(entry.id == String(format: "%04d", index))
            #expect(entry.media == "\(entry.id).mp4")
            #expect(entry.width == 512 && entry.height == 512 && entry.frames == Self.frames && entry.fps == Self.fps)
            let facts = try Fixtures.videoFacts(dataset.appendingPathComponent(entry.media))
            #expect(facts == .init(frames: Self.frames, width: 512, height: 512, fps: "25/1"), "\(entry.source) window \(entry.window)")
            let audio = try #require(entry.audio)
            let wav = try Fixtures.audioFacts(dataset.appendingPathComponent(audio))
            #expect(wav.rate == 48_000 && wav.channels == 2 && wav.samples == expectedSamples, "\(entry.source)")
        }
        // The debug zip holds the prepared folder.
        let listing = try Fixtures.run("unzip", ["-l", job.appendingPathComponent("debug_dataset.zip").path])
        #expect(listing.contains("dataset/manifest.jsonl") && listing.contains("dataset/report.json") && listing.contains("dataset/0000.mp4"))
        // Nothing else is left in the job folder.
        #expect(try FileManager.default.contentsOfDirectory(atPath: job.path).sorted() == ["dataset", "debug_dataset.zip"])
    }

    @Test func captionsReportsScenesAndRotation() async throws {
        let (job, root, report) = try await Self.prepareMixedVideos()
        defer { try? FileManager.default.removeItem(at: root) }
        let dataset = job.appendingPathComponent("dataset")
        let manifest = try Fixtures.manifest(dataset)
        let landscape = manifest.filter { $0.source == "landscape.mp4" }
        #expect(landscape.map(\.caption) == ["TOK a red car driving", "TOK a red car driving"])
        #expect(landscape.map(\.window) == [0, 1])
        #expect(landscape.allSatisfy { $0.scene == nil })
        // The trigger is not doubled when the caption already has it; missing captions become the trigger alone.
        #expect(manifest.first { $0.source == "phone/portrait.mov" }?.caption == "TOK a phone clip")
        #expect(manifest.first { $0.source == "vfr.mp4" }?.caption == "TOK")

        // The scene cut at 2.2 s splits the long video into two scenes sharing the caption.
        let scenes = manifest.filter { $0.source == "scenes.mp4" }
        #expect(scenes.map(\.scene) == [0, 0, 0, 1, 1, 1])
        #expect(scenes.map(\.window) == [0, 1, 2, 0, 1, 2])
        let sceneReport = try #require(report.sources.first { $0.path == "scenes.mp4" })
        #expect(sceneReport.scenes == 2)

        // Dropped and ignored files are explained.
        let short = try #require(report.sources.first { $0.path == "short.avi" })
        #expect(short.kept.isEmpty && short.dropped.first?.contains("shorter than one window") == true)
        #expect(report.totals.droppedSources == 1)
        #expect(report.ignored.contains { $0.hasPrefix("__MACOSX/") })
        #expect(report.ignored.contains { $0.hasPrefix("notes.pdf") })
        #expect(report.ignored.contains { $0.hasPrefix(".DS_Store") })
        let portrait = try #require(report.sources.first { $0.path == "phone/portrait.mov" })
        #expect(portrait.size == "180x320")
        #expect(portrait.warnings.contains { $0.contains("no audio stream") })
        #expect(report.sources.first { $0.path == "Sixty.MKV" }?.warnings.contains { $0.contains("mono") } == true)
        #expect(report.sources.first { $0.path == "vfr.mp4" }?.warnings.contains { $0.contains("no caption") } == true)

        // Rotation honoured: the displayed frame is black on top, white at the bottom.
        let portraitClip = try #require(manifest.first { $0.source == "phone/portrait.mov" })
        let luma = try Fixtures.topAndBottomLuma(dataset.appendingPathComponent(portraitClip.media), width: 512, height: 512)
        #expect(luma.top < 40 && luma.bottom > 215, "top \(luma.top) bottom \(luma.bottom)")

        // Source audio is peak-normalised to about -1 dBFS; the silent portrait clip stays silent.
        let wav = try WavFile.read(dataset.appendingPathComponent(landscape[0].audio!))
        let peak = wav.samples.map { abs(Int($0)) }.max() ?? 0
        #expect(abs(Double(peak) - DatasetFormat.normalizedPeak * 32767) < 3)
        let silent = try WavFile.read(dataset.appendingPathComponent(portraitClip.audio!))
        #expect(silent.samples.allSatisfy { $0 == 0 })

        // report.json on disk matches what was returned.
        let onDisk = try JSONDecoder().decode(DatasetReport.self, from: Data(contentsOf: dataset.appendingPathComponent("report.json")))
        #expect(onDisk == report)
        #expect(!FileManager.default.fileExists(atPath: job.appendingPathComponent("debug_dataset.zip").path))
    }

    @Test func autoScaleKeepsShortClipsAsOneRetimedWindow() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let src = root.appendingPathComponent("src")
        try Fixtures.video(src.appendingPathComponent("short.mp4"), duration: 0.4, audio: .stereo)
        try Fixtures.video(src.appendingPathComponent("long.mp4"), duration: 2.0, audio: .none)
        let zip = root.appendingPathComponent("data.zip")
        try Fixtures.zip(src, to: zip)
        for preservePitch in [true, false] {
            let job = root.appendingPathComponent("job")
            let options = DatasetOptions(numberOfFrames: 17, frameRate: 25, resolution: .low, aspectRatio: .landscape,
                                         autoScaleInput: true, audioPreservePitch: preservePitch)
            let report = try await DatasetPreparer(options: options).prepare(source: .localFile(zip), into: job)
            let dataset = job.appendingPathComponent("dataset")
            let manifest = try Fixtures.manifest(dataset)
            #expect(manifest.map(\.source) == ["long.mp4", "short.mp4"])
            #expect(report.totals.droppedSources == 0)
            for entry in manifest {
                #expect(try Fixtures.videoFacts(dataset.appendingPathComponent(entry.media)) == .init(frames: 17, width: 672, height: 384, fps: "25/1"))
                let wav = try Fixtures.audioFacts(dataset.appendingPathComponent(try #require(entry.audio)))
                #expect(wav.samples == 32_640 && wav.channels == 2)
            }
            #expect(report.sources.allSatisfy { $0.warnings.contains { $0.contains("retimed") } })
            // Stretched audio is not silence.
            let short = try WavFile.read(dataset.appendingPathComponent(manifest[1].audio!))
            #expect(short.samples.contains { $0 != 0 })
        }
    }

    @Test func audioOffWritesNoWav() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let src = root.appendingPathComponent("src")
        try Fixtures.video(src.appendingPathComponent("a.webm"), duration: 1.0, audio: .stereo,
                           codec: ["-c:v", "libvpx", "-c:a", "libvorbis", "-deadline", "realtime"])
        let zip = root.appendingPathComponent("data.zip")
        try Fixtures.zip(src, to: zip)
        let job = root.appendingPathComponent("job")
        let options = DatasetOptions(numberOfFrames: 9, frameRate: 10, resolution: .low, aspectRatio: .portrait, withAudio: false)
        let report = try await DatasetPreparer(options: options).prepare(source: .localFile(zip), into: job)
        let manifest = try Fixtures.manifest(job.appendingPathComponent("dataset"))
        #expect(!report.withAudio)
        #expect(manifest.count == 1 && manifest[0].audio == nil)
        #expect(try Fixtures.videoFacts(job.appendingPathComponent("dataset/0000.mp4")) == .init(frames: 9, width: 384, height: 672, fps: "10/1"))
        #expect(!Fixtures.listing(job.appendingPathComponent("dataset")).contains { $0.hasSuffix(".wav") })
        // The manifest line carries every contract field, nulls included.
        let line = try String(contentsOf: job.appendingPathComponent("dataset/manifest.jsonl"), encoding: .utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["id", "media", "audio", "caption", "width", "height", "frames", "fps", "source", "scene", "window"])
        #expect(object["audio"] is NSNull && object["scene"] is NSNull)
    }
}
