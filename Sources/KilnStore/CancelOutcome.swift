/// What a cancel request did.
public enum CancelOutcome: Sendable, Equatable {
    /// The job was still queued and is now cancelled.
    case cancelledWhileQueued
    /// The job is running; its worker will see the request at its next heartbeat.
    case cancellationRequested
    /// The job had already ended (succeeded, failed or cancelled); nothing changed.
    case alreadyCompleted
    /// No such job for this owner.
    case notFound
}
