//! `ax mcp serve`: the MCP server over stdio or Streamable HTTP, stopped by a signal.

use std::path::Path;

use ax_mcp_server::{HttpOptions, HttpServer, McpOptions, McpServices};
use tokio_util::sync::CancellationToken;

use crate::app::{App, Location};
use crate::args::ServeArgs;
use crate::error::{CliError, Exit};
use crate::signals::StopSignals;

/// `ax mcp serve [--http [ADDR]] [--token T] [--max-concurrent N]`.
pub(super) async fn serve(location: Location<'_>, args: ServeArgs) -> Result<Exit, CliError> {
    let token = match &args.token_file {
        Some(path) => Some(read_token_file(path)?),
        None => args.token.clone(),
    };
    forget_token_env();
    let app = App::open(location).await?;
    let wiring = app.discussions(args.max_concurrent)?;
    let services = McpServices {
        agents: app.agents.clone(),
        discussions: wiring.service.clone(),
        history: wiring.history.clone(),
    };
    let options = McpOptions {
        max_in_flight: args.max_in_flight,
        tool_prefix: args.tool_prefix.clone(),
        ..McpOptions::default()
    };
    let shutdown = CancellationToken::new();
    let signals = tokio::spawn(cancel_on_signal(shutdown.clone()));
    let outcome = match args.http {
        None => on_one_thread(ax_mcp_server::serve_stdio(services, options, shutdown)).await,
        Some(addr) => {
            let http = HttpOptions {
                token,
                max_sessions: args.max_sessions,
                allowed_hosts: trimmed(&args.allowed_hosts),
                allowed_origins: trimmed(&args.allowed_origins),
                ..HttpOptions::new(addr)
            };
            // HTTP stays on the CLI's multi-threaded runtime: many clients may
            // share it, and one thread measured no better here (docs/BENCHMARKS.md).
            match HttpServer::bind(services, options, http).await {
                Ok(server) => {
                    eprintln!(
                        "ax: MCP server listening on http://{}/mcp (Ctrl-C to stop)",
                        server.local_addr()
                    );
                    server.run(shutdown).await
                }
                Err(err) => Err(err),
            }
        }
    };
    signals.abort();
    outcome.map_err(|err| match err {
        ax_mcp_server::ServeError::Config(message) => CliError::usage(message),
        other => CliError::failure(other.to_string()),
    })?;
    Ok(Exit::Ok)
}

/// The non-empty entries of a comma-separated list, trimmed (`a, b,` is `a`, `b`).
fn trimmed(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The bearer token in a file: its content without surrounding whitespace.
fn read_token_file(path: &Path) -> Result<String, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::usage(format!(
            "cannot read the token file {}: {e}",
            path.display()
        ))
    })?;
    Ok(text.trim().to_owned())
}

/// Take `AX_MCP_TOKEN` out of this process's environment once it is read, so no
/// provider process (the discussions this server runs) inherits the secret.
///
/// Why here rather than at each spawn: every child (providers, their version
/// probes, whatever they start) inherits this environment, and removing the
/// variable once covers all of them without the provider adapter knowing about MCP.
#[allow(unsafe_code)]
fn forget_token_env() {
    if std::env::var_os("AX_MCP_TOKEN").is_some() {
        // SAFETY: called before the server opens the database or spawns any task or
        // process; the runtime's worker threads are idle and nothing else in this
        // process reads the environment concurrently.
        unsafe { std::env::remove_var("AX_MCP_TOKEN") };
    }
}

/// Run the stdio server on a runtime of its own with one thread.
///
/// Why: a stdio server has one client; on a multi-threaded runtime every request
/// hops between worker threads (reader, handler, response writer), and on a small
/// machine those wake-ups cost more than the work (see docs/BENCHMARKS.md). Requests are still served concurrently — they are tasks — and
/// blocking SQLite work still runs on the blocking pool, so a discussion never holds
/// up an `agent_get`.
async fn on_one_thread<F>(server: F) -> Result<(), ax_mcp_server::ServeError>
where
    F: std::future::Future<Output = Result<(), ax_mcp_server::ServeError>> + Send + 'static,
{
    let server = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let outcome = runtime.block_on(server);
        // When stdin is not a pipe, a read of it sits on the blocking pool and cannot
        // be cancelled; dropping the runtime would wait for that read (for input that
        // may never come) instead of exiting.
        runtime.shutdown_background();
        outcome
    });
    match server.await {
        Ok(outcome) => outcome,
        Err(join) => Err(ax_mcp_server::ServeError::Io(std::io::Error::other(join))),
    }
}

/// Cancel `shutdown` on Ctrl-C, SIGTERM or SIGHUP (unless `nohup` ignored it):
/// running discussions stop, are saved as `cancelled`, and their provider processes
/// are killed before the server exits.
///
/// The server still exits 0: being told to stop is how a server's life ends normally
/// (a host closing it, a service manager stopping it), unlike a one-shot command whose
/// work the signal cut short.
async fn cancel_on_signal(shutdown: CancellationToken) {
    let (_, name) = StopSignals::register().next().await;
    tracing::info!("{name}: shutting down the MCP server");
    shutdown.cancel();
}
