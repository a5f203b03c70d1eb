import Foundation

/// A training job as the store keeps it.
public struct Job: Codable, Sendable, Identifiable, Equatable {
    /// The job's id; fal's `request_id`.
    public var id: UUID
    /// The API key id that submitted it (``Job/localOwner`` in open local mode).
    public var owner: String
    /// The resolved request (defaults filled in).
    public var request: TrainingRequest
    /// Current state.
    public var state: JobState
    /// Current stage while running (kept after, for the record).
    public var stage: JobStage?
    /// Progress in the current stage.
    public var progress: JobProgress?
    /// When it was submitted.
    public var createdAt: Date
    /// When a worker first started it.
    public var startedAt: Date?
    /// When it reached a terminal state.
    public var finishedAt: Date?
    /// The output JSON when succeeded: `{lora_file, config_file, video?, debug_dataset?}`.
    public var result: Data?
    /// Why it failed or was cancelled.
    public var failure: JobFailure?
    /// How many times a worker has claimed it (1 on the first run).
    public var attempt: Int
    /// The worker holding the lease, while running.
    public var leaseOwner: String?
    /// When the lease runs out unless renewed.
    public var leaseExpiresAt: Date?
    /// Whether the user asked a running job to stop.
    public var cancelRequested: Bool
    /// URL to POST the outcome to (fal's `fal_webhook`).
    public var webhookURL: String?
    /// Price estimate in USD (``Pricing``).
    public var priceEstimateUSD: Double
    /// Seconds the run took, when done (fal's `metrics.inference_time`).
    public var inferenceTimeSeconds: Double?

    /// The owner of every job in open local mode (no API keys exist).
    public static let localOwner = "local"

    /// Creates a job record.
    public init(
        id: UUID, owner: String, request: TrainingRequest, state: JobState, stage: JobStage? = nil,
        progress: JobProgress? = nil, createdAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil,
        result: Data? = nil, failure: JobFailure? = nil, attempt: Int = 0, leaseOwner: String? = nil,
        leaseExpiresAt: Date? = nil, cancelRequested: Bool = false, webhookURL: String? = nil,
        priceEstimateUSD: Double, inferenceTimeSeconds: Double? = nil
    ) {
        self.id = id
        self.owner = owner
        self.request = request
        self.state = state
        self.stage = stage
        self.progress = progress
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.result = result
        self.failure = failure
        self.attempt = attempt
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.cancelRequested = cancelRequested
        self.webhookURL = webhookURL
        self.priceEstimateUSD = priceEstimateUSD
        self.inferenceTimeSeconds = inferenceTimeSeconds
    }
}
