import GRDB
import Synchronization

/// This process's copy of the queue (the seqs of every queued job, in order), so that a
/// queue position is a binary search instead of a `COUNT(*)` over every job ahead.
///
/// The copy is never trusted blindly: each lookup reads the `queue_clock` row inside the
/// caller's read transaction and uses the copy only when it was built at that exact clock.
/// Submits only append (seq grows), so a copy behind by appends alone catches up by reading
/// the new tail; any other change (claim, cancel, requeue) reloads the whole queue once.
/// Positions are therefore exact for the transaction's snapshot, across processes too.
final class QueueSnapshot: Sendable {
    private struct Copy {
        var appended: Int64
        var reordered: Int64
        /// Seqs of the queued jobs, ascending.
        var seqs: [Int64]
    }

    private let copy = Mutex<Copy?>(nil)

    /// How many queued jobs have a seq below `seq`, as seen by `db`'s current transaction.
    func position(of seq: Int64, in db: Database) throws -> Int {
        let clock = try Row.fetchOne(db.cachedStatement(sql: "SELECT appended, reordered FROM queue_clock WHERE id = 1"))
        let appended: Int64 = clock?["appended"] ?? 0, reordered: Int64 = clock?["reordered"] ?? 0
        let current = copy.withLock { $0 }
        if let current, current.appended == appended, current.reordered == reordered {
            return Self.countBelow(seq, in: current.seqs)
        }
        var fresh: Copy
        if var behind = current, behind.reordered == reordered, behind.appended < appended {
            let tail = try Int64.fetchAll(
                db.cachedStatement(sql: "SELECT seq FROM jobs WHERE state = 'queued' AND seq > ? ORDER BY seq"),
                arguments: [behind.seqs.last ?? Int64.min])
            behind.seqs.append(contentsOf: tail)
            behind.appended = appended
            fresh = behind
        } else {
            fresh = Copy(appended: appended, reordered: reordered, seqs: try Int64.fetchAll(
                db.cachedStatement(sql: "SELECT seq FROM jobs WHERE state = 'queued' ORDER BY seq")))
        }
        let position = Self.countBelow(seq, in: fresh.seqs)
        // Another reader may have stored a copy for a newer clock meanwhile; either is exact
        // for its own clock, so keeping the last one written is enough.
        copy.withLock { $0 = fresh }
        return position
    }

    /// The number of elements of the ascending `seqs` below `seq`.
    static func countBelow(_ seq: Int64, in seqs: [Int64]) -> Int {
        var low = 0, high = seqs.count
        while low < high {
            let middle = (low + high) / 2
            if seqs[middle] < seq { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
