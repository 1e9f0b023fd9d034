//! Per-connection settings. SQLite keeps `busy_timeout`, `foreign_keys` and
//! `synchronous` per connection, not in the file, so every connection the pool opens
//! must set them again; only the WAL journal mode is stored in the file itself.

use std::time::Duration;

use rusqlite::Connection;

/// How many prepared statements each connection keeps. The store uses a few dozen
/// distinct statements (every filter combination of `list` is one); keeping them all
/// avoids re-parsing SQL on hot paths.
const STATEMENT_CACHE_CAPACITY: usize = 64;

/// WAL pages after which a commit copies the log back into the database file.
/// A registration touches about 14 pages (the agent row, its three indexes, one page
/// per tag and capability entry); SQLite's default of 1000 pages meant a checkpoint
/// (copy + `fsync`) every ~70 registrations and a p99 of 5 ms in the benchmark.
/// 4000 pages (16 MiB of log at most between checkpoints) copies each hot index page
/// once per four times as many commits.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 4000;

/// Applies the settings every connection needs before its first use.
///
/// - `busy_timeout`: a writer waits for the lock instead of failing with
///   `SQLITE_BUSY`, which must never reach a user under concurrent writers.
/// - `foreign_keys=ON`: the design asks for it on every connection. Nothing relies
///   on it today: the schema has no foreign key (the side tables' `ON DELETE
///   CASCADE` was dropped for registration speed — the store deletes side entries by
///   key — and migration 4 removes it from files that still had it). It stays so
///   that a foreign key a later step adds is enforced from its first write, not
///   silently ignored (SQLite's default is OFF).
/// - `synchronous=NORMAL`: in WAL mode a commit survives a process crash (`SIGKILL`)
///   without an `fsync` per transaction; only an OS crash or power loss can drop the
///   last commits, never corrupt the file.
/// - `wal_autocheckpoint`: see [`WAL_AUTOCHECKPOINT_PAGES`].
pub(crate) fn configure(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    conn.busy_timeout(busy_timeout)?;
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
         PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};"
    ))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    Ok(())
}

/// The settings one connection actually runs with, read back from SQLite (for
/// `ax doctor` and for the tests that prove every pooled connection is configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// `PRAGMA journal_mode` (`wal` once the database is open).
    pub journal_mode: String,
    /// `PRAGMA busy_timeout`, in milliseconds.
    pub busy_timeout_ms: i64,
    /// `PRAGMA foreign_keys`.
    pub foreign_keys: bool,
    /// `PRAGMA synchronous`: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
    pub synchronous: i64,
}

impl ConnectionSettings {
    /// Reads the settings of `conn`.
    pub fn read(conn: &Connection) -> rusqlite::Result<Self> {
        Ok(Self {
            journal_mode: conn.pragma_query_value(None, "journal_mode", |row| row.get(0))?,
            busy_timeout_ms: conn.pragma_query_value(None, "busy_timeout", |row| row.get(0))?,
            foreign_keys: conn.pragma_query_value(None, "foreign_keys", |row| row.get(0))?,
            synchronous: conn.pragma_query_value(None, "synchronous", |row| row.get(0))?,
        })
    }
}
