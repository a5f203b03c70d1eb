import Foundation

/// One webhook the outbox owes: claimed by a worker for one attempt at a time.
public struct WebhookDelivery: Sendable, Equatable {
    /// The job whose outcome is sent.
    public var jobID: UUID
    /// The job's `fal_webhook`.
    public var url: String
    /// This attempt's number (1 for the first).
    public var attempt: Int
    /// When the job ended (the retry window counts from here).
    public var createdAt: Date
}
