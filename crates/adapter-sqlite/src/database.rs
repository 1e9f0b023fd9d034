//! [`SqliteDatabase`]: opening the file (directory, WAL, migrations) and the
//! connection pool that the store handles share.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, ErrorCode, MAIN_DB, OpenFlags};
use scheduled_thread_pool::ScheduledThreadPool;

use crate::agent_store::SqliteAgentStore;
use crate::blocking::Execution;
use crate::connection::configure;
use crate::error::{DatabaseError, is_busy};
use crate::history::SqliteHistory;
use crate::migrations;
use crate::term_index;

/// How [`SqliteDatabase::open_with`] configures the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseOptions {
    /// How long a connection waits for another process's write lock before SQLite
    /// reports `SQLITE_BUSY`. Writes hold the lock for well under a millisecond, so
    /// the default of 10 s is only reached when something holds the file for real
    /// (e.g. a stuck external tool). The brief requires at least 5 s.
    ///
    /// It bounds every wait: opening (the switch to WAL and the migration included)
    /// gives up after it in all, a statement waits at most this long for a lock, and
    /// a pool checkout waits at most this long for a free connection. Past it the
    /// error is [`DatabaseError::Busy`] or a store error caused by
    /// [`crate::DatabaseBusy`].
    pub busy_timeout: Duration,
    /// Most connections open at once. WAL lets readers run in parallel with each
    /// other and with the one writer, so more than one pays off for the MCP server.
    pub max_connections: u32,
    /// Where the stores run their blocking SQLite work (default: Tokio's blocking
    /// pool inside a runtime).
    pub execution: Execution,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(10),
            max_connections: 8,
            execution: Execution::BlockingPool,
        }
    }
}

/// An open, migrated SQLite database and its connection pool. Cheap to clone; the
/// clones and every handle taken from them share the pool.
#[derive(Debug, Clone)]
pub struct SqliteDatabase {
    shared: Shared,
    path: Arc<Path>,
    execution: Execution,
}

/// The pool and the busy timeout, shared by the database and every store handle.
/// When the last clone goes (the command is done), the WAL is checkpointed so that
/// `data.db` alone holds every commit (see [`checkpoint_on_close`]).
#[derive(Debug, Clone)]
pub(crate) struct Shared(Arc<SharedInner>);

#[derive(Debug)]
pub(crate) struct SharedInner {
    pool: Pool<SqliteConnectionManager>,
    busy_timeout: Duration,
}

impl Shared {
    /// The connection pool.
    pub(crate) fn pool(&self) -> &Pool<SqliteConnectionManager> {
        &self.0.pool
    }

    /// The busy timeout every wait is bounded by.
    pub(crate) fn busy_timeout(&self) -> Duration {
        self.0.busy_timeout
    }
}

impl Drop for SharedInner {
    fn drop(&mut self) {
        checkpoint_on_close(&self.pool, self.busy_timeout);
    }
}

/// The longest a closing process waits for other processes' readers so that its
/// checkpoint can copy everything into the database file.
const CLOSE_CHECKPOINT_WAIT: Duration = Duration::from_secs(2);

/// Copies the WAL into the database file before the process's connections close, so
/// that after any command `data.db` alone is a complete copy. SQLite does this by
/// itself only when the closing connection is the last one to the file in any
/// process; with another `ax` (an MCP server) or another tool holding the file open,
/// the commits stayed in `data.db-wal`.
///
/// A passive checkpoint first (never waits; enough when nobody reads an older
/// snapshot); when it could not copy everything, a full one that waits for other
/// processes' readers and writer at most [`CLOSE_CHECKPOINT_WAIT`] (or the busy
/// timeout, if shorter). Whatever it could not copy is still safe in the WAL.
fn checkpoint_on_close(pool: &Pool<SqliteConnectionManager>, busy_timeout: Duration) {
    let Some(conn) = pool.try_get() else {
        return;
    };
    if conn.is_readonly(MAIN_DB).unwrap_or(true) {
        return;
    }
    let checkpoint = |mode: &str| -> rusqlite::Result<(i64, i64, i64)> {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
    };
    if let Ok((0, log, copied)) = checkpoint("PASSIVE")
        && log == copied
    {
        return;
    }
    if conn
        .busy_timeout(busy_timeout.min(CLOSE_CHECKPOINT_WAIT))
        .is_err()
    {
        return;
    }
    match checkpoint("FULL") {
        Ok((0, log, copied)) if log == copied => {}
        Ok((_, log, copied)) => tracing::debug!(
            log,
            copied,
            "other processes' readers kept part of the WAL from the database file"
        ),
        Err(error) => tracing::debug!(%error, "checkpoint on close failed"),
    }
    let _ = conn.busy_timeout(busy_timeout);
}

impl SqliteDatabase {
    /// Opens (creating if needed) the database file at `path` with default options.
    /// See [`Self::open_with`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DatabaseError> {
        Self::open_with(path, DatabaseOptions::default())
    }

    /// Opens (creating if needed) the database file at `path`: creates its parent
    /// directory, puts the file in WAL mode, brings the schema to
    /// [`migrations::SCHEMA_VERSION`] and sets up the pool.
    ///
    /// Cheap on purpose, since every CLI command starts with it: one connection is
    /// opened to check `user_version` (and migrate when behind); the pool then opens
    /// the one connection a command needs, and more only when used concurrently.
    /// Safe to call from many processes at once on the same (even not yet existing)
    /// file.
    ///
    /// `path` must name a file: `:memory:` would give every pooled connection its own
    /// empty database.
    pub fn open_with(
        path: impl AsRef<Path>,
        options: DatabaseOptions,
    ) -> Result<Self, DatabaseError> {
        let path = path.as_ref();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| DatabaseError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        }
        let busy_timeout = options.busy_timeout;
        // One deadline for everything opening may wait for: the first read, the
        // switch to WAL, the migration and the pool's first connection.
        let deadline = Instant::now() + busy_timeout;
        let opened = |source| open_error(path, busy_timeout, source);
        // Opened directly rather than through the pool: a bad path or an unreadable
        // file fails here at once with SQLite's own error, where the pool would retry
        // for its whole connection timeout and keep only a message.
        let mut first = Connection::open(path).map_err(opened)?;
        if first.is_readonly(MAIN_DB).unwrap_or(false) {
            // SQLite fell back to reading: the file or its file system is read-only.
            return Err(DatabaseError::ReadOnly {
                path: path.to_owned(),
                source: None,
            });
        }
        configure(&first, busy_timeout).map_err(opened)?;
        let previous = migrations::bring_up_to_date(&mut first, path, deadline, busy_timeout)?;
        term_index::ensure_built(&mut first, path, deadline, busy_timeout)?;

        let manager = SqliteConnectionManager::file(path)
            .with_init(move |conn| configure(conn, busy_timeout));
        let pool = Pool::builder()
            .max_size(options.max_connections.max(1))
            // No idle connections pre-opened beyond the first one below: a CLI command
            // needs one.
            .min_idle(Some(0))
            .test_on_check_out(false)
            // A checkout waits for a free connection no longer than for a lock.
            .connection_timeout(busy_timeout.max(Duration::from_millis(1)))
            .error_handler(Box::new(TracingErrorHandler))
            // r2d2 only opens and reaps connections in the background; one thread
            // does that, where its default of three costs start-up time.
            .thread_pool(Arc::new(
                ScheduledThreadPool::builder()
                    .num_threads(1)
                    .thread_name_pattern("ax-sqlite-pool-{}")
                    .build(),
            ))
            .build_unchecked(manager);
        // The pool's first connection is opened while `first` still holds the file:
        // closing the last connection to a WAL database deletes its `-wal` file,
        // which the next open would have to create again.
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(100));
        drop(
            pool.get_timeout(left)
                .map_err(|source| DatabaseError::Pool { source })?,
        );
        drop(first);
        tracing::debug!(path = %path.display(), previous_version = previous, "database open");
        Ok(Self {
            shared: Shared(Arc::new(SharedInner { pool, busy_timeout })),
            path: Arc::from(path),
            execution: options.execution,
        })
    }

    /// Opens an existing database file for reading only, never writing it, not even
    /// its WAL index: for `ax doctor` when [`Self::open_with`] reported
    /// [`DatabaseError::ReadOnly`]. No migration, no checkpoint. When the WAL index
    /// cannot be created beside a WAL-mode file (a read-only folder), the file is
    /// read as immutable, which is exact as long as nothing can write it either.
    pub fn open_read_only(
        path: impl AsRef<Path>,
        options: DatabaseOptions,
    ) -> Result<Self, DatabaseError> {
        let path = path.as_ref();
        let busy_timeout = options.busy_timeout;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let readable = |uri: &str| -> rusqlite::Result<Connection> {
            let conn = Connection::open_with_flags(uri, flags)?;
            configure(&conn, busy_timeout)?;
            migrations::user_version(&conn)?;
            Ok(conn)
        };
        let plain = file_uri(path, "mode=ro");
        let uri = match readable(&plain) {
            Ok(_) => plain,
            Err(_) => {
                let immutable = file_uri(path, "immutable=1");
                readable(&immutable).map_err(|source| open_error(path, busy_timeout, source))?;
                immutable
            }
        };
        let manager = SqliteConnectionManager::file(uri)
            .with_flags(flags)
            .with_init(move |conn| configure(conn, busy_timeout));
        let pool = Pool::builder()
            .max_size(1)
            .min_idle(Some(0))
            .connection_timeout(busy_timeout.max(Duration::from_millis(1)))
            .error_handler(Box::new(TracingErrorHandler))
            .build(manager)
            .map_err(|source| DatabaseError::Pool { source })?;
        Ok(Self {
            shared: Shared(Arc::new(SharedInner { pool, busy_timeout })),
            path: Arc::from(path),
            execution: options.execution,
        })
    }

    /// The `AgentStore` on this database.
    pub fn agent_store(&self) -> SqliteAgentStore {
        SqliteAgentStore::new(self.shared.clone(), self.execution)
    }

    /// The `DiscussionHistory` on this database.
    pub fn history(&self) -> SqliteHistory {
        SqliteHistory::new(self.shared.clone(), self.execution)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A configured connection from the pool, for diagnostics (`ax doctor`) and tests.
    /// Blocking. Writes made through it bypass the store: only what the schema itself
    /// enforces (e.g. `UNIQUE agent_id`) still holds.
    pub fn connection(&self) -> Result<PooledConnection<SqliteConnectionManager>, DatabaseError> {
        self.shared
            .pool()
            .get()
            .map_err(|source| DatabaseError::Pool { source })
    }

    /// The busy timeout this database was opened with.
    pub fn busy_timeout(&self) -> Duration {
        self.shared.busy_timeout()
    }
}

/// `file:PATH?QUERY`, the path percent-encoded where a URI needs it.
fn file_uri(path: &Path, query: &str) -> String {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", c as u32)),
            c => uri.push(c),
        }
    }
    uri.push('?');
    uri.push_str(query);
    uri
}

/// [`DatabaseError::Busy`] when SQLite gave up waiting for a lock,
/// [`DatabaseError::ReadOnly`] when it could not write the file or create its
/// journal, WAL or WAL index, otherwise [`DatabaseError::Open`].
pub(crate) fn open_error(path: &Path, waited: Duration, source: rusqlite::Error) -> DatabaseError {
    if is_busy(&source) {
        return DatabaseError::Busy {
            path: path.to_owned(),
            waited,
        };
    }
    if matches!(
        source.sqlite_error_code(),
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen)
    ) && not_writable(path)
    {
        return DatabaseError::ReadOnly {
            path: path.to_owned(),
            source: Some(source),
        };
    }
    DatabaseError::Open {
        path: path.to_owned(),
        source,
    }
}

/// Whether the file (if it exists) or its folder cannot be written: permissions or a
/// read-only file system. Probes by opening the file for writing (nothing is written)
/// and by creating (and removing) an empty file of an unpredictable name in the folder.
fn not_writable(path: &Path) -> bool {
    let refused = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
        )
    };
    if let Err(e) = std::fs::OpenOptions::new().write(true).open(path)
        && refused(&e)
    {
        return true;
    }
    let dir: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    // Dropping the probe removes it.
    match crate::backup::new_temp_file_in(&dir, ".ax-probe-") {
        Ok(_probe) => false,
        Err(e) => refused(&e),
    }
}

/// Routes the pool's background connection errors to `tracing` (stderr), never to
/// stdout, which carries MCP messages and CLI data.
#[derive(Debug)]
struct TracingErrorHandler;

impl r2d2::HandleError<rusqlite::Error> for TracingErrorHandler {
    fn handle_error(&self, error: rusqlite::Error) {
        tracing::warn!(%error, "opening a pooled SQLite connection failed");
    }
}
