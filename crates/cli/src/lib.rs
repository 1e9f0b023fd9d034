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
pub mod copy;
mod destination;
pub mod error;
pub mod import_reader;
pub mod input;
pub mod output;
pub mod pager;
mod signals;
pub mod storage;
pub mod text;

use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use clap::{ArgMatches, CommandFactory, FromArgMatches};
use tracing::Instrument;
use tracing::field::Empty;

use crate::args::{Cli, Command};
use crate::error::Exit;

/// Run `ax` with the process arguments; returns the documented exit code.
pub fn main() -> ExitCode {
    // As `Cli::try_parse`, keeping the matches for the command's name.
    let parsed = Cli::command().try_get_matches().and_then(|mut matches| {
        // Named first: reading the matches into `Cli` takes the subcommands out.
        let command = command_path(&matches);
        let cli = Cli::from_arg_matches_mut(&mut matches)
            .map_err(|err| err.format(&mut Cli::command()))?;
        Ok((cli, command))
    });
    let (cli, command) = match parsed {
        Ok(parsed) => parsed,
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
    let span = tracing::info_span!(
        "command",
        command,
        exit = Empty,
        outcome = Empty,
        duration_ms = Empty,
    );
    let started = Instant::now();
    let result = runtime.block_on(commands::run(cli).instrument(span.clone()));
    let (exit, outcome) = match &result {
        Ok(exit) => match SIGNAL_EXIT.load(Ordering::SeqCst) {
            0 => (*exit as u8, if *exit == Exit::Ok { "ok" } else { "failed" }),
            code => (code, "signal"),
        },
        Err(err) => (err.exit() as u8, err.code.as_str()),
    };
    span.record("exit", exit);
    span.record("outcome", outcome);
    span.record(
        "duration_ms",
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    );
    if let Err(err) = &result {
        output::report_error(format, err);
    }
    ExitCode::from(exit)
}

/// The command's name as typed, subcommands included (`agent list`, `mcp serve`).
fn command_path(matches: &ArgMatches) -> String {
    let mut names = Vec::new();
    let mut matches = matches;
    while let Some((name, sub)) = matches.subcommand() {
        names.push(name);
        matches = sub;
    }
    names.join(" ")
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
///
/// Spans (command, MCP request, discussion, round, consensus, provider call at
/// `info`; provider attempt at `debug`) print one line when they close, with their
/// fields and time, so `-v` or `AX_LOG=debug` follows a run call by call; by default
/// (`warn`) none is enabled, and a disabled span costs next to nothing.
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
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .try_init();
}
