import Foundation

/// What a status poll needs to know about a job: a narrow read of ``Job`` that leaves out
/// the request, so the hottest route of the API never decodes the stored request JSON.
public struct JobStatus: Sendable, Equatable {
    /// The job's id; fal's `request_id`.
    public var id: UUID
    /// Current state.
    public var state: JobState
    /// Current stage while running.
    public var stage: JobStage?
    /// Progress in the current stage.
    public var progress: JobProgress?
    /// Why it failed or was cancelled.
    public var failure: JobFailure?
    /// Seconds the run took, when done.
    public var inferenceTimeSeconds: Double?
    /// How many queued jobs are ahead (0 = next); nil unless the job is queued.
    public var queuePosition: Int?

    /// Creates a status record.
    public init(id: UUID, state: JobState, stage: JobStage? = nil, progress: JobProgress? = nil, failure: JobFailure? = nil,
                inferenceTimeSeconds: Double? = nil, queuePosition: Int? = nil) {
        self.id = id
        self.state = state
        self.stage = stage
        self.progress = progress
        self.failure = failure
        self.inferenceTimeSeconds = inferenceTimeSeconds
        self.queuePosition = queuePosition
    }
}
