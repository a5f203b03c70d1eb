import Foundation
import GRDB
import KilnCore

extension JobStore {
    /// Records a file already written under the data directory.
    public func insertFile(_ file: StoredFile) throws {
        try write("record a file") { db in
            try db.execute(sql: """
                INSERT INTO files (id, owner, file_name, content_type, size, sha256, relative_path, kind, job_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [file.id, file.owner, file.fileName, file.contentType, file.size, file.sha256,
                                 file.relativePath, file.kind.rawValue, file.jobID?.uuidString, storedDate(file.createdAt)])
        }
    }

    /// The file `id`; when `owner` is given, only if that owner holds it.
    public func file(id: String, owner: String? = nil) throws -> StoredFile? {
        try read("read a file record") { db in
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM files WHERE id = ? AND (? IS NULL OR owner = ?)"),
                                       arguments: [id, owner, owner])
            return try row.map(Self.storedFile)
        }
    }

    /// The artifacts of job `jobID`, oldest first.
    public func files(jobID: UUID) throws -> [StoredFile] {
        try read("list a job's files") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM files WHERE job_id = ? ORDER BY created_at, id",
                             arguments: [jobID.uuidString]).map(Self.storedFile)
        }
    }

    /// Forgets a file record (the caller deletes the bytes). Returns whether it existed.
    @discardableResult
    public func deleteFile(id: String) throws -> Bool {
        try write("delete a file record") { db in
            try db.execute(sql: "DELETE FROM files WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    private static func storedFile(_ row: Row) throws -> StoredFile {
        let id: String = row["id"]
        guard let kind = StoredFile.Kind(rawValue: row["kind"]) else {
            throw JobStoreError.corruptRow(table: "files", id: id, reason: "unknown kind")
        }
        return StoredFile(
            id: id, owner: row["owner"], fileName: row["file_name"], contentType: row["content_type"],
            size: row["size"], sha256: row["sha256"], relativePath: row["relative_path"], kind: kind,
            jobID: (row["job_id"] as String?).flatMap(UUID.init(uuidString:)),
            createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }
}
