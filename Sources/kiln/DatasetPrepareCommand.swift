import ArgumentParser
import Foundation
import KilnCore
import KilnDataset
import Logging

/// `kiln dataset prepare ZIP_OR_URL --out DIR`: the worker's dataset stage, run by hand.
struct DatasetPrepareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Turn a zip (path or http(s) URL) into a conformed training set in DIR/dataset.",
        discussion: """
        Writes DIR/dataset/ (NNNN.mp4|png, NNNN.wav, manifest.jsonl, report.json) and, with
        --debug-dataset, DIR/debug_dataset.zip. Progress goes to stderr, a summary table to stdout.
        Exits non-zero with a one-line reason when the archive is refused or nothing usable remains.
        """
    )

    @Argument(help: "A local .zip file or an http(s) URL of one.")
    var source: String

    @Option(name: .long, help: "Job folder; the dataset is written to OUT/dataset.")
    var out: String

    @Option(help: "Frames per sample, 9...121 with n % 8 == 1.")
    var numberOfFrames: Int = 89

    @Option(help: "Frames per second of every clip, 8...60.")
    var frameRate: Int = 25

    @Option(help: "low | medium | high.")
    var resolution: String = "medium"

    @Option(help: "16:9 | 1:1 | 9:16.")
    var aspectRatio: String = "1:1"

    @Option(help: "Prepended to every caption that does not contain it.")
    var triggerPhrase: String = ""

    @Flag(help: "Retime each source to fit exactly one window.")
    var autoScaleInput = false

    @Flag(help: "Do not cut long videos at scene changes.")
    var noSplitInputIntoScenes = false

    @Option(help: "Videos longer than this many seconds are split into scenes (1...60).")
    var splitInputDurationThreshold: Double = 30

    @Option(help: "true | false | auto (on when any video has audio).")
    var withAudio: String = "auto"

    @Flag(help: "Keep each clip's audio level as it is.")
    var noAudioNormalize = false

    @Flag(help: "Retime audio by resampling (pitch changes) instead of time-stretching.")
    var noAudioPreservePitch = false

    @Flag(help: "Also write OUT/debug_dataset.zip of the prepared folder.")
    var debugDataset = false

    @Option(help: "Clips conformed at once (default: number of cores).")
    var jobs: Int?

    @Option(help: "Threads per ffmpeg process (default: cores shared among the clips running at once).")
    var ffmpegThreads: Int?

    @Option(help: "Most windows cut from one source or scene.")
    var maxWindowsPerSource: Int = 16

    @Option(help: "Scene-change threshold of ffmpeg's scene score, 0...1.")
    var sceneThreshold: Double = 0.3

    @Flag(name: .customLong("allow-private-urls"),
          help: "Allow URLs on loopback, private and link-local addresses (trusted networks and tests only).")
    var allowPrivateURLs = false

    @Flag(help: "Print report.json to stdout instead of the summary table.")
    var json = false

    func run() async throws {
        do {
            let report = try await prepare()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(Self.summary(report, folder: URL(fileURLWithPath: out).appendingPathComponent("dataset").path))
            }
        } catch let error as DatasetError {
            FileHandle.standardError.write(Data("kiln dataset prepare: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    func prepare() async throws -> DatasetReport {
        guard let resolution = Resolution(rawValue: resolution) else {
            throw DatasetError.invalidOption(field: "resolution", message: "must be low, medium or high, got \(resolution)")
        }
        guard let aspect = AspectRatio(rawValue: aspectRatio) else {
            throw DatasetError.invalidOption(field: "aspect_ratio", message: "must be 16:9, 1:1 or 9:16, got \(aspectRatio)")
        }
        let audio: Bool?
        switch withAudio.lowercased() {
        case "true": audio = true
        case "false": audio = false
        case "auto", "null": audio = nil
        default: throw DatasetError.invalidOption(field: "with_audio", message: "must be true, false or auto, got \(withAudio)")
        }
        if let jobs, jobs < 1 { throw DatasetError.invalidOption(field: "jobs", message: "must be at least 1, got \(jobs)") }
        let options = DatasetOptions(
            numberOfFrames: numberOfFrames, frameRate: frameRate, resolution: resolution, aspectRatio: aspect,
            triggerPhrase: triggerPhrase, autoScaleInput: autoScaleInput, splitInputIntoScenes: !noSplitInputIntoScenes,
            splitInputDurationThreshold: splitInputDurationThreshold, withAudio: audio,
            audioNormalize: !noAudioNormalize, audioPreservePitch: !noAudioPreservePitch, debugDataset: debugDataset)
        let limits = DatasetLimits(maxWindowsPerSource: maxWindowsPerSource, allowPrivateURLs: allowPrivateURLs,
                                   parallelism: jobs, ffmpegThreads: ffmpegThreads, sceneThreshold: sceneThreshold)
        let datasetSource: DatasetSource
        if let url = URL(string: source), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" {
            datasetSource = .url(url)
        } else {
            datasetSource = .localFile(URL(fileURLWithPath: source))
        }
        var logger = Logger(label: "kiln.dataset")
        logger.logLevel = .error
        let preparer = DatasetPreparer(options: options, limits: limits, logger: logger)
        let printer = ProgressPrinter()
        return try await preparer.prepare(source: datasetSource, into: URL(fileURLWithPath: out)) { printer.show($0) }
    }

    /// The table printed at the end: one row per source.
    static func summary(_ report: DatasetReport, folder: String) -> String {
        var rows = [["source", "kept", "dropped", "why / notes"]]
        for source in report.sources {
            let notes = (source.dropped + source.warnings).joined(separator: "; ")
            rows.append([source.path, "\(source.kept.count)", source.kept.isEmpty ? "yes" : (source.dropped.isEmpty ? "-" : "part"),
                         notes.count > 110 ? String(notes.prefix(107)) + "..." : notes])
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        lines.insert(String(repeating: "-", count: widths.reduce(6, +)), at: 1)
        let totals = report.totals
        lines.append("")
        lines.append("\(totals.samples) samples (\(report.width)x\(report.height), \(report.mediaKind == "video" ? "\(report.options.numberOfFrames) frames at \(report.options.frameRate) fps" : "images"), audio \(report.withAudio ? "on" : "off")) from \(totals.sources - totals.droppedSources)/\(totals.sources) sources; \(totals.ignoredFiles) files ignored")
        for ignored in report.ignored.prefix(10) { lines.append("  ignored \(ignored)") }
        if report.ignored.count > 10 { lines.append("  ... \(report.ignored.count - 10) more in report.json") }
        lines.append("written to \(folder)" + (report.debugZip.map { "; debug zip \($0)" } ?? ""))
        return lines.joined(separator: "\n")
    }
}

/// Prints progress lines on stderr, skipping repeats.
final class ProgressPrinter: @unchecked Sendable {
    private let lock = NSLock()
    private var last = ""

    func show(_ progress: DatasetProgress) {
        let line = progress.message
        lock.withLock {
            guard line != last else { return }
            last = line
            FileHandle.standardError.write(Data("\(line)\n".utf8))
        }
    }
}
