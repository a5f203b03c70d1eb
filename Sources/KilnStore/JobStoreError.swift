import Foundation

/// What went wrong in the job store, and what to do about it.
public enum JobStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database file could not be opened or migrated.
    case cannotOpen(path: String, reason: String)
    /// A query failed.
    case database(operation: String, reason: String)
    /// A stored row could not be read back (a column holds something unexpected).
    case corruptRow(table: String, id: String, reason: String)
    /// A worker wrote to a job whose lease it no longer holds.
    case leaseLost(jobID: UUID, workerID: String)
    /// A job id that is not in the store.
    case jobNotFound(UUID)

    /// Says what failed and what to do.
    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "cannot open the job store at \(path): \(reason); check the --data-dir folder exists and is writable"
        case .database(let operation, let reason):
            "the job store failed to \(operation): \(reason)"
        case .corruptRow(let table, let id, let reason):
            "the job store's \(table) row \(id) is unreadable (\(reason)); it was written by an incompatible kiln version"
        case .leaseLost(let jobID, let workerID):
            "worker \(workerID) no longer holds job \(jobID) (its lease expired or the job ended); stop working on it"
        case .jobNotFound(let id):
            "no job \(id) in the store"
        }
    }
}
