/// Where a job is in its life: queued -> running -> succeeded | failed | cancelled.
public enum JobState: String, Codable, Sendable, CaseIterable {
    /// Waiting for a worker.
    case queued
    /// A worker holds its lease and runs it.
    case running
    /// Finished with a result.
    case succeeded
    /// Finished with an error.
    case failed
    /// Stopped at the user's request.
    case cancelled

    /// Whether the job is over (succeeded, failed or cancelled).
    public var isTerminal: Bool {
        switch self {
        case .queued, .running: false
        case .succeeded, .failed, .cancelled: true
        }
    }

    /// fal's status word for this state: `IN_QUEUE`, `IN_PROGRESS` or `COMPLETED`
    /// (fal has no FAILED status; a failed job is COMPLETED and its result carries the error).
    public var falStatus: String {
        switch self {
        case .queued: "IN_QUEUE"
        case .running: "IN_PROGRESS"
        case .succeeded, .failed, .cancelled: "COMPLETED"
        }
    }
}

/// The stage a running job is in (ARCHITECTURE.md §5).
public enum JobStage: String, Codable, Sendable, CaseIterable {
    /// Downloading or opening the training data.
    case fetching
    /// Unzipping, probing, splitting and conforming clips.
    case preparingDataset = "preparing_dataset"
    /// Encoding latents and text embeddings.
    case encoding
    /// Training the LoRA.
    case training
    /// Rendering validation samples.
    case validating
    /// Writing the LoRA and config artifacts.
    case exporting
}

/// How far a running job has got.
public struct JobProgress: Codable, Sendable, Equatable {
    /// Steps done in the current stage.
    public var step: Int
    /// Steps the current stage will take.
    public var total: Int
    /// Latest training loss, when training.
    public var loss: Double?
    /// Estimated seconds left in the job.
    public var etaSeconds: Double?

    /// Creates a progress record.
    public init(step: Int, total: Int, loss: Double? = nil, etaSeconds: Double? = nil) {
        self.step = step
        self.total = total
        self.loss = loss
        self.etaSeconds = etaSeconds
    }

    enum CodingKeys: String, CodingKey {
        case step, total, loss
        case etaSeconds = "eta_seconds"
    }
}
