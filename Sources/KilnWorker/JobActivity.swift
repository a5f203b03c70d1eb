import Foundation
import KilnCore

/// Something a running job did, for watchers in the same process (`kiln train`'s progress bar).
/// The store gets the same information as stage/progress updates and log rows.
public enum JobActivity: Sendable, Equatable {
    /// The job entered a stage.
    case stage(JobStage)
    /// Progress inside the current stage.
    case progress(JobStage, JobProgress)
    /// A log line as written to the job's log.
    case log(level: String, source: String, message: String)
}

/// Why a running job was asked to stop before it ended by itself.
public enum StopReason: Sendable, Equatable {
    /// The user cancelled it: remove its files and end it `cancelled`.
    case cancelRequested
    /// Another worker holds it now (our lease expired): leave it alone.
    case leaseLost
    /// This worker is shutting down (SIGTERM, Ctrl-C): keep its checkpoint; it resumes later.
    case shutdown
}
