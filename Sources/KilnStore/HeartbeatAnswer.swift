/// What a worker's heartbeat learned.
public enum HeartbeatAnswer: Sendable, Equatable {
    /// The lease is renewed; carry on.
    case renewed
    /// The lease is renewed, but the user asked to cancel: stop and call `markCancelled`.
    case cancelRequested
    /// The worker no longer holds the job (lease expired and requeued, or the job ended): stop.
    case lost
}
