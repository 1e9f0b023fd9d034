//! Running blocking SQLite work from async port methods.

use r2d2::PooledConnection;
use r2d2_sqlite::SqliteConnectionManager;

use crate::database::Shared;
use crate::error::BusyCause;

/// Where the store runs its blocking SQLite work. The composition root chooses: a
/// server that answers many requests at once wants the blocking pool; a command that
/// does one thing after another (`ax agent register`) is faster inline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Execution {
    /// On Tokio's blocking pool when called inside a Tokio runtime, so other tasks
    /// (e.g. the MCP server's other requests) keep running while a writer waits for
    /// the lock; inline when there is no runtime. The default.
    #[default]
    BlockingPool,
    /// Point reads (one agent or one discussion by id) on the calling thread,
    /// everything else on the blocking pool. A point read is one lookup in a unique
    /// index taking microseconds, and in WAL mode a reader never waits for a writer,
    /// so it cannot stall the caller's other tasks; the hand-off it saves (tens of
    /// microseconds) is most of its cost. For servers answering many `get`s (MCP).
    PointReadsInline,
    /// Always on the calling thread. Saves the hand-off to the blocking pool for
    /// callers that have nothing else to run meanwhile, such as one CLI command on a
    /// current-thread runtime.
    Inline,
}

/// What a piece of blocking work is, for [`Execution::PointReadsInline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Work {
    /// One row by unique key.
    PointRead,
    /// Anything else: scans, pages, writes (which may wait for the write lock).
    Other,
}

/// Runs `work` (blocking SQLite I/O, possibly waiting up to the busy timeout for a
/// lock) as `execution` says. Without a runtime it always runs inline, so synchronous
/// callers (a plain `block_on`, a script) can use the store instead of hitting
/// Tokio's panic.
///
/// The error is Tokio's when the blocking task panicked or the runtime shut down
/// before it ran.
pub(crate) async fn run_blocking<R, F>(
    execution: Execution,
    kind: Work,
    work: F,
) -> Result<R, tokio::task::JoinError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let on_pool = match execution {
        Execution::BlockingPool => true,
        Execution::PointReadsInline => kind == Work::Other,
        Execution::Inline => false,
    };
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if on_pool => handle.spawn_blocking(work).await,
        _ => Ok(work()),
    }
}

/// A boxed cause, as the ports' backend errors keep it.
pub(crate) type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Runs `op` with a connection from the pool, as `execution` and `kind` say (see
/// [`run_blocking`]). `what` names the operation and `fail` builds the port's backend
/// error, so both stores share this one path.
///
/// Work meant for the calling thread runs there only if a connection is free at once
/// (`try_get`): inside a runtime the calling thread is an async worker (on the stdio
/// MCP server, its only one), which must never wait for a checkout. When every
/// pooled connection is in use, the work goes to the blocking pool and waits there
/// (at most the busy timeout). A lock SQLite gave up on becomes a
/// [`crate::DatabaseBusy`] cause.
pub(crate) async fn with_pooled_connection<R, E, F>(
    shared: &Shared,
    execution: Execution,
    kind: Work,
    what: &'static str,
    fail: fn(String, Cause) -> E,
    op: F,
) -> Result<R, E>
where
    F: FnOnce(&mut PooledConnection<SqliteConnectionManager>) -> Result<R, E> + Send + 'static,
    R: Send + 'static,
    E: BusyCause + Send + 'static,
{
    let waited = shared.busy_timeout();
    let inline = match execution {
        Execution::BlockingPool => false,
        Execution::PointReadsInline => kind == Work::PointRead,
        Execution::Inline => true,
    };
    let runtime = tokio::runtime::Handle::try_current();
    if inline || runtime.is_err() {
        match shared.pool().try_get() {
            Some(mut conn) => return op(&mut conn).map_err(|e| e.busy_after(waited)),
            // No runtime: a synchronous caller, which may block.
            None if runtime.is_err() => {
                let mut conn = shared
                    .pool()
                    .get()
                    .map_err(|e| fail(format!("{what}: getting a connection"), Box::new(e)))?;
                return op(&mut conn).map_err(|e| e.busy_after(waited));
            }
            None => {}
        }
    }
    // Keeps the pool (and so the checkpoint on close) alive until the work is done,
    // even if the caller stops waiting.
    let shared = shared.clone();
    run_blocking(Execution::BlockingPool, kind, move || {
        let mut conn = shared
            .pool()
            .get()
            .map_err(|e| fail(format!("{what}: getting a connection"), Box::new(e)))?;
        op(&mut conn)
    })
    .await
    .map_err(|e| {
        fail(
            format!("{what}: the blocking task did not finish"),
            Box::new(e),
        )
    })?
    .map_err(|e| e.busy_after(waited))
}
