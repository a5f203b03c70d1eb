import Foundation
import Logging
import ZIPFoundation

/// Turns a user's zip (local or by URL) into the conformed training set of ARCHITECTURE.md §6.
///
/// Output: `<jobFolder>/dataset/` with `NNNN.mp4|png`, `NNNN.wav`, `manifest.jsonl`, `report.json`,
/// and `<jobFolder>/debug_dataset.zip` when `debug_dataset` is set. All work happens in a hidden
/// folder inside `jobFolder` that is renamed into place at the end, so an interrupted or refused
/// run leaves no half-written dataset and never writes outside `jobFolder`.
public struct DatasetPreparer: Sendable {
    /// The request's dataset fields.
    public var options: DatasetOptions
    /// Operator caps and knobs.
    public var limits: DatasetLimits
    /// Where progress and warnings are logged.
    public var logger: Logger
    /// Maps a URL this server issued (`/files/...`) to the stored file, or nil for other URLs.
    public var issuedFileResolver: @Sendable (URL) -> URL?
    var tool = MediaTool()

    /// Creates a preparer.
    public init(options: DatasetOptions, limits: DatasetLimits = DatasetLimits(),
                logger: Logger = Logger(label: "kiln.dataset"),
                issuedFileResolver: @escaping @Sendable (URL) -> URL? = { _ in nil }) {
        self.options = options
        self.limits = limits
        self.logger = logger
        self.issuedFileResolver = issuedFileResolver
    }

    /// Name of the dataset folder inside the job folder.
    public static let datasetFolderName = "dataset"
    /// Name of the debug zip inside the job folder.
    public static let debugZipName = "debug_dataset.zip"

    /// Fetches, checks, extracts, probes, splits and conforms `source` into `jobFolder/dataset`.
    ///
    /// Throws `DatasetError` for a refused archive, a failed download or when no sample remains;
    /// a source that cannot be used is dropped and explained in the report instead.
    public func prepare(source: DatasetSource, into jobFolder: URL,
                        progress: @escaping @Sendable (DatasetProgress) -> Void = { _ in }) async throws -> DatasetReport {
        try options.validate()
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: jobFolder, withIntermediateDirectories: true)
        } catch {
            throw DatasetError.outputFailed(path: jobFolder.path, reason: error.localizedDescription)
        }
        let work = jobFolder.appendingPathComponent(".dataset-work-\(UUID().uuidString)")
        let out = work.appendingPathComponent(Self.datasetFolderName)
        let extracted = work.appendingPathComponent("files")
        do {
            try fm.createDirectory(at: out, withIntermediateDirectories: true)
            try fm.createDirectory(at: extracted, withIntermediateDirectories: true)
        } catch {
            throw DatasetError.outputFailed(path: work.path, reason: error.localizedDescription)
        }
        defer { try? fm.removeItem(at: work) }

        let (archive, archiveName) = try await obtainArchive(source, work: work, progress: progress)
        let unzipper = SafeUnzipper(limits: limits)
        let entries = try unzipper.inspect(archive, displayName: archiveName)
        let files = entries.enumerated().filter { !$0.element.isDirectory }
        let scan = try DatasetScanner.scan(files.map(\.element.path))
        let wanted = Set(scan.sources.flatMap { [$0.path] + ($0.captionPath.map { [$0] } ?? []) })
        var selected: [Int: ZipDirectoryEntry] = [:]
        for (index, entry) in files where wanted.contains(entry.path) { selected[index] = entry }
        progress(.extracting(entries: selected.count))
        let local = try unzipper.extract(archive, displayName: archiveName, selected: selected, into: extracted)
        try Task.checkCancellation()

        let analysed = try await analyse(scan.sources, local: local, progress: progress)
        var plan = makePlan(analysed, kind: scan.kind)
        try Task.checkCancellation()

        // Fewer threads per ffmpeg when several run at once, so the cores are shared, not fought over.
        let parallel = min(limits.effectiveParallelism, max(plan.jobs.count, 1))
        let conformer = ClipConformer(tool: tool, options: options,
                                      threads: limits.ffmpegThreads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / parallel))
        let counter = Counter()
        let total = plan.jobs.count
        progress(.conforming(done: 0, total: total))
        let results = try await boundedMap(plan.jobs, limit: parallel) { job -> Result<[String], DatasetError> in
            do throws(DatasetError) {
                let warnings = try await conformer.conform(job, into: out)
                progress(.conforming(done: counter.increment(), total: total))
                return .success(warnings)
            } catch {
                progress(.conforming(done: counter.increment(), total: total))
                return .failure(error)
            }
        }
        try Task.checkCancellation()

        var manifest: [ManifestEntry] = []
        var sampleIndex = 0
        for (jobIndex, job) in plan.jobs.enumerated() {
            let owner = plan.owner[jobIndex]
            switch results[jobIndex] {
            case let .failure(error):
                plan.reports[owner].dropped.append("\(plan.labels[jobIndex]): does not decode or convert: \(error)")
                logger.warning("dropped", metadata: ["source": "\(job.sourcePath)", "reason": "\(error)"])
            case let .success(warnings):
                plan.reports[owner].warnings += warnings.map { "\(plan.labels[jobIndex]): \($0)" }
                for (window, stem) in job.stems.enumerated() {
                    let id = String(format: "%04d", sampleIndex)
                    sampleIndex += 1
                    let ext = job.kind == .image ? "png" : "mp4"
                    let audio = job.audio == .none ? nil : "\(id).wav"
                    do {
                        try fm.moveItem(at: out.appendingPathComponent("\(stem).\(ext)"), to: out.appendingPathComponent("\(id).\(ext)"))
                        if audio != nil {
                            try fm.moveItem(at: out.appendingPathComponent("\(stem).wav"), to: out.appendingPathComponent("\(id).wav"))
                        }
                    } catch {
                        throw DatasetError.outputFailed(path: out.appendingPathComponent(stem).path, reason: error.localizedDescription)
                    }
                    plan.reports[owner].kept.append(id)
                    manifest.append(ManifestEntry(
                        id: id, media: "\(id).\(ext)", audio: audio, caption: plan.captions[jobIndex],
                        width: options.width, height: options.height,
                        frames: job.kind == .image ? 1 : options.numberOfFrames, fps: options.frameRate,
                        source: job.sourcePath, scene: plan.scenes[jobIndex], window: window))
                }
            }
        }
        let droppedSources = plan.reports.filter { $0.kept.isEmpty }
        guard !manifest.isEmpty else {
            throw DatasetError.nothingUsable(dropped: droppedSources.count,
                                             firstReason: droppedSources.first.map { "\($0.path): \($0.dropped.first ?? "no sample")" } ?? "no source")
        }
        let videoSeconds = scan.kind == .video ? Double(manifest.count * options.numberOfFrames) / Double(options.frameRate) : 0
        var report = DatasetReport(
            options: options, width: options.width, height: options.height, withAudio: plan.withAudio,
            mediaKind: scan.kind.rawValue, sources: plan.reports, ignored: scan.ignored,
            totals: .init(sources: plan.reports.count, samples: manifest.count, droppedSources: droppedSources.count,
                          ignoredFiles: scan.ignored.count, outputSeconds: videoSeconds),
            debugZip: options.debugDataset ? jobFolder.appendingPathComponent(Self.debugZipName).path : nil)
        try writeOutputs(manifest: manifest, report: &report, out: out, work: work, jobFolder: jobFolder, progress: progress)
        progress(.finished(samples: manifest.count))
        return report
    }

    // MARK: - Steps

    private func obtainArchive(_ source: DatasetSource, work: URL,
                               progress: @escaping @Sendable (DatasetProgress) -> Void) async throws -> (URL, String) {
        let archive: URL
        let name: String
        switch source {
        case let .localFile(url):
            archive = url; name = url.path
        case let .url(url):
            name = url.absoluteString
            if url.isFileURL {
                throw DatasetError.unsupportedURL(url: url.absoluteString)
            } else if let issued = issuedFileResolver(url) {
                archive = issued
            } else {
                archive = work.appendingPathComponent("download.zip")
                try await DatasetFetcher(limits: limits, logger: logger).fetch(url, to: archive, progress: progress)
            }
        }
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: archive.path) } catch {
            throw DatasetError.unreadableFile(path: name, reason: "no such file")
        }
        guard (attributes[.type] as? FileAttributeType) == .typeRegular else {
            throw DatasetError.unreadableFile(path: name, reason: "not a regular file")
        }
        if let size = attributes[.size] as? Int64 ?? (attributes[.size] as? Int).map(Int64.init), size > limits.maxArchiveBytes {
            throw DatasetError.archiveTooLarge(source: name, limit: limits.maxArchiveBytes)
        }
        return (archive, name)
    }

    /// A source after reading its caption, probing it and finding its scenes.
    struct Analysed: Sendable {
        var source: ScannedSource
        var caption: String
        var probe: MediaProbe?
        var file: URL?
        var failure: String?
        var scenes: [Range<Double>]
        var warnings: [String]
    }

    private func analyse(_ sources: [ScannedSource], local: [String: URL],
                         progress: @escaping @Sendable (DatasetProgress) -> Void) async throws -> [Analysed] {
        let counter = Counter()
        let total = sources.count
        progress(.probing(done: 0, total: total))
        return try await boundedMap(sources, limit: limits.effectiveParallelism) { source -> Analysed in
            defer { progress(.probing(done: counter.increment(), total: total)) }
            var result = Analysed(source: source, caption: "", probe: nil, file: local[source.path], failure: nil,
                                  scenes: [], warnings: [])
            if let captionPath = source.captionPath, let url = local[captionPath] {
                let (text, warning) = DatasetScanner.readCaption(url)
                result.caption = text
                if let warning { result.warnings.append(warning) }
                if text.isEmpty { result.warnings.append("caption file is empty") }
            } else {
                result.warnings.append("no caption file (\((source.path as NSString).deletingPathExtension).txt); empty caption used")
            }
            result.caption = DatasetScanner.applyTrigger(options.triggerPhrase, to: result.caption)
            guard let file = local[source.path] else {
                result.failure = "not extracted"
                return result
            }
            do {
                let probe = try await tool.probe(file, kind: source.kind, displayName: source.path)
                result.probe = probe
                if source.kind == .video {
                    guard probe.duration > 0 else {
                        result.failure = "no duration: the video has no decodable frames"
                        return result
                    }
                    if options.splitInputIntoScenes && probe.duration > options.splitInputDurationThreshold {
                        let detector = SceneDetector(tool: tool, threshold: limits.sceneThreshold,
                                                     minimumDuration: limits.minimumSceneDuration)
                        result.scenes = try await detector.scenes(of: file, displayName: source.path, duration: probe.duration)
                    } else {
                        result.scenes = [0..<probe.duration]
                    }
                }
            } catch {
                result.failure = "\(error)"
            }
            return result
        }
    }

    /// What to run and how each run maps back to the report.
    struct Plan {
        var jobs: [SegmentJob] = []
        var owner: [Int] = []          // job -> report index
        var labels: [String] = []      // job -> "scene 1 (12.0–20.4 s)" or "source"
        var scenes: [Int?] = []        // job -> manifest scene
        var captions: [String] = []    // job -> caption
        var reports: [DatasetReport.SourceReport] = []
        var withAudio = false
    }

    func makePlan(_ analysed: [Analysed], kind: MediaKind) -> Plan {
        var plan = Plan()
        plan.withAudio = kind == .video && (options.withAudio ?? analysed.contains { $0.probe?.hasAudio == true })
        let window = options.windowDuration
        let frames = options.numberOfFrames
        var stemCounter = 0
        func nextStems(_ count: Int) -> [String] {
            defer { stemCounter += count }
            return (stemCounter..<(stemCounter + count)).map { String(format: "part-%06d", $0) }
        }
        for item in analysed {
            let probe = item.probe
            var report = DatasetReport.SourceReport(
                path: item.source.path, kind: item.source.kind.rawValue, scenes: max(item.scenes.count, 1),
                warnings: item.warnings, duration: item.source.kind == .video ? probe?.duration : nil,
                size: probe.map { "\($0.displayWidth)x\($0.displayHeight)" })
            let reportIndex = plan.reports.count
            guard let probe, let file = item.file, item.failure == nil else {
                report.dropped.append(item.failure ?? "unreadable")
                plan.reports.append(report)
                continue
            }
            func add(_ job: SegmentJob, label: String, scene: Int?) {
                plan.jobs.append(job); plan.owner.append(reportIndex); plan.labels.append(label)
                plan.scenes.append(scene); plan.captions.append(item.caption)
            }
            if item.source.kind == .image {
                add(SegmentJob(sourcePath: item.source.path, file: file, kind: .image, probe: probe, start: 0, length: 0,
                               stems: nextStems(1), timeScale: nil, audio: .none), label: "image", scene: nil)
                plan.reports.append(report)
                continue
            }
            let audio: SegmentJob.Audio = plan.withAudio ? (probe.hasAudio ? .source : .silence) : .none
            if audio == .silence { report.warnings.append("no audio stream; silent audio written") }
            if probe.hasAudio && probe.audioChannels == 1 && audio == .source {
                report.warnings.append("mono audio duplicated to both stereo channels")
            }
            let split = item.scenes.count > 1
            for (sceneIndex, range) in item.scenes.enumerated() {
                let length = range.upperBound - range.lowerBound
                let label = split
                    ? String(format: "scene %d (%.2f-%.2f s)", sceneIndex, range.lowerBound, range.upperBound)
                    : "source"
                var timeScale: Double?
                var count: Int
                if options.autoScaleInput {
                    count = 1
                    timeScale = window / length
                    if abs(window / length - 1) > 0.01 {
                        report.warnings.append(String(format: "%@: retimed from %.2f s to %.2f s (speed x%.3f)", label, length, window, length / window))
                    }
                } else {
                    let available = Int((length * Double(options.frameRate) + 0.01).rounded(.down))
                    count = available / frames
                    if count == 0 {
                        report.dropped.append(String(format: "%@: %.2f s is shorter than one window of %.2f s (%d frames at %d fps); turn on auto_scale_input to keep it",
                                                     label, length, window, frames, options.frameRate))
                        continue
                    }
                    if count > limits.maxWindowsPerSource {
                        report.warnings.append("\(label): kept the first \(limits.maxWindowsPerSource) of \(count) windows (cap per source)")
                        count = limits.maxWindowsPerSource
                    }
                }
                let usedLength = options.autoScaleInput ? length : Double(count) * window
                add(SegmentJob(sourcePath: item.source.path, file: file, kind: .video, probe: probe,
                               start: range.lowerBound, length: min(length, usedLength + 1.0 / Double(options.frameRate)),
                               stems: nextStems(count), timeScale: timeScale, audio: audio),
                    label: label, scene: split ? sceneIndex : nil)
            }
            plan.reports.append(report)
        }
        return plan
    }

    private func writeOutputs(manifest: [ManifestEntry], report: inout DatasetReport, out: URL, work: URL, jobFolder: URL,
                              progress: @escaping @Sendable (DatasetProgress) -> Void) throws {
        let fm = FileManager.default
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            var lines = Data()
            for entry in manifest {
                lines.append(try encoder.encode(entry))
                lines.append(0x0A)
            }
            try lines.write(to: out.appendingPathComponent("manifest.jsonl"))
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
            try encoder.encode(report).write(to: out.appendingPathComponent("report.json"))
        } catch {
            throw DatasetError.outputFailed(path: out.path, reason: error.localizedDescription)
        }
        let finalFolder = jobFolder.appendingPathComponent(Self.datasetFolderName)
        let finalZip = jobFolder.appendingPathComponent(Self.debugZipName)
        do {
            if options.debugDataset {
                progress(.packaging)
                let zip = work.appendingPathComponent(Self.debugZipName)
                try fm.zipItem(at: out, to: zip, shouldKeepParent: true)
                if fm.fileExists(atPath: finalZip.path) { try fm.removeItem(at: finalZip) }
                try fm.moveItem(at: zip, to: finalZip)
            } else if fm.fileExists(atPath: finalZip.path) {
                try fm.removeItem(at: finalZip)
            }
            // Nothing of an earlier run survives: the old folder goes, the new one is renamed in.
            if fm.fileExists(atPath: finalFolder.path) { try fm.removeItem(at: finalFolder) }
            try fm.moveItem(at: out, to: finalFolder)
        } catch {
            throw DatasetError.outputFailed(path: finalFolder.path, reason: error.localizedDescription)
        }
    }
}

/// A thread-safe counter for progress from concurrent tasks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    /// Adds one and returns the new value.
    func increment() -> Int { lock.withLock { value += 1; return value } }
}

/// Maps `items` with at most `limit` bodies running at once, keeping the input order.
func boundedMap<T: Sendable, R: Sendable>(_ items: [T], limit: Int,
                                           _ body: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
    try await withThrowingTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        func launch() {
            let index = next
            let item = items[index]
            next += 1
            group.addTask { (index, try await body(item)) }
        }
        while next < min(limit, items.count) { launch() }
        while let (index, value) = try await group.next() {
            results[index] = value
            if next < items.count { launch() }
        }
        return results.map { $0! }
    }
}
