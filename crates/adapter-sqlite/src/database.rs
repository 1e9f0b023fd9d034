//! [`SqliteDatabase`]: opening the file (directory, WAL, migrations) and the
//! connection pool that the store handles share.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;
use scheduled_thread_pool::ScheduledThreadPool;

use crate::agent_store::SqliteAgentStore;
use crate::blocking::Execution;
use crate::connection::configure;
use crate::error::DatabaseError;
use crate::history::SqliteHistory;
use crate::migrations;

/// How [`SqliteDatabase::open_with`] configures the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseOptions {
    /// How long a connection waits for another process's write lock before SQLite
    /// reports `SQLITE_BUSY`. Writes hold the lock for well under a millisecond, so
    /// the default of 10 s is only reached when something holds the file for real
    /// (e.g. a stuck external tool). The brief requires at least 5 s.
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
    pool: Pool<SqliteConnectionManager>,
    path: Arc<Path>,
    execution: Execution,
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
        let opened = |source| DatabaseError::Open {
            path: path.to_owned(),
            source,
        };
        // Opened directly rather than through the pool: a bad path or an unreadable
        // file fails here at once with SQLite's own error, where the pool would retry
        // for its whole connection timeout and keep only a message.
        let mut first = Connection::open(path).map_err(opened)?;
        configure(&first, options.busy_timeout).map_err(opened)?;
        let previous = migrations::bring_up_to_date(&mut first, path)?;

        let busy_timeout = options.busy_timeout;
        let manager = SqliteConnectionManager::file(path)
            .with_init(move |conn| configure(conn, busy_timeout));
        let pool = Pool::builder()
            .max_size(options.max_connections.max(1))
            // No idle connections pre-opened beyond the first one below: a CLI command
            // needs one.
            .min_idle(Some(0))
            .test_on_check_out(false)
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
        drop(
            pool.get()
                .map_err(|source| DatabaseError::Pool { source })?,
        );
        drop(first);
        tracing::debug!(path = %path.display(), previous_version = previous, "database open");
        Ok(Self {
            pool,
            path: Arc::from(path),
            execution: options.execution,
        })
    }

    /// The `AgentStore` on this database.
    pub fn agent_store(&self) -> SqliteAgentStore {
        SqliteAgentStore::new(self.pool.clone(), self.execution)
    }

    /// The `DiscussionHistory` on this database.
    pub fn history(&self) -> SqliteHistory {
        SqliteHistory::new(self.pool.clone(), self.execution)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A configured connection from the pool, for diagnostics (`ax doctor`) and tests.
    /// Blocking. Writes made through it bypass the store: only what the schema itself
    /// enforces (e.g. `UNIQUE agent_id`) still holds.
    pub fn connection(&self) -> Result<PooledConnection<SqliteConnectionManager>, DatabaseError> {
        self.pool
            .get()
            .map_err(|source| DatabaseError::Pool { source })
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
