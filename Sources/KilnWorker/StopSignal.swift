import Synchronization

/// The first reason a job was asked to stop, shared by the heartbeat and the job's task.
final class StopSignal: Sendable {
    private let reason = Mutex<StopReason?>(nil)

    /// Records `value` unless a reason is already set; returns whether it was the first.
    @discardableResult
    func set(_ value: StopReason) -> Bool {
        reason.withLock { current in
            guard current == nil else { return false }
            current = value
            return true
        }
    }

    /// The reason, once set.
    var value: StopReason? { reason.withLock { $0 } }
}
