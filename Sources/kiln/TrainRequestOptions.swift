import ArgumentParser
import Foundation
import KilnCore

/// Every fal request field of `fal-ai/ltx23-video-trainer` as a `kiln train` option. An option
/// left out takes the field's default; the values are checked exactly as the API checks them.
struct TrainRequestOptions: ParsableArguments {
    @Option(help: "LoRA rank: 8, 16, 32, 64 or 128 (default 32).")
    var rank: Int?

    @Option(name: [.customLong("number-of-steps"), .customLong("steps")], help: "Training steps, 100...20000 (default 2000).")
    var numberOfSteps: Int?

    @Option(name: .customLong("learning-rate"), help: "Learning rate, 1e-6...1 (default 2e-4).")
    var learningRate: Double?

    @Option(name: .customLong("number-of-frames"), help: "Frames per training clip, 9...121 with n % 8 == 1 (default 89).")
    var numberOfFrames: Int?

    @Option(name: .customLong("frame-rate"), help: "Frames per second of training clips, 8...60 (default 25).")
    var frameRate: Int?

    @Option(help: "low, medium or high (default medium; see the README's resolution table).")
    var resolution: String?

    @Option(name: .customLong("aspect-ratio"), help: "16:9, 1:1 or 9:16 (default 1:1).")
    var aspectRatio: String?

    @Option(name: .customLong("trigger-phrase"), help: "Phrase prepended to every caption (default none).")
    var triggerPhrase: String?

    @Flag(name: .customLong("auto-scale-input"), help: "Retime each video to fit one clip instead of cutting windows.")
    var autoScaleInput = false

    @Option(name: .customLong("split-input-into-scenes"), help: "true or false: cut long videos at scene changes (default true).")
    var splitInputIntoScenes: Bool?

    @Option(name: .customLong("split-input-duration-threshold"), help: "Videos longer than this many seconds are split, 1...60 (default 30).")
    var splitInputDurationThreshold: Double?

    @Flag(name: .customLong("debug-dataset"), help: "Also output a zip of the prepared dataset.")
    var debugDataset = false

    @Option(name: .customLong("with-audio"), help: "true, false or auto (default auto: on when the videos have audio).")
    var withAudio: String?

    @Option(name: .customLong("audio-normalize"), help: "true or false: peak-normalise audio (default true).")
    var audioNormalize: Bool?

    @Option(name: .customLong("audio-preserve-pitch"), help: "true or false: keep pitch when retiming audio (default true).")
    var audioPreservePitch: Bool?

    @Option(name: .customLong("first-frame-conditioning-p"), help: "Probability of image-to-video conditioning per step, 0...1 (default 0.5).")
    var firstFrameConditioningP: Double?

    @Option(name: .customLong("validation-prompt"), help: "A validation prompt (repeat for several).")
    var validationPrompts: [String] = []

    @Option(name: .customLong("validation-image"), help: "Image URL or path for the validation prompt at the same position (give one per prompt or none).")
    var validationImages: [String] = []

    @Option(name: .customLong("validation-negative-prompt"), help: "Negative prompt of validation renders.")
    var validationNegativePrompt: String?

    @Option(name: .customLong("validation-number-of-frames"), help: "Frames of validation videos, 9...121 with n % 8 == 1 (default 89).")
    var validationNumberOfFrames: Int?

    @Option(name: .customLong("validation-frame-rate"), help: "Frame rate of validation videos, 8...60 (default 25).")
    var validationFrameRate: Int?

    @Option(name: .customLong("validation-resolution"), help: "low, medium or high (default high).")
    var validationResolution: String?

    @Option(name: .customLong("validation-aspect-ratio"), help: "16:9, 1:1 or 9:16 (default 1:1).")
    var validationAspectRatio: String?

    @Option(name: .customLong("stg-scale"), help: "Spatio-temporal guidance scale of validation, 0...3 (default 1).")
    var stgScale: Double?

    @Option(name: .customLong("generate-audio-in-validation"), help: "true or false (default true).")
    var generateAudioInValidation: Bool?

    /// The request body these options describe, with `training_data_url`.
    func body(trainingDataURL: String) throws -> JSONValue {
        var body: [String: JSONValue] = ["training_data_url": .string(trainingDataURL)]
        func set(_ key: String, _ value: JSONValue?) { if let value { body[key] = value } }
        set("rank", rank.map { .integer(Int64($0)) })
        set("number_of_steps", numberOfSteps.map { .integer(Int64($0)) })
        set("learning_rate", learningRate.map { .number($0) })
        set("number_of_frames", numberOfFrames.map { .integer(Int64($0)) })
        set("frame_rate", frameRate.map { .integer(Int64($0)) })
        set("resolution", resolution.map { .string($0) })
        set("aspect_ratio", aspectRatio.map { .string($0) })
        set("trigger_phrase", triggerPhrase.map { .string($0) })
        if autoScaleInput { body["auto_scale_input"] = .bool(true) }
        set("split_input_into_scenes", splitInputIntoScenes.map { .bool($0) })
        set("split_input_duration_threshold", splitInputDurationThreshold.map { .number($0) })
        if debugDataset { body["debug_dataset"] = .bool(true) }
        if let withAudio {
            switch withAudio.lowercased() {
            case "true": body["with_audio"] = .bool(true)
            case "false": body["with_audio"] = .bool(false)
            case "auto", "null": body["with_audio"] = .null
            default: throw ValidationError("--with-audio must be true, false or auto; got \(withAudio)")
            }
        }
        set("audio_normalize", audioNormalize.map { .bool($0) })
        set("audio_preserve_pitch", audioPreservePitch.map { .bool($0) })
        set("first_frame_conditioning_p", firstFrameConditioningP.map { .number($0) })
        if !validationImages.isEmpty && validationImages.count != validationPrompts.count {
            throw ValidationError("give one --validation-image per --validation-prompt (\(validationPrompts.count) prompts, \(validationImages.count) images), or none")
        }
        if !validationPrompts.isEmpty {
            body["validation"] = .array(validationPrompts.enumerated().map { index, prompt in
                var entry: [String: JSONValue] = ["prompt": .string(prompt)]
                if !validationImages.isEmpty { entry["image_url"] = .string(Self.urlOrFileURL(validationImages[index])) }
                return .object(entry)
            })
        }
        set("validation_negative_prompt", validationNegativePrompt.map { .string($0) })
        set("validation_number_of_frames", validationNumberOfFrames.map { .integer(Int64($0)) })
        set("validation_frame_rate", validationFrameRate.map { .integer(Int64($0)) })
        set("validation_resolution", validationResolution.map { .string($0) })
        set("validation_aspect_ratio", validationAspectRatio.map { .string($0) })
        set("stg_scale", stgScale.map { .number($0) })
        set("generate_audio_in_validation", generateAudioInValidation.map { .bool($0) })
        return .object(body)
    }

    /// An http(s) URL as given; anything else is a local path, made an absolute `file://` URL.
    static func urlOrFileURL(_ text: String) -> String {
        if text.hasPrefix("http://") || text.hasPrefix("https://") || text.hasPrefix("file://") { return text }
        let path = (text as NSString).expandingTildeInPath
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: absolute).standardizedFileURL.absoluteString
    }
}
