//! Errors of opening and inspecting the database, and the small helpers that turn
//! SQLite failures into the ports' error types without losing the cause.

use std::path::PathBuf;
use std::time::Duration;

use ax_agent_domain::store::StoreError;
use ax_discussion_domain::history::HistoryError;

use crate::blocking::Cause;

/// Why the database could not be opened, migrated or inspected. The store operations
/// report through the ports' own error types ([`StoreError`], [`HistoryError`]).
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The directory that should hold the database file could not be created.
    #[error("cannot create the directory {path} for the database")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// SQLite could not open or configure the file.
    #[error("cannot open the database {path}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The SQLite failure.
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by a newer build with a schema this build does not know.
    /// Refusing is the only safe answer: an old binary writing rows without the newer
    /// columns or side tables would silently break the newer build's invariants.
    #[error(
        "the database {path} has schema version {found}, newer than version {supported} \
         that this build understands; use a newer ax"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The version recorded in the file (`PRAGMA user_version`).
        found: i64,
        /// The newest version this build can read and write.
        supported: u32,
    },
    /// A schema migration step failed; the transaction was rolled back, so the file is
    /// still at its previous version.
    #[error("migrating the database {path} to schema version {version} failed")]
    Migration {
        /// The database file.
        path: PathBuf,
        /// The step that failed.
        version: u32,
        /// The SQLite failure.
        #[source]
        source: rusqlite::Error,
    },
    /// No pooled connection could be obtained.
    #[error("no database connection available")]
    Pool {
        /// The pool's failure (a timeout, or the last connection error).
        #[source]
        source: r2d2::Error,
    },
    /// Another process held a lock on the file for longer than the busy timeout (a
    /// write transaction, an exclusive lock, or a reader blocking the switch to WAL).
    #[error("the database {path} is busy ({})", LockedFor(*waited))]
    Busy {
        /// The database file.
        path: PathBuf,
        /// How long this process waited (the busy timeout).
        waited: Duration,
    },
    /// The file, its folder or its file system cannot be written: SQLite could open it
    /// for reading only, or not create it, its journal or its WAL index.
    #[error("the database {path} is read-only (its file, folder or file system cannot be written)")]
    ReadOnly {
        /// The database file.
        path: PathBuf,
        /// The SQLite failure, if it came to one.
        #[source]
        source: Option<rusqlite::Error>,
    },
    /// `ax db backup` was asked to write over one of the database's own files.
    #[error("{dest} is the database's own file; a backup never replaces it")]
    BackupOverSelf {
        /// The destination asked for.
        dest: PathBuf,
    },
    /// Writing the backup copy failed; nothing was left at the destination.
    #[error("cannot write the backup {dest}")]
    Backup {
        /// The destination.
        dest: PathBuf,
        /// The failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A diagnostic query failed.
    #[error("database query failed: {context}")]
    Query {
        /// What was being asked.
        context: &'static str,
        /// The SQLite failure.
        #[source]
        source: rusqlite::Error,
    },
}

impl DatabaseError {
    /// Whether this is [`DatabaseError::Busy`]: another process held the file locked
    /// for longer than the busy timeout.
    pub fn is_busy(&self) -> bool {
        matches!(self, Self::Busy { .. })
    }

    /// Whether this is [`DatabaseError::ReadOnly`].
    pub fn is_read_only(&self) -> bool {
        matches!(self, Self::ReadOnly { .. })
    }
}

use ax_contracts::error::LockedFor;
/// The cause a store error carries when SQLite gave up waiting for a lock; shared
/// with the domains through `contracts` so they can report `STORAGE_BUSY`.
pub use ax_contracts::error::StorageBusy as DatabaseBusy;

/// Turns a `SQLITE_BUSY` cause into [`DatabaseBusy`], for the ports' backend errors.
pub(crate) trait BusyCause: Sized {
    /// `self`, its cause replaced by [`DatabaseBusy`] if SQLite gave up on a lock.
    fn busy_after(self, waited: Duration) -> Self;
}

fn busy_cause(source: Cause, waited: Duration) -> Cause {
    match source.downcast::<rusqlite::Error>() {
        Ok(sqlite) if is_busy(&sqlite) => Box::new(DatabaseBusy { waited }),
        Ok(sqlite) => sqlite,
        Err(other) => other,
    }
}

impl BusyCause for StoreError {
    fn busy_after(self, waited: Duration) -> Self {
        match self {
            StoreError::Backend { context, source } => StoreError::Backend {
                context,
                source: busy_cause(source, waited),
            },
            other => other,
        }
    }
}

impl BusyCause for HistoryError {
    fn busy_after(self, waited: Duration) -> Self {
        HistoryError {
            context: self.context,
            source: busy_cause(self.source, waited),
        }
    }
}

/// A [`StoreError::Backend`] with `context`, keeping `source` as the cause.
pub(crate) fn store_backend(
    context: impl Into<String>,
    source: impl std::error::Error + Send + Sync + 'static,
) -> StoreError {
    StoreError::Backend {
        context: context.into(),
        source: Box::new(source),
    }
}

/// A [`HistoryError`] with `context`, keeping `source` as the cause.
pub(crate) fn history_backend(
    context: impl Into<String>,
    source: impl std::error::Error + Send + Sync + 'static,
) -> HistoryError {
    HistoryError {
        context: context.into(),
        source: Box::new(source),
    }
}

/// A stored value that does not fit the type the ports use (e.g. a negative
/// revision written by another tool). Kept as a typed cause of a backend error.
#[derive(Debug, thiserror::Error)]
#[error("{what} is out of range: {value}")]
pub(crate) struct OutOfRange {
    /// Which value.
    pub(crate) what: &'static str,
    /// The offending value, printed.
    pub(crate) value: String,
}

/// Whether SQLite refused a write because of a `UNIQUE` or `PRIMARY KEY` constraint.
/// Decided on the extended result code, never on the message text, so a reworded
/// SQLite message cannot turn a duplicate into a storage failure (INV-AGT-DB-001).
pub(crate) fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_extended_error_code(),
        Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    )
}

/// Whether SQLite gave up waiting for a lock (`SQLITE_BUSY` / `SQLITE_LOCKED`).
pub(crate) fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}
