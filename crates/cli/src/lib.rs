//! The `ax` command line. This crate is the composition root: [`app`] wires the
//! SQLite and provider adapters to the agent and discussion domains; `commands/*`
//! turn parsed arguments into domain calls and print the results.
//!
//! **Architecture invariant:** only this crate knows clap, and only `app.rs`
//! constructs adapters.
//!
//! ```
//! use clap::Parser;
//! let cli = ax_cli::args::Cli::try_parse_from(["ax", "agent", "get", "reviewer", "--format", "json"]).unwrap();
//! assert!(matches!(cli.command, ax_cli::args::Command::Agent(ax_cli::args::AgentCommand::Get { .. })));
//! ```

pub mod app;
pub mod args;
pub mod commands;
pub mod error;
pub mod input;
pub mod output;
pub mod pager;
mod signals;
pub mod text;

use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};

use clap::Parser;

use crate::args::{Cli, Command};
use crate::error::Exit;

/// Run `ax` with the process arguments; returns the documented exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version are not errors; everything else is a usage error (2).
            let _ = err.print();
            return if err.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Ok.into()
            };
        }
    };
    init_logging(cli.global.verbose, cli.global.quiet);
    let format = cli.global.format;
    let runtime = match runtime_for(&cli.command) {
        Ok(rt) => rt,
        Err(err) => {
            output::report_error(
                format,
                &error::CliError::failure(format!("cannot start the async runtime: {err}")),
            );
            return Exit::Failure.into();
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(exit) => match SIGNAL_EXIT.load(Ordering::SeqCst) {
            0 => exit.into(),
            code => ExitCode::from(code),
        },
        Err(err) => {
            output::report_error(format, &err);
            err.exit.into()
        }
    }
}

/// The exit code a signal other than SIGINT called for (143 for SIGTERM, 129 for
/// SIGHUP), once a command has stopped and saved its work because of it; 0 if none.
static SIGNAL_EXIT: AtomicU8 = AtomicU8::new(0);

/// Make `ax` exit with `code` (128 + a signal's number) when the command returns.
pub(crate) fn exit_by_signal(code: u8) {
    SIGNAL_EXIT.store(code, Ordering::SeqCst);
}

/// Agent commands are short and sequential: a single-threaded runtime starts
/// fastest. Discussions and the MCP server run many things at once.
fn runtime_for(command: &Command) -> std::io::Result<tokio::runtime::Runtime> {
    match command {
        Command::Discuss(_) | Command::Mcp(_) | Command::Providers(_) | Command::Doctor => {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
        }
        Command::Agent(_) | Command::Db(_) | Command::Completions { .. } => {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        }
    }
}

/// Logs go to stderr only: stdout carries command output and the MCP stdio channel.
/// `AX_LOG` (e.g. `AX_LOG=debug`) overrides the verbosity flags.
fn init_logging(verbose: u8, quiet: bool) {
    // rmcp logs a warning for every JSON-RPC error it answers (a client's bad
    // request is not our problem to shout about); its details show from -vv.
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,rmcp=error",
        (false, 1) => "info,rmcp=error",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("AX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && output::colour_allowed())
        .with_target(false)
        .try_init();
}
