import Foundation
import KilnCore
import KilnStore

/// Removes the folders and files of jobs that ended more than `keepDays` ago (`--keep-days`).
/// Queued and running jobs are never touched; the job rows stay, so their status still answers.
public struct Retention: Sendable {
    /// The store.
    public var store: JobStore
    /// The data directory (file paths are relative to it).
    public var dataDirectory: String
    /// `<data>/jobs`.
    public var jobsDirectory: String

    /// Creates a sweeper.
    public init(store: JobStore, dataDirectory: String, jobsDirectory: String) {
        self.store = store
        self.dataDirectory = dataDirectory
        self.jobsDirectory = jobsDirectory
    }

    /// Removes what old ended jobs left; returns how many jobs were swept.
    @discardableResult
    public func sweep(keepDays: Double, now: Date = Date()) throws -> Int {
        let cutoff = now.addingTimeInterval(-keepDays * 86_400)
        var swept = 0
        for job in try store.listJobs(states: [.succeeded, .failed, .cancelled], limit: 100_000) {
            guard let finished = job.finishedAt, finished < cutoff else { continue }
            let folder = JobFolder(jobsDirectory: jobsDirectory, id: job.id)
            let files = try store.files(jobID: job.id)
            guard !files.isEmpty || FileManager.default.fileExists(atPath: folder.root) else { continue }
            for file in files {
                let path = (dataDirectory as NSString).appendingPathComponent(file.relativePath)
                try? FileManager.default.removeItem(atPath: path)
                try store.deleteFile(id: file.id)
            }
            folder.remove()
            try? store.appendLog(jobID: job.id, level: "info", source: "worker",
                                 message: "job files removed by retention (ended more than \(keepDays) days ago)")
            swept += 1
        }
        return swept
    }
}
