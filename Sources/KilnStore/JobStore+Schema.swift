import GRDB

extension JobStore {
    /// Schema migrations, applied in order on open; never edit a shipped one, add another.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE jobs (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    owner TEXT NOT NULL,
                    request TEXT NOT NULL,
                    state TEXT NOT NULL,
                    stage TEXT,
                    progress TEXT,
                    created_at REAL NOT NULL,
                    started_at REAL,
                    finished_at REAL,
                    result BLOB,
                    failure TEXT,
                    attempt INTEGER NOT NULL DEFAULT 0,
                    lease_owner TEXT,
                    lease_expires_at REAL,
                    cancel_requested INTEGER NOT NULL DEFAULT 0,
                    webhook_url TEXT,
                    price_estimate_usd REAL NOT NULL,
                    inference_time_seconds REAL,
                    version INTEGER NOT NULL DEFAULT 1
                );
                CREATE INDEX jobs_state_seq ON jobs(state, seq);
                CREATE INDEX jobs_owner_seq ON jobs(owner, seq);
                CREATE TABLE job_logs (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                    timestamp REAL NOT NULL,
                    level TEXT NOT NULL,
                    source TEXT NOT NULL,
                    message TEXT NOT NULL
                );
                CREATE INDEX job_logs_job_seq ON job_logs(job_id, seq);
                CREATE TABLE files (
                    id TEXT PRIMARY KEY NOT NULL,
                    owner TEXT NOT NULL,
                    file_name TEXT NOT NULL,
                    content_type TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    relative_path TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    job_id TEXT,
                    created_at REAL NOT NULL
                );
                CREATE INDEX files_job ON files(job_id);
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT,
                    salt BLOB NOT NULL,
                    hash BLOB NOT NULL,
                    created_at REAL NOT NULL,
                    revoked_at REAL
                );
                """)
        }
        // Queue positions are served from a per-process snapshot of the queued jobs
        // (``QueueSnapshot``). These two counters tell a reader, inside its own read
        // transaction, whether its snapshot is still exact: `appended` moves when a job joins
        // the tail of the queue (a submit: seq only grows), `reordered` on every other change
        // of who is queued (a claim, a cancel, a requeue, a deletion).
        migrator.registerMigration("v2 queue clock") { db in
            try db.execute(sql: """
                CREATE TABLE queue_clock (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    appended INTEGER NOT NULL,
                    reordered INTEGER NOT NULL
                );
                INSERT INTO queue_clock (id, appended, reordered) VALUES (1, 0, 0);
                CREATE TRIGGER queue_clock_on_insert AFTER INSERT ON jobs WHEN NEW.state = 'queued'
                BEGIN
                    UPDATE queue_clock SET appended = appended + 1 WHERE id = 1;
                END;
                CREATE TRIGGER queue_clock_on_state AFTER UPDATE OF state ON jobs
                    WHEN (OLD.state = 'queued') <> (NEW.state = 'queued')
                BEGIN
                    UPDATE queue_clock SET reordered = reordered + 1 WHERE id = 1;
                END;
                CREATE TRIGGER queue_clock_on_delete AFTER DELETE ON jobs WHEN OLD.state = 'queued'
                BEGIN
                    UPDATE queue_clock SET reordered = reordered + 1 WHERE id = 1;
                END;
                """)
        }
        // Webhooks are an outbox in the store, not tasks in a worker's memory: a job that ends
        // with a `fal_webhook` gets a row in the same transaction (a trigger, so every way of
        // ending a job is covered, a cancel while queued included), and any worker delivers it,
        // across restarts, until the receiver accepts it or the retry window closes.
        migrator.registerMigration("v3 webhook outbox") { db in
            try db.execute(sql: """
                CREATE TABLE webhook_outbox (
                    job_id TEXT PRIMARY KEY NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                    url TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at REAL NOT NULL,
                    created_at REAL NOT NULL,
                    delivered_at REAL,
                    abandoned_at REAL
                );
                CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt_at)
                    WHERE delivered_at IS NULL AND abandoned_at IS NULL;
                CREATE TRIGGER webhook_outbox_on_end AFTER UPDATE OF state ON jobs
                    WHEN NEW.webhook_url IS NOT NULL
                        AND NEW.state IN ('succeeded', 'failed', 'cancelled')
                        AND OLD.state NOT IN ('succeeded', 'failed', 'cancelled')
                BEGIN
                    INSERT OR IGNORE INTO webhook_outbox (job_id, url, next_attempt_at, created_at)
                    VALUES (NEW.id, NEW.webhook_url,
                            COALESCE(NEW.finished_at, (julianday('now') - 2440587.5) * 86400.0),
                            COALESCE(NEW.finished_at, (julianday('now') - 2440587.5) * 86400.0));
                END;
                """)
        }
        return migrator
    }
}
