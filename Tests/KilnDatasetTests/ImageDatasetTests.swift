import Foundation
import KilnCore
import Testing
@testable import KilnDataset

/// Image datasets: single-frame samples, unaffected by timing and audio options.
@Suite struct ImageDatasetTests {
    @Test func imagesBecomeExactSingleFrames() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let src = root.appendingPathComponent("src")
        try Fixtures.image(src.appendingPathComponent("odd.png"), size: "333x211")
        try Fixtures.image(src.appendingPathComponent("tall/Photo.JPEG"), size: "97x401")
        try Fixtures.image(src.appendingPathComponent("w.webp"), size: "250x250")
        try Fixtures.write("a tall photo\r\n", to: src.appendingPathComponent("tall/photo.txt"))
        try Fixtures.write("Thumbs", to: src.appendingPathComponent("Thumbs.db"))
        try Fixtures.write("stray", to: src.appendingPathComponent("orphan.txt"))
        let zip = root.appendingPathComponent("images.zip")
        try Fixtures.zip(src, to: zip)
        let job = root.appendingPathComponent("job")
        // Timing and audio options are ignored for images.
        let options = DatasetOptions(numberOfFrames: 33, frameRate: 8, resolution: .low, aspectRatio: .landscape,
                                     triggerPhrase: "sks", autoScaleInput: true, withAudio: true)
        let report = try await DatasetPreparer(options: options).prepare(source: .localFile(zip), into: job)
        let dataset = job.appendingPathComponent("dataset")
        let manifest = try Fixtures.manifest(dataset)
        #expect(report.mediaKind == "image" && !report.withAudio)
        #expect(manifest.map(\.source) == ["odd.png", "tall/Photo.JPEG", "w.webp"])
        #expect(manifest.map(\.media) == ["0000.png", "0001.png", "0002.png"])
        #expect(manifest.map(\.caption) == ["sks", "sks a tall photo", "sks"])
        for entry in manifest {
            #expect(entry.audio == nil && entry.frames == 1 && entry.width == 672 && entry.height == 384)
            let facts = try Fixtures.videoFacts(dataset.appendingPathComponent(entry.media))
            #expect(facts.width == 672 && facts.height == 384 && facts.frames == 1)
        }
        #expect(report.ignored.contains { $0.hasPrefix("Thumbs.db") })
        #expect(report.ignored.contains { $0.hasPrefix("orphan.txt") && $0.contains("caption without") })
    }

    @Test func rerunReplacesTheDatasetAndKeepsNothingStale() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let job = root.appendingPathComponent("job")
        for count in [3, 1] {
            let src = root.appendingPathComponent("src\(count)")
            for i in 0..<count { try Fixtures.image(src.appendingPathComponent("img\(i).png"), size: "64x64") }
            let zip = root.appendingPathComponent("set\(count).zip")
            try Fixtures.zip(src, to: zip)
            _ = try await DatasetPreparer(options: DatasetOptions(resolution: .low, debugDataset: count == 3))
                .prepare(source: .localFile(zip), into: job)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: job.appendingPathComponent("dataset").path).sorted()
        #expect(files == ["0000.png", "manifest.jsonl", "report.json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: job.path) == ["dataset"])
    }

    @Test func captionsAndTriggers() throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("c.txt")
        try Data([0xEF, 0xBB, 0xBF] + Array("  A dog\r\nruns \r\n".utf8)).write(to: file)
        #expect(DatasetScanner.readCaption(file).text == "A dog runs")
        #expect(DatasetScanner.applyTrigger("ohwx", to: "A dog runs") == "ohwx A dog runs")
        #expect(DatasetScanner.applyTrigger("ohwx", to: "a photo of OHWX dog") == "a photo of OHWX dog")
        #expect(DatasetScanner.applyTrigger("", to: "x") == "x")
        #expect(DatasetScanner.applyTrigger("ohwx", to: "") == "ohwx")
    }

    @Test func optionsOutOfRangeAreRefusedByField() async throws {
        for (options, field) in [(DatasetOptions(numberOfFrames: 90), "number_of_frames"),
                                 (DatasetOptions(frameRate: 61), "frame_rate"),
                                 (DatasetOptions(splitInputDurationThreshold: 0.5), "split_input_duration_threshold")] {
            #expect(throws: DatasetError.self) { try options.validate() }
            do { try options.validate() } catch { #expect(error.description.hasPrefix(field)) }
        }
        #expect(DatasetOptions().width == 768 && DatasetOptions().height == 768)
        // The defaults are fal's, the same as an API request's.
        let defaults = DatasetOptions()
        #expect(defaults.numberOfFrames == 89 && defaults.frameRate == 25 && defaults.splitInputDurationThreshold == 30)
        #expect(defaults.splitInputIntoScenes && !defaults.autoScaleInput && defaults.withAudio == nil && !defaults.debugDataset)
        #expect(defaults == DatasetOptions(request: TrainingRequest(trainingDataURL: "https://example.com/data.zip")))
        #expect(DatasetOptions(resolution: .high, aspectRatio: .portrait).width == 704)
    }

    @Test func toolsRunByNameOrByAbsolutePath() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let image = root.appendingPathComponent("a.png")
        try Fixtures.image(image, size: "40x30")
        let path = try Fixtures.run("sh", ["-c", "command -v ffprobe"]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(path.hasPrefix("/"))
        for tool in [MediaTool(), MediaTool(ffprobe: path)] {
            let probe = try await tool.probe(image, kind: .image, displayName: "a.png")
            #expect(probe.displayWidth == 40 && probe.displayHeight == 30, "\(tool.ffprobe)")
        }
    }

    @Test func sceneRangesMergeShortScenes() {
        let ranges = SceneDetector.ranges(cuts: [0.5, 5, 5.4, 9.8], duration: 10, minimum: 1)
        #expect(ranges == [0..<5, 5..<10])
        #expect(SceneDetector.ranges(cuts: [], duration: 4, minimum: 1) == [0..<4])
    }
}
