import Foundation
import Testing
@testable import KilnDataset

/// Phone photos store pixels sideways and an EXIF orientation tag; ffmpeg turns the pixels
/// upright when decoding, so the probe must report the upright (displayed) shape too, or the
/// scale-to-cover maths stretch and crop the wrong way.
@Suite struct ImageOrientationTests {
    /// Prepares `src` as a landscape low dataset (672x384) and returns the report and folder.
    private func prepare(_ src: URL, root: URL) async throws -> (DatasetReport, URL) {
        let zip = root.appendingPathComponent("photos.zip")
        try Fixtures.zip(src, to: zip)
        let job = root.appendingPathComponent("job")
        let options = DatasetOptions(resolution: .low, aspectRatio: .landscape)
        let report = try await DatasetPreparer(options: options).prepare(source: .localFile(zip), into: job)
        return (report, job.appendingPathComponent("dataset"))
    }

    /// `size` of each source as written to report.json on disk.
    private func reportedSizes(_ dataset: URL) throws -> [String] {
        let data = try Data(contentsOf: dataset.appendingPathComponent("report.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let sources = try #require(json["sources"] as? [[String: Any]])
        return sources.map { $0["size"] as? String ?? "missing" }
    }

    @Test(arguments: 1...8)
    func everyOrientationComesOutUprightAndUnstretched(orientation: Int) async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let src = root.appendingPathComponent("src")
        try Fixtures.orientedJPEG(src.appendingPathComponent("photo.jpg"), orientation: orientation)
        let (report, dataset) = try await prepare(src, root: root)

        #expect(report.sources.map(\.size) == ["64x32"])
        #expect(try reportedSizes(dataset) == ["64x32"])
        let entry = try #require(try Fixtures.manifest(dataset).first)
        #expect(entry.width == 672 && entry.height == 384)

        // 64x32 covers 672x384 at scale 12 (768x384), then 48 px are cropped off each side:
        // the 16x8 red corner becomes 144x96 at the top-left.
        let frame = try Fixtures.rgbFrame(dataset.appendingPathComponent(entry.media))
        #expect(frame.width == 672 && frame.height == 384)
        for (x, y) in [(4, 4), (70, 48), (130, 88)] {
            #expect(frame.isRed(x, y), "expected red at (\(x), \(y))")
        }
        for (x, y) in [(660, 10), (336, 192), (10, 370), (660, 370), (200, 40), (60, 150)] {
            #expect(frame.isBlue(x, y), "expected blue at (\(x), \(y))")
        }
        let redWidth = (0..<frame.width).prefix { frame.isRed($0, 40) }.count
        let redHeight = (0..<frame.height).prefix { frame.isRed(40, $0) }.count
        #expect(abs(redWidth - 144) <= 6, "red corner is \(redWidth) px wide, expected 144")
        #expect(abs(redHeight - 96) <= 6, "red corner is \(redHeight) px high, expected 96")
    }

    @Test func aBrokenExifBlockDoesNotStopThePhoto() async throws {
        let root = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let src = root.appendingPathComponent("src")
        try Fixtures.orientedJPEG(src.appendingPathComponent("broken.jpg"), orientation: 6, corruptExif: true)
        try Fixtures.orientedJPEG(src.appendingPathComponent("fine.jpg"), orientation: 1)
        let (report, dataset) = try await prepare(src, root: root)

        #expect(report.sources.map(\.path) == ["broken.jpg", "fine.jpg"])
        #expect(report.sources.allSatisfy { $0.dropped.isEmpty && $0.kept.count == 1 })
        // ffmpeg ignores an unreadable orientation and shows the stored pixels, so must the probe.
        #expect(report.sources.map(\.size) == ["32x64", "64x32"])
        let manifest = try Fixtures.manifest(dataset)
        #expect(manifest.count == 2)
        for entry in manifest {
            let facts = try Fixtures.videoFacts(dataset.appendingPathComponent(entry.media))
            #expect(facts.width == 672 && facts.height == 384 && facts.frames == 1)
        }
    }
}
