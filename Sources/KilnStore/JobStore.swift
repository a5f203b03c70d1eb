import Foundation
import GRDB
import KilnCore

/// The durable store of jobs, logs, files and API keys: one SQLite file in WAL mode that a
/// server and any number of worker processes on the same machine share.
///
/// Every method is synchronous and safe to call from any thread or task. Writes are
/// `IMMEDIATE` transactions, so two processes never interleave a read-then-write (that is
/// what makes ``claimNext(workerID:leaseSeconds:)`` safe); a busy timeout makes a writer wait
/// for the other process rather than fail. Commits are `synchronous = FULL`: a job answered
/// with 2xx survives a SIGKILL or a power cut.
public final class JobStore: Sendable {
    /// The database file's name inside a data directory.
    public static let databaseFileName = "kiln.sqlite"

    /// The SQLite file.
    public let path: String
    let pool: DatabasePool
    /// This process's copy of the queue, for cheap queue positions.
    let queue = QueueSnapshot()

    /// Opens (creating if needed, with its folder) the store at `path` and migrates it.
    ///
    /// - Parameter busyTimeout: how long a write waits for another process's write.
    public init(path: String, busyTimeout: TimeInterval = 10) throws {
        self.path = path
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw JobStoreError.cannotOpen(path: path, reason: "cannot create its folder: \(error.localizedDescription)")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "kiln.store"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw JobStoreError.cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Opens the store `kiln.sqlite` inside `dataDirectory`.
    public convenience init(dataDirectory: String) throws {
        try self.init(path: URL(fileURLWithPath: Self.expandingTilde(dataDirectory))
            .appendingPathComponent(Self.databaseFileName).path)
    }

    /// The data directory used when none is given: `$KILN_DATA_DIR`, else `~/.kiln`.
    public static func defaultDataDirectory() -> String {
        if let fromEnvironment = ProcessInfo.processInfo.environment["KILN_DATA_DIR"], !fromEnvironment.isEmpty {
            return expandingTilde(fromEnvironment)
        }
        return expandingTilde("~/.kiln")
    }

    /// `path` with a leading `~` replaced by the home folder.
    public static func expandingTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
        return home + path.dropFirst()
    }

    /// Runs a write transaction, mapping SQLite errors to ``JobStoreError``.
    func write<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch let error as JobStoreError {
            throw error
        } catch {
            throw JobStoreError.database(operation: what, reason: "\(error)")
        }
    }

    /// Runs a read, mapping SQLite errors to ``JobStoreError``.
    func read<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as JobStoreError {
            throw error
        } catch {
            throw JobStoreError.database(operation: what, reason: "\(error)")
        }
    }
}
