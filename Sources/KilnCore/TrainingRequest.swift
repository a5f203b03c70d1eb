/// A resolved training request: every fal input field of `fal-ai/ltx23-video-trainer`,
/// with defaults filled in. This is what a job stores and what the worker runs.
///
/// Build one from client JSON with ``RequestValidator/resolve(json:isIssuedFileURL:)``;
/// the memberwise initialiser's defaults equal the schema's defaults (``fields``).
public struct TrainingRequest: Codable, Sendable, Equatable {
    /// URL of the zip (or single media file) of training clips. Required.
    public var trainingDataURL: String
    /// LoRA rank: 8, 16, 32, 64 or 128.
    public var rank: Int
    /// Training steps, 100...20000.
    public var numberOfSteps: Int
    /// Learning rate, 1e-6...1.
    public var learningRate: Double
    /// Frames per training clip, 9...121, 8n+1.
    public var numberOfFrames: Int
    /// Frame rate of training clips, 8...60.
    public var frameRate: Int
    /// Training resolution bucket.
    public var resolution: Resolution
    /// Training aspect ratio.
    public var aspectRatio: AspectRatio
    /// Phrase prepended to every caption (and used in validation prompts).
    public var triggerPhrase: String
    /// Scale inputs to the bucket instead of cropping when their size differs.
    public var autoScaleInput: Bool
    /// Split long inputs into scenes.
    public var splitInputIntoScenes: Bool
    /// Inputs longer than this many seconds are split, 1...60.
    public var splitInputDurationThreshold: Double
    /// Also return the prepared dataset as an artifact.
    public var debugDataset: Bool
    /// Train the audio branch: true, false, or nil to decide from the data.
    public var withAudio: Bool?
    /// Loudness-normalise training audio.
    public var audioNormalize: Bool
    /// Keep pitch when retiming audio.
    public var audioPreservePitch: Bool
    /// Probability of first-frame conditioning during training, 0...1.
    public var firstFrameConditioningP: Double
    /// Validation samples rendered after training.
    public var validation: [ValidationPrompt]
    /// Negative prompt for validation samples.
    public var validationNegativePrompt: String
    /// Frames per validation sample, 9...121, 8n+1.
    public var validationNumberOfFrames: Int
    /// Frame rate of validation samples, 8...60.
    public var validationFrameRate: Int
    /// Validation resolution bucket.
    public var validationResolution: Resolution
    /// Validation aspect ratio.
    public var validationAspectRatio: AspectRatio
    /// Spatio-temporal guidance scale for validation, 0...3.
    public var stgScale: Double
    /// Generate audio in validation samples.
    public var generateAudioInValidation: Bool

    /// The default validation negative prompt (fal's and the LTX trainer's).
    public static let defaultValidationNegativePrompt =
        "worst quality, inconsistent motion, blurry, jittery, distorted"

    /// Creates a request; every argument but the data URL defaults to the schema's default.
    public init(
        trainingDataURL: String,
        rank: Int = 32,
        numberOfSteps: Int = 2000,
        learningRate: Double = 2e-4,
        numberOfFrames: Int = 89,
        frameRate: Int = 25,
        resolution: Resolution = .medium,
        aspectRatio: AspectRatio = .square,
        triggerPhrase: String = "",
        autoScaleInput: Bool = false,
        splitInputIntoScenes: Bool = true,
        splitInputDurationThreshold: Double = 30,
        debugDataset: Bool = false,
        withAudio: Bool? = nil,
        audioNormalize: Bool = true,
        audioPreservePitch: Bool = true,
        firstFrameConditioningP: Double = 0.5,
        validation: [ValidationPrompt] = [],
        validationNegativePrompt: String = TrainingRequest.defaultValidationNegativePrompt,
        validationNumberOfFrames: Int = 89,
        validationFrameRate: Int = 25,
        validationResolution: Resolution = .high,
        validationAspectRatio: AspectRatio = .square,
        stgScale: Double = 1,
        generateAudioInValidation: Bool = true
    ) {
        self.trainingDataURL = trainingDataURL
        self.rank = rank
        self.numberOfSteps = numberOfSteps
        self.learningRate = learningRate
        self.numberOfFrames = numberOfFrames
        self.frameRate = frameRate
        self.resolution = resolution
        self.aspectRatio = aspectRatio
        self.triggerPhrase = triggerPhrase
        self.autoScaleInput = autoScaleInput
        self.splitInputIntoScenes = splitInputIntoScenes
        self.splitInputDurationThreshold = splitInputDurationThreshold
        self.debugDataset = debugDataset
        self.withAudio = withAudio
        self.audioNormalize = audioNormalize
        self.audioPreservePitch = audioPreservePitch
        self.firstFrameConditioningP = firstFrameConditioningP
        self.validation = validation
        self.validationNegativePrompt = validationNegativePrompt
        self.validationNumberOfFrames = validationNumberOfFrames
        self.validationFrameRate = validationFrameRate
        self.validationResolution = validationResolution
        self.validationAspectRatio = validationAspectRatio
        self.stgScale = stgScale
        self.generateAudioInValidation = generateAudioInValidation
    }

    /// fal's field names.
    public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
        case trainingDataURL = "training_data_url"
        case rank
        case numberOfSteps = "number_of_steps"
        case learningRate = "learning_rate"
        case numberOfFrames = "number_of_frames"
        case frameRate = "frame_rate"
        case resolution
        case aspectRatio = "aspect_ratio"
        case triggerPhrase = "trigger_phrase"
        case autoScaleInput = "auto_scale_input"
        case splitInputIntoScenes = "split_input_into_scenes"
        case splitInputDurationThreshold = "split_input_duration_threshold"
        case debugDataset = "debug_dataset"
        case withAudio = "with_audio"
        case audioNormalize = "audio_normalize"
        case audioPreservePitch = "audio_preserve_pitch"
        case firstFrameConditioningP = "first_frame_conditioning_p"
        case validation
        case validationNegativePrompt = "validation_negative_prompt"
        case validationNumberOfFrames = "validation_number_of_frames"
        case validationFrameRate = "validation_frame_rate"
        case validationResolution = "validation_resolution"
        case validationAspectRatio = "validation_aspect_ratio"
        case stgScale = "stg_scale"
        case generateAudioInValidation = "generate_audio_in_validation"
    }

    /// Encodes every field, `with_audio` as an explicit `null` when automatic, so the stored
    /// form shows the whole resolved request.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(trainingDataURL, forKey: .trainingDataURL)
        try c.encode(rank, forKey: .rank)
        try c.encode(numberOfSteps, forKey: .numberOfSteps)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(numberOfFrames, forKey: .numberOfFrames)
        try c.encode(frameRate, forKey: .frameRate)
        try c.encode(resolution, forKey: .resolution)
        try c.encode(aspectRatio, forKey: .aspectRatio)
        try c.encode(triggerPhrase, forKey: .triggerPhrase)
        try c.encode(autoScaleInput, forKey: .autoScaleInput)
        try c.encode(splitInputIntoScenes, forKey: .splitInputIntoScenes)
        try c.encode(splitInputDurationThreshold, forKey: .splitInputDurationThreshold)
        try c.encode(debugDataset, forKey: .debugDataset)
        try c.encode(withAudio, forKey: .withAudio)
        try c.encode(audioNormalize, forKey: .audioNormalize)
        try c.encode(audioPreservePitch, forKey: .audioPreservePitch)
        try c.encode(firstFrameConditioningP, forKey: .firstFrameConditioningP)
        try c.encode(validation, forKey: .validation)
        try c.encode(validationNegativePrompt, forKey: .validationNegativePrompt)
        try c.encode(validationNumberOfFrames, forKey: .validationNumberOfFrames)
        try c.encode(validationFrameRate, forKey: .validationFrameRate)
        try c.encode(validationResolution, forKey: .validationResolution)
        try c.encode(validationAspectRatio, forKey: .validationAspectRatio)
        try c.encode(stgScale, forKey: .stgScale)
        try c.encode(generateAudioInValidation, forKey: .generateAudioInValidation)
    }

    /// Training frame size from ``resolution`` and ``aspectRatio``.
    public var frameSize: (width: Int, height: Int) { aspectRatio.frameSize(resolution) }
    /// Validation frame size from ``validationResolution`` and ``validationAspectRatio``.
    public var validationFrameSize: (width: Int, height: Int) {
        validationAspectRatio.frameSize(validationResolution)
    }
    /// The price estimate for this request in USD (``Pricing``).
    public var priceEstimateUSD: Double { Pricing.estimate(steps: numberOfSteps) }
}
