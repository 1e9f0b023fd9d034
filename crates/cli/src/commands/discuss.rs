//! `ax discuss ...`: run a discussion with live progress on stderr, show saved ones.
//!
//! Ctrl-C (SIGINT), SIGTERM and SIGHUP cancel: queued provider calls never start,
//! running ones are dropped (the command adapter kills their process groups), the
//! partial result is saved as `cancelled`, shown, and `ax` exits 130, 143 or 129
//! (128 + the signal's number). SIGHUP is left alone when it was ignored at start
//! (`nohup ax discuss …`).

mod advice;
mod render;

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use ax_contracts::discussion::{DiscussionPage, DiscussionResult};
use ax_contracts::error::ErrorCode;
use ax_discussion_domain::progress::{CallPhase, ProgressEvent};
use ax_discussion_domain::{ProgressSink, RunOptions, ServiceError};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::app::{App, CONFIG_FILE};
use crate::args::{DiscussAction, DiscussArgs, DiscussCommand, ViewArgs};
use crate::error::{CliError, Exit, invalid};
use crate::output::Out;
use crate::pager::PagerSettings;
use crate::signals::{HANGUP_EXIT, StopSignals};
use crate::text::escape_controls;

/// Run `ax discuss`.
pub async fn run(app: &App, command: DiscussCommand, out: Out) -> Result<Exit, CliError> {
    match command.action {
        Some(DiscussAction::History { limit }) => history(app, limit, out).await,
        Some(DiscussAction::Show { id, view }) => show(app, &id, view, out).await,
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
    if let Some(duration) = args.timeout {
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
    // What providers of a SIGKILLed `ax` started themselves outlives their death
    // signal (Linux); end it before starting new ones.
    let leftovers = ax_adapter_providers::command::process::kill_leftovers_of_dead_runs();
    if leftovers > 0 {
        tracing::info!(leftovers, "killed processes left behind by a killed ax");
    }
    let wiring = app.discussions(args.max_concurrent)?;
    let config = config_from_args(&args)?;

    let cancel = CancellationToken::new();
    // 0 until a signal stops the run, then the exit code it calls for.
    let interrupted = Arc::new(std::sync::atomic::AtomicU8::new(0));
    let (progress, board) = if out.json() || out.quiet() {
        (ProgressSink::none(), None)
    } else {
        progress_printer()
    };
    let ctrl_c = {
        let (cancel, interrupted) = (cancel.clone(), interrupted.clone());
        // Registered now, before any provider starts, not when the task first runs.
        let stop = StopSignals::register();
        tokio::spawn(async move {
            let (code, name) = stop.next().await;
            interrupted.store(code, std::sync::atomic::Ordering::SeqCst);
            notice_interrupted(board.as_deref(), name);
            cancel.cancel();
        })
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
            if errors.issues.iter().any(|i| i.path == "providers") {
                err = err.hint(
                    "name two or more providers (`ax providers list` shows them), or omit --providers to run the ones available here",
                );
            }
            err.code = ServiceError::Invalid(errors).code();
            return Err(err);
        }
        Err(err @ ServiceError::Rejected(_)) => {
            let body = err.to_error_body();
            let mut cli = CliError::new(body.code, body.message);
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
    let signal_exit = interrupted.load(std::sync::atomic::Ordering::SeqCst);
    let interrupted = signal_exit != 0;
    // After SIGHUP the terminal is gone: nothing to page the result to (it is saved).
    let hung_up_terminal = signal_exit == HANGUP_EXIT && std::io::stdout().is_terminal();
    if !hung_up_terminal
        && let Err(err) = print_result(&result, args.view, out)
        && !interrupted
    {
        return Err(err);
    }
    // stdout carries the result; what went wrong, and what to do about it, goes to
    // stderr (in both formats).
    let config_file = app.data_dir.join(CONFIG_FILE);
    let cancelled = result
        .error
        .as_ref()
        .is_some_and(|e| e.code == ErrorCode::DiscussionCancelled);
    if !result.success && !interrupted && !cancelled {
        let selection = wiring.service.engine().default_providers().await;
        let defaults = advice::Defaults {
            providers: selection.providers,
            simulated: selection.simulated,
        };
        let named_by = match (args.providers.is_empty(), args.participants.is_empty()) {
            (false, true) => Some("--providers"),
            (true, false) => Some("--participants"),
            (false, false) => Some("--providers/--participants"),
            (true, true) => None,
        };
        crate::output::explain(&advice::failure(
            &result,
            &wiring.providers,
            &config_file,
            named_by,
            &defaults,
        ));
    } else if result.success {
        let mut stderr = std::io::stderr().lock();
        for note in advice::notes(&result, &wiring.providers, &config_file) {
            let _ = writeln!(stderr, "{note}");
        }
    }
    Ok(if interrupted {
        if signal_exit != Exit::Interrupted as u8 {
            crate::exit_by_signal(signal_exit);
        }
        Exit::Interrupted
    } else if result.success {
        Exit::Ok
    } else {
        Exit::Failure
    })
}

/// What Ctrl-C prints on stderr.
const INTERRUPTED: &str = "interrupted: stopping the providers and saving what was said so far…";

/// Say on stderr that the discussion is being interrupted. On a terminal this goes
/// through the live board, which stops drawing for good: a redraw after it would move
/// the cursor up over the notice and repeat the block's lines below.
fn notice_interrupted(board: Option<&Mutex<LiveBoard>>, name: &str) {
    let notice = INTERRUPTED.replacen("interrupted", name, 1);
    let text = match board {
        Some(board) => board
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .interrupt(&notice),
        None => format!("\n{notice}\n"),
    };
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// Progress lines on stderr: on a terminal, one live line per call of the current
/// step, rewritten in place as calls go waiting → running → done/failed (the board is
/// returned too, for the Ctrl-C notice); otherwise one plain line per change.
fn progress_printer() -> (ProgressSink, Option<Arc<Mutex<LiveBoard>>>) {
    if !std::io::stderr().is_terminal() {
        let sink = ProgressSink::new(|event: &ProgressEvent| {
            if !matches!(event.phase, CallPhase::Waiting) {
                // Reasons quote the provider's own output: no escape sequences.
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "{}",
                    escape_controls(&event.to_string())
                );
            }
        });
        return (sink, None);
    }
    let board = Arc::new(Mutex::new(LiveBoard::default()));
    let drawing = board.clone();
    let sink = ProgressSink::new(move |event: &ProgressEvent| {
        let mut board = drawing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let text = board.update(event);
        if !text.is_empty() {
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(text.as_bytes());
            let _ = stderr.flush();
        }
    });
    (sink, Some(board))
}

/// The live block of status lines for the current step of a discussion. It returns
/// what to write rather than writing, so the drawing can be tested.
#[derive(Default)]
struct LiveBoard {
    /// (discussion id, depth, step) of the block on screen.
    key: Option<(String, u32, String)>,
    /// One line per speaker, in order of first appearance.
    lines: Vec<(String, String)>,
    /// How many lines are on screen below the block's start.
    drawn: usize,
    /// Set by Ctrl-C: nothing is drawn any more (the result, printed next, shows how
    /// every call ended).
    interrupted: bool,
}

impl LiveBoard {
    /// Leave the block as it is, put `notice` below it, and never draw again.
    fn interrupt(&mut self, notice: &str) -> String {
        self.interrupted = true;
        // The leading newline leaves the terminal's `^C` echo on a line of its own.
        format!("\n{notice}\n")
    }

    /// The block brought up to date with `event`: the cursor moved back to the block's
    /// start and every line rewritten. Empty once interrupted.
    fn update(&mut self, event: &ProgressEvent) -> String {
        if self.interrupted {
            return String::new();
        }
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
        let mut text = String::new();
        if self.drawn > 0 {
            text.push_str(&format!("\x1b[{}A", self.drawn));
        }
        for (_, line) in &self.lines {
            text.push_str(&format!("\x1b[2K{line}\n"));
        }
        self.drawn = self.lines.len();
        text
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
    // Provider ids and failure reasons come from outside: no escape sequences, and
    // one line. Cut (not `truncate`, which folds whitespace) so the columns stay
    // aligned, to the terminal's width: a line that wraps breaks the in-place redraw.
    let line = escape_controls(&format!("{prefix}{}: {who:<16} {state}", event.step))
        .replace(['\n', '\t'], " ");
    let columns = terminal_size::terminal_size_of(std::io::stderr())
        .map_or(110, |(w, _)| usize::from(w.0).saturating_sub(1))
        .clamp(20, 110);
    crate::text::cut(&line, columns)
}

/// Print a result as the one JSON document, or for people: in full (every round and
/// answer) or `--summary`, through the pager when stdout is a terminal.
fn print_result(result: &DiscussionResult, view: ViewArgs, out: Out) -> Result<(), CliError> {
    if out.json() {
        return out.print_json(result);
    }
    let text = render::render(
        result,
        render::View {
            out,
            width: crate::text::output_width(),
            summary: view.summary,
        },
    );
    crate::pager::show(&text, &PagerSettings::from_env(out, view.no_pager), out)
}

async fn history(app: &App, limit: usize, out: Out) -> Result<Exit, CliError> {
    let history = app.history();
    let items = history
        .list(limit.clamp(1, 1000), None)
        .await
        .map_err(|e| CliError::storage(&e))?;
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
                escape_controls(&d.discussion_id),
                d.started_at
                    .chars()
                    .take(19)
                    .collect::<String>()
                    .replace('T', " "),
                d.pattern.to_string(),
                d.status.to_string(),
                escape_controls(&d.providers.join(",")),
                escape_controls(&d.topic),
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

/// The id that `ax discuss show` takes for the newest saved discussion.
const LATEST: &str = "latest";

async fn show(app: &App, id: &str, view: ViewArgs, out: Out) -> Result<Exit, CliError> {
    let history = app.history();
    let failure = |e: ax_discussion_domain::history::HistoryError| CliError::storage(&e);
    // Discussion ids are UUIDs, so `latest` can only mean the newest one.
    let newest;
    let id = if id == LATEST {
        newest = history.list(1, None).await.map_err(failure)?;
        match newest.first() {
            Some(summary) => summary.discussion_id.as_str(),
            None => {
                return Err(CliError::new(
                    ErrorCode::DiscussionNotFound,
                    "no discussion has been saved yet".to_owned(),
                )
                .hint("start one: ax discuss \"your question\""));
            }
        }
    } else {
        id
    };
    let record = history.get(id).await.map_err(failure)?;
    let Some(record) = record else {
        return Err(CliError::new(
            ErrorCode::DiscussionNotFound,
            format!("discussion \"{}\" not found", escape_controls(id)),
        )
        .hint("`ax discuss history` lists saved discussions"));
    };
    if out.json() {
        out.print_json(&record.result)?;
        return Ok(Exit::Ok);
    }
    match serde_json::from_value::<DiscussionResult>(record.result.clone()) {
        Ok(result) => print_result(&result, view, out)?,
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
        // A bad duration is refused while parsing, naming the flag and the value.
        let err = crate::args::Cli::try_parse_from(["ax", "discuss", "t", "--timeout", "soon"])
            .expect_err("not a duration");
        let message = err.to_string();
        assert!(
            message.contains("--timeout") && message.contains("\"soon\" is not a duration"),
            "{message}"
        );
    }

    fn event(speaker: &str, phase: CallPhase) -> ProgressEvent {
        ProgressEvent {
            discussion_id: "d".into(),
            depth: 0,
            step: ax_discussion_domain::Step::Round(1),
            speaker: speaker.into(),
            provider: speaker.into(),
            phase,
            step_finished: 0,
            step_size: 2,
        }
    }

    /// Issue 8: after Ctrl-C the board draws nothing more — a redraw would move the
    /// cursor up over the "interrupted" notice and leave the block's lines twice.
    #[test]
    fn the_live_board_stops_drawing_once_interrupted() {
        let mut board = LiveBoard::default();
        let first = board.update(&event("a", CallPhase::Running { attempt: 1 }));
        assert!(first.contains("round 1: a") && !first.contains("\x1b[1A"));
        let second = board.update(&event("b", CallPhase::Running { attempt: 1 }));
        assert!(
            second.starts_with("\x1b[1A") && second.contains("round 1: b"),
            "redraws the block in place: {second:?}"
        );

        let notice = board.interrupt(INTERRUPTED);
        assert_eq!(notice, format!("\n{INTERRUPTED}\n"));
        let failed = CallPhase::Failed {
            reason: "cancelled".into(),
        };
        assert_eq!(board.update(&event("a", failed.clone())), "");
        assert_eq!(board.update(&event("b", failed)), "");
        let mut next = event("a", CallPhase::Waiting);
        next.step = ax_discussion_domain::Step::Synthesis;
        assert_eq!(board.update(&next), "", "not even a new step");
    }
}
