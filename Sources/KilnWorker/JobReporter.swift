import Foundation
import KilnCore
import KilnStore
import Logging
import Synchronization

/// Writes a running job's stage, progress and log rows to the store (throttled), and passes the
/// same activity to an in-process observer.
final class JobReporter: Sendable {
    private struct State {
        var stage: JobStage?
        var progress: JobProgress?
        var lastWrite: ContinuousClock.Instant?
        var lastLoggedStep: Int = 0
    }

    let store: JobStore
    let jobID: UUID
    let workerID: String
    let logger: Logger
    let observer: @Sendable (JobActivity) -> Void
    let logEverySteps: Int
    /// Progress rows are written at most this often (the final step always).
    let minimumWriteInterval: Duration
    private let state = Mutex(State())

    init(
        store: JobStore, jobID: UUID, workerID: String, logger: Logger, logEverySteps: Int,
        minimumWriteInterval: Duration = .milliseconds(500), observer: @escaping @Sendable (JobActivity) -> Void
    ) {
        self.store = store
        self.jobID = jobID
        self.workerID = workerID
        self.logger = logger
        self.logEverySteps = logEverySteps
        self.minimumWriteInterval = minimumWriteInterval
        self.observer = observer
    }

    /// The stage last entered.
    var stage: JobStage? { state.withLock { $0.stage } }

    /// Enters `stage` (no-op when already there); progress restarts.
    func enter(_ stage: JobStage) throws {
        let changed = state.withLock { current -> Bool in
            guard current.stage != stage else { return false }
            current.stage = stage
            current.progress = nil
            current.lastWrite = nil
            current.lastLoggedStep = 0
            return true
        }
        guard changed else { return }
        try store.update(id: jobID, workerID: workerID, stage: stage, progress: nil)
        observer(.stage(stage))
        log("stage: \(stage.rawValue)", source: "worker")
    }

    /// Records progress; the store row is written when enough time passed or at the last step.
    func progress(_ progress: JobProgress) throws {
        let now = ContinuousClock.now
        let (stage, write) = state.withLock { current -> (JobStage?, Bool) in
            current.progress = progress
            let due = current.lastWrite.map { now - $0 >= minimumWriteInterval } ?? true
            let write = due || progress.step >= progress.total
            if write { current.lastWrite = now }
            return (current.stage, write)
        }
        if write { try store.update(id: jobID, workerID: workerID, stage: stage, progress: progress) }
        if let stage { observer(.progress(stage, progress)) }
    }

    /// Whether a training progress line is due for `step` (every N steps, the first and the last).
    func shouldLogStep(_ step: Int, total: Int) -> Bool {
        state.withLock { current in
            guard step != current.lastLoggedStep else { return false }
            let due = step == 1 || step >= total || step - current.lastLoggedStep >= logEverySteps
            if due { current.lastLoggedStep = step }
            return due
        }
    }

    /// Appends a log row (a store failure is only logged: logs must never stop a job).
    func log(_ message: String, level: String = "info", source: String) {
        do {
            try store.appendLog(jobID: jobID, level: level, source: source, message: message)
        } catch {
            logger.warning("could not append a log row", metadata: ["job": "\(jobID)", "error": "\(error)"])
        }
        observer(.log(level: level, source: source, message: message))
    }
}

extension JobProgress {
    /// `step 10/100 · loss 0.1234 · 0.52 s/step · ETA 47s`.
    func logLine(secondsPerStep: Double?) -> String {
        var parts = ["step \(step)/\(total)"]
        if let loss { parts.append(String(format: "loss %.4f", loss)) }
        if let secondsPerStep { parts.append(String(format: "%.2f s/step", secondsPerStep)) }
        if let etaSeconds { parts.append("ETA \(Self.duration(etaSeconds))") }
        return parts.joined(separator: " · ")
    }

    /// `47s`, `3m05s`, `1h02m`: an ETA as the job log and `kiln train`'s progress bar show it.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }
}
