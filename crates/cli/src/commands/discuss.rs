//! `ax discuss ...`: run a discussion with live progress on stderr, show saved ones.
//!
//! Ctrl-C cancels: queued provider calls never start, running ones are dropped (the
//! command adapter kills their process groups), the partial result is saved, shown,
//! and `ax` exits 130.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use ax_adapter_providers::duration::parse_duration;
use ax_contracts::discussion::{DiscussionPage, DiscussionResult};
use ax_contracts::error::ErrorCode;
use ax_discussion_domain::progress::{CallPhase, ProgressEvent};
use ax_discussion_domain::{ProgressSink, RunOptions, ServiceError};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::args::{DiscussAction, DiscussArgs, DiscussCommand};
use crate::error::{CliError, Exit, invalid};
use crate::output::{Out, truncate};

/// Run `ax discuss`.
pub async fn run(app: &App, command: DiscussCommand, out: Out) -> Result<Exit, CliError> {
    match command.action {
        Some(DiscussAction::History { limit }) => history(app, limit, out).await,
        Some(DiscussAction::Show { id }) => show(app, &id, out).await,
        None => discuss(app, command.run, out).await,
    }
}

/// The discussion configuration (JSON, the contract's names) the flags describe.
/// Validation happens in the domain, which reports every broken rule with its path.
pub fn config_from_args(args: &DiscussArgs) -> Result<Value, CliError> {
    let mut config = Map::new();
    let topic = args.topic.clone().unwrap_or_default();
    config.insert("topic".into(), json!(topic));
    if let Some(pattern) = &args.pattern {
        config.insert("pattern".into(), json!(pattern));
    }
    if !args.providers.is_empty() {
        config.insert("providers".into(), json!(args.providers));
    }
    if let Some(rounds) = args.rounds {
        config.insert("rounds".into(), json!(rounds));
    }
    let mut consensus = Map::new();
    if let Some(method) = &args.consensus {
        consensus.insert("method".into(), json!(method));
    }
    if let Some(synthesizer) = &args.synthesizer {
        consensus.insert("synthesizer".into(), json!(synthesizer));
    }
    if !consensus.is_empty() {
        config.insert("consensus".into(), Value::Object(consensus));
    }
    if let Some(context) = &args.context {
        config.insert("context".into(), json!(context));
    }
    if let Some(timeout) = &args.timeout {
        let duration =
            parse_duration(timeout).map_err(|e| CliError::usage(format!("--timeout: {e}")))?;
        config.insert(
            "providerTimeout".into(),
            json!(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)),
        );
    }
    if !args.participants.is_empty() {
        let participants: Vec<Value> = args
            .participants
            .iter()
            .map(|p| match p.rsplit_once(':') {
                Some((id, "agent")) => json!({"type": "agent", "id": id}),
                Some((id, "provider")) => json!({"type": "provider", "id": id}),
                _ => json!({"type": "provider", "id": p}),
            })
            .collect();
        config.insert("participants".into(), json!(participants));
    }
    if args.fast {
        config.insert("fastMode".into(), json!(true));
    }
    if args.recursive {
        config.insert("recursive".into(), json!({"enabled": true}));
    }
    if let Some(min) = args.min_providers {
        config.insert("minProviders".into(), json!(min));
    }
    Ok(Value::Object(config))
}

async fn discuss(app: &App, args: DiscussArgs, out: Out) -> Result<Exit, CliError> {
    let wiring = app.discussions(args.max_concurrent)?;
    let config = config_from_args(&args)?;

    let cancel = CancellationToken::new();
    let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ctrl_c = {
        let (cancel, interrupted) = (cancel.clone(), interrupted.clone());
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                interrupted.store(true, std::sync::atomic::Ordering::SeqCst);
                eprintln!("\ninterrupted: stopping the providers and saving what was said so far…");
                cancel.cancel();
            }
        })
    };
    let progress = if out.json() {
        ProgressSink::none()
    } else {
        progress_printer()
    };
    let options = RunOptions {
        cancel,
        progress,
        ..RunOptions::default()
    };
    let outcome = wiring.service.discuss_json(&config, options).await;
    ctrl_c.abort();

    let result = match outcome {
        Ok(result) => result,
        Err(ServiceError::Invalid(errors)) => {
            let mut err = invalid("discussion configuration", &errors);
            err.code = ServiceError::Invalid(errors).code();
            return Err(err);
        }
        Err(err @ ServiceError::Rejected(_)) => {
            let body = err.to_error_body();
            let exit = if body.code == ErrorCode::AgentNotFound {
                Exit::NotFound
            } else {
                Exit::Usage
            };
            let mut cli = CliError::new(exit, body.code, body.message);
            cli.details = body.details;
            if body.code == ErrorCode::DiscussionProviderNotFound {
                cli = cli.hint("`ax providers list` shows the configured providers");
            }
            return Err(cli);
        }
        Err(ServiceError::NotSaved { result, source }) => {
            eprintln!("warning: the discussion could not be saved: {source}");
            *result
        }
    };
    print_result(&result, out)?;
    Ok(if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
        Exit::Interrupted
    } else if result.success {
        Exit::Ok
    } else {
        Exit::Failure
    })
}

/// Progress lines on stderr: on a terminal, one live line per call of the current
/// step, rewritten in place as calls go waiting → running → done/failed; otherwise one
/// plain line per change.
fn progress_printer() -> ProgressSink {
    if !std::io::stderr().is_terminal() {
        return ProgressSink::new(|event: &ProgressEvent| {
            if !matches!(event.phase, CallPhase::Waiting) {
                let _ = writeln!(std::io::stderr().lock(), "{event}");
            }
        });
    }
    let board = Arc::new(Mutex::new(LiveBoard::default()));
    ProgressSink::new(move |event: &ProgressEvent| {
        let mut board = board
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        board.update(event);
    })
}

/// The live block of status lines for the current step of a discussion.
#[derive(Default)]
struct LiveBoard {
    /// (discussion id, depth, step) of the block on screen.
    key: Option<(String, u32, String)>,
    /// One line per speaker, in order of first appearance.
    lines: Vec<(String, String)>,
    /// How many lines are on screen below the block's start.
    drawn: usize,
}

impl LiveBoard {
    fn update(&mut self, event: &ProgressEvent) {
        let key = (
            event.discussion_id.clone(),
            event.depth,
            event.step.to_string(),
        );
        if self.key.as_ref() != Some(&key) {
            // A new step: leave the finished block on screen and start a new one.
            self.key = Some(key);
            self.lines.clear();
            self.drawn = 0;
        }
        let line = status_line(event);
        match self
            .lines
            .iter_mut()
            .find(|(speaker, _)| *speaker == event.speaker)
        {
            Some(entry) => entry.1 = line,
            None => self.lines.push((event.speaker.clone(), line)),
        }
        let mut stderr = std::io::stderr().lock();
        if self.drawn > 0 {
            let _ = write!(stderr, "\x1b[{}A", self.drawn);
        }
        for (_, line) in &self.lines {
            let _ = writeln!(stderr, "\x1b[2K{line}");
        }
        self.drawn = self.lines.len();
        let _ = stderr.flush();
    }
}

/// `round 1: gemini       done in 3.2 s` — short enough not to wrap.
fn status_line(event: &ProgressEvent) -> String {
    let prefix = if event.depth > 0 {
        format!("  [sub {}] ", event.depth)
    } else {
        String::new()
    };
    let who = if event.speaker == event.provider {
        event.speaker.clone()
    } else {
        format!("{} (via {})", event.speaker, event.provider)
    };
    let state = match &event.phase {
        CallPhase::Waiting => "waiting".to_owned(),
        CallPhase::Running { attempt: 1 } => "running…".to_owned(),
        CallPhase::Running { attempt } => format!("running… (attempt {attempt})"),
        CallPhase::Retrying { delay, reason, .. } => {
            format!("retrying in {:.1} s: {reason}", delay.as_secs_f64())
        }
        CallPhase::Done { duration } => format!("done in {:.1} s", duration.as_secs_f64()),
        CallPhase::Failed { reason } => format!("failed: {reason}"),
    };
    // Cut (not `truncate`, which folds whitespace) so the columns stay aligned and a
    // line never wraps, which would break the in-place redraw.
    let line = format!("{prefix}{}: {who:<16} {state}", event.step);
    match line.char_indices().nth(110) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// Print a result for people (or as the one JSON document).
fn print_result(result: &DiscussionResult, out: Out) -> Result<(), CliError> {
    if out.json() {
        return out.print_json(result);
    }
    if result.metadata.simulated {
        out.line(&out.yellow(
            "⚠ SIMULATED: answers came from the built-in mock providers, not from AI models.",
        ))?;
        out.line(
            &out.dim(
                "  Install or configure a provider (see `ax providers list`) for real answers.",
            ),
        )?;
        out.line("")?;
    }
    out.line(&format!(
        "{} {}",
        out.bold("Topic:"),
        truncate(&result.topic, 200)
    ))?;
    out.line(&format!(
        "{} {} · {} round(s) · providers: {}",
        out.bold("Pattern:"),
        result.pattern.as_str(),
        result.rounds.len(),
        result.participating_providers.join(", ")
    ))?;
    for failed in &result.failed_providers {
        out.line(&out.red(&format!(
            "  {} failed ({}): {}",
            failed.provider,
            failed.code,
            truncate(&failed.message, 160)
        )))?;
    }
    out.line("")?;
    if let Some(voting) = &result.voting_results {
        out.line(&out.bold("Votes"))?;
        let rows: Vec<Vec<String>> = voting
            .options
            .iter()
            .map(|o| {
                vec![
                    o.clone(),
                    voting.votes.get(o).copied().unwrap_or(0).to_string(),
                    format!(
                        "{:.2}",
                        voting.weighted_votes.get(o).copied().unwrap_or(0.0)
                    ),
                ]
            })
            .collect();
        out.table(&["OPTION", "VOTES", "WEIGHTED"], &rows, &[60, 5, 8])?;
        let verdict = match (&voting.winner, voting.tie) {
            (_, true) => format!("tie between {}", voting.tied_options.join(" and ")),
            (Some(w), false) => format!(
                "winner: {w} (margin {:.2}{})",
                voting.margin,
                if voting.unanimous { ", unanimous" } else { "" }
            ),
            (None, false) => "no winner".to_owned(),
        };
        out.line(&verdict)?;
        out.line("")?;
    }
    if !result.synthesis.is_empty() {
        out.line(&out.bold("Synthesis"))?;
        out.line(result.synthesis.trim())?;
        out.line("")?;
    }
    let consensus = &result.consensus;
    let score = consensus
        .agreement_score
        .map(|s| format!(", agreement {:.2}", s))
        .unwrap_or_default();
    let reached = if consensus.reached {
        out.green("reached")
    } else {
        out.yellow("not reached")
    };
    out.line(&format!(
        "{} {} ({}{score})",
        out.bold("Consensus:"),
        reached,
        consensus.method.as_str()
    ))?;
    for agreement in &consensus.agreements {
        out.line(&format!("  agreed — {}", truncate(agreement, 160)))?;
    }
    for dissent in &consensus.dissent {
        out.line(&format!(
            "  dissent — {}: {}",
            dissent.provider,
            truncate(&dissent.position, 160)
        ))?;
    }
    if let Some(error) = &result.error {
        out.line(&out.red(&format!("error {}: {}", error.code.as_str(), error.message)))?;
    }
    let cost = &result.metadata.cost_summary;
    out.line(&out.dim(&format!(
        "{:.1} s · {} call(s), {} retr{} · at most {} in flight",
        result.total_duration_ms as f64 / 1000.0,
        cost.total_calls,
        cost.retries,
        if cost.retries == 1 { "y" } else { "ies" },
        result.metadata.max_in_flight
    )))?;
    out.line(&out.dim(&format!(
        "saved as {} (ax discuss show {})",
        result.discussion_id, result.discussion_id
    )))?;
    Ok(())
}

async fn history(app: &App, limit: usize, out: Out) -> Result<Exit, CliError> {
    let history = app.history();
    let items = history
        .list(limit.clamp(1, 1000), None)
        .await
        .map_err(|e| CliError::failure(crate::error::error_chain(&e)))?;
    if out.json() {
        out.print_json(&DiscussionPage {
            discussions: items,
            next_cursor: None,
        })?;
        return Ok(Exit::Ok);
    }
    if items.is_empty() {
        out.line("no discussions yet — try: ax discuss \"your question\"")?;
        return Ok(Exit::Ok);
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|d| {
            vec![
                d.discussion_id.clone(),
                d.started_at
                    .chars()
                    .take(19)
                    .collect::<String>()
                    .replace('T', " "),
                d.pattern.clone(),
                d.status.clone(),
                d.providers.join(","),
                d.topic.clone(),
            ]
        })
        .collect();
    out.table(
        &[
            "ID",
            "STARTED (UTC)",
            "PATTERN",
            "STATUS",
            "PROVIDERS",
            "TOPIC",
        ],
        &rows,
        &[36, 19, 11, 9, 30, 60],
    )?;
    Ok(Exit::Ok)
}

async fn show(app: &App, id: &str, out: Out) -> Result<Exit, CliError> {
    let record = app
        .history()
        .get(id)
        .await
        .map_err(|e| CliError::failure(crate::error::error_chain(&e)))?;
    let Some(record) = record else {
        return Err(CliError::new(
            Exit::NotFound,
            ErrorCode::DiscussionNotFound,
            format!("discussion \"{id}\" not found"),
        )
        .hint("`ax discuss history` lists saved discussions"));
    };
    if out.json() {
        out.print_json(&record.result)?;
        return Ok(Exit::Ok);
    }
    match serde_json::from_value::<DiscussionResult>(record.result.clone()) {
        Ok(result) => print_result(&result, out)?,
        // A result saved by another version: show it as it was stored.
        Err(_) => out.print_json(&record.result)?,
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(argv: &[&str]) -> DiscussArgs {
        let cli = crate::args::Cli::try_parse_from(argv).expect("parses");
        match cli.command {
            crate::args::Command::Discuss(d) => d.run,
            _ => panic!("discuss"),
        }
    }

    #[test]
    fn flags_become_the_contract_configuration() {
        let config = config_from_args(&args(&[
            "ax",
            "discuss",
            "Pick one",
            "--pattern",
            "voting",
            "--providers",
            "a,b",
            "--rounds",
            "3",
            "--consensus",
            "majority",
            "--synthesizer",
            "a",
            "--timeout",
            "90s",
            "--participants",
            "a,reviewer:agent",
            "--fast",
            "--recursive",
        ]))
        .expect("config");
        assert_eq!(
            config,
            json!({
                "topic": "Pick one", "pattern": "voting", "providers": ["a", "b"], "rounds": 3,
                "consensus": {"method": "majority", "synthesizer": "a"}, "providerTimeout": 90000,
                "participants": [{"type": "provider", "id": "a"}, {"type": "agent", "id": "reviewer"}],
                "fastMode": true, "recursive": {"enabled": true}
            })
        );
        assert!(config_from_args(&args(&["ax", "discuss", "t", "--timeout", "soon"])).is_err());
    }
}
