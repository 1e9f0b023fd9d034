//! Running blocking SQLite work from async port methods.

/// Runs `work` (blocking SQLite I/O, possibly waiting up to the busy timeout for a
/// lock) without stalling the async caller: on Tokio's blocking pool when called
/// inside a Tokio runtime, so the MCP server keeps answering other requests while a
/// writer waits; inline otherwise, so synchronous callers (a plain `block_on`, a
/// script) can use the store without a runtime instead of hitting Tokio's panic.
///
/// The error is Tokio's when the blocking task panicked or the runtime shut down
/// before it ran.
pub(crate) async fn run_blocking<R, F>(work: F) -> Result<R, tokio::task::JoinError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.spawn_blocking(work).await,
        Err(_) => Ok(work()),
    }
}
