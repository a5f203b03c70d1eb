import KilnCore

extension DatasetOptions {
    /// The dataset fields of a validated training request.
    public init(request: TrainingRequest) {
        self.init(
            numberOfFrames: request.numberOfFrames,
            frameRate: request.frameRate,
            resolution: request.resolution,
            aspectRatio: request.aspectRatio,
            triggerPhrase: request.triggerPhrase,
            autoScaleInput: request.autoScaleInput,
            splitInputIntoScenes: request.splitInputIntoScenes,
            splitInputDurationThreshold: request.splitInputDurationThreshold,
            withAudio: request.withAudio,
            audioNormalize: request.audioNormalize,
            audioPreservePitch: request.audioPreservePitch,
            debugDataset: request.debugDataset
        )
    }
}
