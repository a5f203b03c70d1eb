import Foundation
import KilnCore

/// The dataset-related fields of a training request, with fal's names, defaults and ranges.
///
/// Kept separate from the full request so the pipeline can run from the CLI without a server.
public struct DatasetOptions: Sendable, Codable, Equatable {
    /// Frames per video sample; 9...121 with `n % 8 == 1`.
    public var numberOfFrames: Int
    /// Frames per second of every conformed clip; 8...60.
    public var frameRate: Int
    /// Resolution bucket.
    public var resolution: Resolution
    /// Aspect ratio bucket.
    public var aspectRatio: AspectRatio
    /// Prepended to every caption that does not already contain it; empty means none.
    public var triggerPhrase: String
    /// Retime every source to fit exactly one window instead of cutting windows.
    public var autoScaleInput: Bool
    /// Cut long videos at scene changes.
    public var splitInputIntoScenes: Bool
    /// Videos longer than this many seconds are split into scenes; 1...60.
    public var splitInputDurationThreshold: Double
    /// `true`/`false`, or `nil` for "on when any source video has an audio stream".
    public var withAudio: Bool?
    /// Peak-normalise each sample's audio.
    public var audioNormalize: Bool
    /// Time-stretch retimed audio without changing its pitch.
    public var audioPreservePitch: Bool
    /// Also write a zip of the prepared folder.
    public var debugDataset: Bool

    /// fal's defaults, taken from ``TrainingRequest`` (the schema's single source) so the CLI and
    /// the API cannot drift apart.
    @usableFromInline static let falDefaults = DatasetOptions(request: TrainingRequest(trainingDataURL: ""))

    /// Creates options; every argument defaults to fal's default (``TrainingRequest``'s).
    public init(
        numberOfFrames: Int = DatasetOptions.falDefaults.numberOfFrames,
        frameRate: Int = DatasetOptions.falDefaults.frameRate,
        resolution: Resolution = DatasetOptions.falDefaults.resolution,
        aspectRatio: AspectRatio = DatasetOptions.falDefaults.aspectRatio,
        triggerPhrase: String = DatasetOptions.falDefaults.triggerPhrase,
        autoScaleInput: Bool = DatasetOptions.falDefaults.autoScaleInput,
        splitInputIntoScenes: Bool = DatasetOptions.falDefaults.splitInputIntoScenes,
        splitInputDurationThreshold: Double = DatasetOptions.falDefaults.splitInputDurationThreshold,
        withAudio: Bool? = DatasetOptions.falDefaults.withAudio,
        audioNormalize: Bool = DatasetOptions.falDefaults.audioNormalize,
        audioPreservePitch: Bool = DatasetOptions.falDefaults.audioPreservePitch,
        debugDataset: Bool = DatasetOptions.falDefaults.debugDataset
    ) {
        self.numberOfFrames = numberOfFrames
        self.frameRate = frameRate
        self.resolution = resolution
        self.aspectRatio = aspectRatio
        self.triggerPhrase = triggerPhrase
        self.autoScaleInput = autoScaleInput
        self.splitInputIntoScenes = splitInputIntoScenes
        self.splitInputDurationThreshold = splitInputDurationThreshold
        self.withAudio = withAudio
        self.audioNormalize = audioNormalize
        self.audioPreservePitch = audioPreservePitch
        self.debugDataset = debugDataset
    }

    enum CodingKeys: String, CodingKey {
        case numberOfFrames = "number_of_frames"
        case frameRate = "frame_rate"
        case resolution
        case aspectRatio = "aspect_ratio"
        case triggerPhrase = "trigger_phrase"
        case autoScaleInput = "auto_scale_input"
        case splitInputIntoScenes = "split_input_into_scenes"
        case splitInputDurationThreshold = "split_input_duration_threshold"
        case withAudio = "with_audio"
        case audioNormalize = "audio_normalize"
        case audioPreservePitch = "audio_preserve_pitch"
        case debugDataset = "debug_dataset"
    }

    /// Target frame width in pixels (from the bucket table, a multiple of 32).
    public var width: Int { aspectRatio.frameSize(resolution).width }
    /// Target frame height in pixels (from the bucket table, a multiple of 32).
    public var height: Int { aspectRatio.frameSize(resolution).height }
    /// Duration of one window in seconds.
    public var windowDuration: Double { Double(numberOfFrames) / Double(frameRate) }

    /// Checks the ranges fal enforces, so the CLI refuses what the API would refuse.
    public func validate() throws(DatasetError) {
        guard (9...121).contains(numberOfFrames), numberOfFrames % 8 == 1 else {
            throw .invalidOption(field: "number_of_frames", message: "must be 9...121 with n % 8 == 1 (e.g. 17, 33, 89), got \(numberOfFrames)")
        }
        guard (8...60).contains(frameRate) else {
            throw .invalidOption(field: "frame_rate", message: "must be 8...60, got \(frameRate)")
        }
        guard (1...60).contains(splitInputDurationThreshold) else {
            throw .invalidOption(field: "split_input_duration_threshold", message: "must be 1...60 seconds, got \(splitInputDurationThreshold)")
        }
    }
}

/// Safety caps and operational knobs of the pipeline (operator settings, not request fields).
public struct DatasetLimits: Sendable, Codable, Equatable {
    /// Largest download or archive accepted, in bytes.
    public var maxArchiveBytes: Int64
    /// Largest total uncompressed size of all extracted entries, in bytes.
    public var maxTotalUncompressedBytes: Int64
    /// Largest uncompressed size of a single entry, in bytes.
    public var maxEntryBytes: Int64
    /// Largest uncompressed/compressed ratio of an entry (zip-bomb guard).
    public var maxCompressionRatio: Double
    /// Largest number of entries in an archive.
    public var maxEntries: Int
    /// Most windows cut from one source or scene when `auto_scale_input` is off.
    public var maxWindowsPerSource: Int
    /// Time limit of a whole download, in seconds.
    public var fetchTimeout: TimeInterval
    /// Attempts of a download on 5xx, timeouts and connection errors.
    public var fetchAttempts: Int
    /// Delay before the first retry, doubled for each further one, in seconds.
    public var fetchBackoff: TimeInterval
    /// Allow loopback, private, link-local and metadata addresses (tests, trusted LANs).
    public var allowPrivateURLs: Bool
    /// Most clips conformed at once; `nil` means the number of cores.
    public var parallelism: Int?
    /// Threads per ffmpeg process; `nil` shares the cores among the clips running at once.
    public var ffmpegThreads: Int?
    /// Scene-change threshold of ffmpeg's `select='gt(scene,T)'`, 0...1.
    public var sceneThreshold: Double
    /// Scenes shorter than this (seconds) are merged into the previous scene.
    public var minimumSceneDuration: Double

    /// Creates limits; defaults suit a single-machine service.
    public init(
        maxArchiveBytes: Int64 = 10 << 30,
        maxTotalUncompressedBytes: Int64 = 20 << 30,
        maxEntryBytes: Int64 = 4 << 30,
        maxCompressionRatio: Double = 200,
        maxEntries: Int = 10_000,
        maxWindowsPerSource: Int = 16,
        fetchTimeout: TimeInterval = 1800,
        fetchAttempts: Int = 3,
        fetchBackoff: TimeInterval = 1,
        allowPrivateURLs: Bool = false,
        parallelism: Int? = nil,
        ffmpegThreads: Int? = nil,
        sceneThreshold: Double = 0.3,
        minimumSceneDuration: Double = 1.0
    ) {
        self.maxArchiveBytes = maxArchiveBytes
        self.maxTotalUncompressedBytes = maxTotalUncompressedBytes
        self.maxEntryBytes = maxEntryBytes
        self.maxCompressionRatio = maxCompressionRatio
        self.maxEntries = maxEntries
        self.maxWindowsPerSource = maxWindowsPerSource
        self.fetchTimeout = fetchTimeout
        self.fetchAttempts = fetchAttempts
        self.fetchBackoff = fetchBackoff
        self.allowPrivateURLs = allowPrivateURLs
        self.parallelism = parallelism
        self.ffmpegThreads = ffmpegThreads
        self.sceneThreshold = sceneThreshold
        self.minimumSceneDuration = minimumSceneDuration
    }

    /// Number of clips conformed at once.
    public var effectiveParallelism: Int {
        max(1, parallelism ?? ProcessInfo.processInfo.activeProcessorCount)
    }
}

/// Constants of the dataset contract shared with the engine.
public enum DatasetFormat {
    /// Sample rate of every `NNNN.wav` (PCM s16, stereo).
    public static let audioSampleRate = 48_000
    /// Channels of every `NNNN.wav`.
    public static let audioChannels = 2
    /// Peak level of normalised audio, linear (about -1 dBFS).
    public static let normalizedPeak = 0.891
}
