//! Running blocking SQLite work from async port methods.

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
    /// Always on the calling thread. Saves the hand-off to the blocking pool (tens of
    /// microseconds per statement) for callers that have nothing else to run
    /// meanwhile, such as one CLI command on a current-thread runtime.
    Inline,
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
    work: F,
) -> Result<R, tokio::task::JoinError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match (execution, tokio::runtime::Handle::try_current()) {
        (Execution::BlockingPool, Ok(handle)) => handle.spawn_blocking(work).await,
        _ => Ok(work()),
    }
}
