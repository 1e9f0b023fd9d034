//! Command providers: AI command-line tools (claude, gemini, codex, grok, opencode,
//! ollama, or any script) run as child processes with an argument list — never through
//! a shell, so nothing in a prompt is ever interpreted as shell syntax.
//!
//! One call: resolve the program on `PATH` (missing → `not_found`), spawn it as the
//! leader of its own process group with `NO_COLOR=1`, write the prompt to stdin (or
//! pass it as the last argument), read stdout up to a cap and the tail of stderr, wait
//! for exit — all within the request's timeout — then classify: non-zero exit →
//! `rate_limit` / `auth` / `server` / `network` from the words on stderr, else
//! `unknown`; unusable output → `invalid_output`. Timeout, cancellation and drop kill
//! the whole process group (see [`process`]).

pub mod executable;
pub mod identity;
pub mod output;
pub mod process;
pub mod spec;

use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ax_discussion_domain::provider::{
    ProviderError, ProviderErrorKind, ProviderRequest, ProviderResponse,
};

use crate::classify::{classify_message, excerpt, retry_after_hint, tail_excerpt};
use crate::duration::format_duration;
use executable::find_executable;
use output::{ParseFailure, api_error_in, parse_output};
use process::{GroupChild, Limits, ProcessOutput, RunError, Seen};
use spec::{CommandSpec, PromptMode, STDERR_TAIL_BYTES};

pub use spec::CommandKind;

/// How many characters of stderr an error message carries.
const MESSAGE_EXCERPT_CHARS: usize = 400;

/// Longest time a call stops before its timeout to report why it timed out.
const TIMEOUT_MARGIN: Duration = Duration::from_secs(1);

/// Variables that force colour on in common CLI toolkits and would defeat `NO_COLOR`.
const COLOR_FORCING_VARS: &[&str] = &["FORCE_COLOR", "CLICOLOR_FORCE"];

#[async_trait::async_trait]
impl crate::kind::Live for CommandProvider {
    async fn execute(&self, request: &ProviderRequest) -> Result<ProviderResponse, ProviderError> {
        CommandProvider::execute(self, request).await
    }

    fn why_unavailable(&self) -> Option<String> {
        self.unavailable_reason()
    }

    /// Only for a program that is installed: a missing one is plainly unavailable.
    fn unusable_reason(&self) -> Option<String> {
        find_executable(self.spec.program())?;
        self.unavailable_reason()
    }
}

/// A provider backed by a command-line program.
#[derive(Debug, Clone)]
pub struct CommandProvider {
    id: String,
    spec: CommandSpec,
}

impl CommandProvider {
    /// A provider named `id` running `spec`.
    pub fn new(id: impl Into<String>, spec: CommandSpec) -> Self {
        Self {
            id: id.into(),
            spec,
        }
    }

    /// The provider id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What it runs.
    pub fn spec(&self) -> &CommandSpec {
        &self.spec
    }

    /// Whether the program can be found (on `PATH`, or at its path) and, for a
    /// preset, is the CLI the preset targets.
    pub fn is_available(&self) -> bool {
        self.unavailable_reason().is_none()
    }

    /// Why the provider cannot be called now: its program is missing, or (for a
    /// preset) a program of that name is another CLI (see [`identity`]). Cached per
    /// process after the first look.
    pub fn unavailable_reason(&self) -> Option<String> {
        let program = self.spec.program();
        let Some(path) = find_executable(program) else {
            return Some(format!("`{program}` is not installed or not on PATH"));
        };
        self.identity_problem(&path)
    }

    fn identity_problem(&self, path: &Path) -> Option<String> {
        let identity = self.spec.identity.as_ref()?;
        if !identity.applies_to(self.spec.program()) {
            return None;
        }
        identity::check(identity, path).err()
    }

    /// Runs one prompt. Returns within `request.timeout` (INV-PROV-TIME-001); dropping
    /// the future kills the process group (INV-PROV-KILL-001).
    pub async fn execute(
        &self,
        request: &ProviderRequest,
    ) -> Result<ProviderResponse, ProviderError> {
        let started = Instant::now();
        let program = self.spec.program();
        let Some(path) = find_executable(program) else {
            return Err(self.error(
                ProviderErrorKind::NotFound,
                format!("`{program}` is not installed or not on PATH"),
            ));
        };
        if self.spec.identity.is_some() {
            // The first look may run `--help`; keep it off the async workers.
            let this = self.clone();
            let exe = path.clone();
            let problem = tokio::task::spawn_blocking(move || this.identity_problem(&exe))
                .await
                .unwrap_or(None);
            if let Some(why) = problem {
                return Err(self.error(ProviderErrorKind::NotFound, why));
            }
        }
        let (mut command, stdin_bytes) = self.build_command(path.into_os_string(), request);
        let mut child = GroupChild::spawn(&mut command, stdin_bytes.is_some())
            .map_err(|e| self.spawn_error(program, &e))?;
        tracing::debug!(provider = %self.id, pid = child.pid(), "provider call running");
        let limits = Limits {
            max_stdout: self.spec.max_output_bytes,
            stderr_tail: STDERR_TAIL_BYTES,
        };
        let seen = Arc::new(Seen::default());
        // Stop a moment before the caller's own deadline (the engine times the call
        // too), so that what the CLI said before the timeout can still be reported.
        let deadline = request
            .timeout
            .saturating_sub((request.timeout / 20).min(TIMEOUT_MARGIN));
        let outcome = tokio::time::timeout(
            deadline,
            child.communicate(stdin_bytes, limits, seen.clone()),
        )
        .await;
        let Ok(outcome) = outcome else {
            child.kill_and_reap().await;
            return Err(self.timeout_error(request.timeout, &seen));
        };
        match outcome {
            Ok(output) => self.interpret(output, started.elapsed()),
            Err(RunError::StdoutTooLarge { limit, stderr_tail }) => {
                let mut message = format!(
                    "printed more than {} on stdout (the output limit); the process group was killed",
                    format_bytes(limit)
                );
                let stderr = String::from_utf8_lossy(&stderr_tail);
                if !stderr.trim().is_empty() {
                    message.push_str(&format!(
                        ": {}",
                        tail_excerpt(&stderr, MESSAGE_EXCERPT_CHARS)
                    ));
                }
                Err(self.error(ProviderErrorKind::InvalidOutput, message))
            }
            Err(RunError::Io(e)) => Err(self.error(
                ProviderErrorKind::Unknown,
                format!("reading the provider's output failed: {e}"),
            )),
        }
    }

    /// The command line and the bytes for stdin (`None` when the prompt is an argument).
    fn build_command(
        &self,
        program: OsString,
        request: &ProviderRequest,
    ) -> (tokio::process::Command, Option<Vec<u8>>) {
        let mut command = tokio::process::Command::new(program);
        command
            .args(self.spec.command.iter().skip(1))
            .args(&self.spec.args);
        let mut prompt = request.prompt.clone();
        if let Some(system) = request
            .system_prompt
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            match &self.spec.system_prompt_flag {
                Some(flag) => {
                    command.arg(flag).arg(system);
                }
                None => prompt = format!("{system}\n\n{prompt}"),
            }
        }
        command.env("NO_COLOR", "1");
        for var in COLOR_FORCING_VARS {
            command.env_remove(var);
        }
        command.envs(&self.spec.env);
        match self.spec.prompt {
            PromptMode::Stdin => (command, Some(prompt.into_bytes())),
            PromptMode::Arg => {
                if let Some(flag) = &self.spec.prompt_flag {
                    command.arg(flag);
                }
                command.arg(prompt);
                (command, None)
            }
        }
    }

    fn spawn_error(&self, program: &str, error: &io::Error) -> ProviderError {
        match error.kind() {
            io::ErrorKind::NotFound => self.error(
                ProviderErrorKind::NotFound,
                format!("`{program}` is not installed or not on PATH"),
            ),
            io::ErrorKind::PermissionDenied => self.error(
                ProviderErrorKind::NotFound,
                format!("`{program}` cannot be executed: {error}"),
            ),
            io::ErrorKind::ArgumentListTooLong => self.error(
                ProviderErrorKind::Unknown,
                format!("the prompt is too long to pass to `{program}` as an argument; configure prompt = \"stdin\""),
            ),
            _ => self.error(ProviderErrorKind::Unknown, format!("could not start `{program}`: {error}")),
        }
    }

    /// Turns a finished process into an answer or a classified error.
    fn interpret(
        &self,
        output: ProcessOutput,
        elapsed: Duration,
    ) -> Result<ProviderResponse, ProviderError> {
        self.interpret_output(&output, elapsed)
            .map_err(|e| self.without_stacked_retries(e, &output))
    }

    /// Retries must not stack: when the CLI already retried a failure on its own (it
    /// cannot be told not to, or its output shows it did), the engine does not retry
    /// it again — the failure is reported as what it is, once.
    fn without_stacked_retries(
        &self,
        mut error: ProviderError,
        output: &ProcessOutput,
    ) -> ProviderError {
        if !error.retryable {
            return error;
        }
        let retried = self.spec.retries_itself
            || shows_own_retries(&String::from_utf8_lossy(&output.stdout))
            || shows_own_retries(&String::from_utf8_lossy(&output.stderr_tail));
        if retried {
            error.retryable = false;
            error.retry_after = None;
            error
                .message
                .push_str(" (the CLI already retried on its own)");
        }
        error
    }

    fn interpret_output(
        &self,
        output: &ProcessOutput,
        elapsed: Duration,
    ) -> Result<ProviderResponse, ProviderError> {
        let stderr = String::from_utf8_lossy(&output.stderr_tail);
        if !output.status.success() {
            return Err(self.exit_error(output, &stderr));
        }
        match parse_output(self.spec.output, &output.stdout) {
            Ok(parsed) => Ok(ProviderResponse {
                content: parsed.content,
                input_tokens: parsed.input_tokens,
                output_tokens: parsed.output_tokens,
                duration: elapsed,
                simulated: false,
            }),
            Err(ParseFailure::ProviderError(message)) => Err(self.classified(
                &message,
                ProviderErrorKind::Unknown,
                format!(
                    "reported an error: {}",
                    excerpt(&message, MESSAGE_EXCERPT_CHARS)
                ),
            )),
            Err(failure) => Err(self.unusable_output(failure, &stderr)),
        }
    }

    /// Exit 0 without a usable answer: `invalid_output`, unless stderr says why (some
    /// CLIs exit 0 after printing a rate-limit or login error there).
    fn unusable_output(&self, failure: ParseFailure, stderr: &str) -> ProviderError {
        if let Some(kind) = classify_message(stderr) {
            return self.classified(
                stderr,
                kind,
                format!("no answer: {}", tail_excerpt(stderr, MESSAGE_EXCERPT_CHARS)),
            );
        }
        let mut message = match failure {
            ParseFailure::Empty => "printed nothing on stdout".to_owned(),
            ParseFailure::Unparsable(why) => format!(
                "printed output that is not valid {}: {why}",
                self.spec.output
            ),
            ParseFailure::NoAnswer(why) => format!("printed no answer: {why}"),
            ParseFailure::ProviderError(why) => format!(
                "reported an error: {}",
                excerpt(&why, MESSAGE_EXCERPT_CHARS)
            ),
        };
        if !stderr.trim().is_empty() {
            message.push_str(&format!(
                " (stderr: {})",
                tail_excerpt(stderr, MESSAGE_EXCERPT_CHARS)
            ));
        }
        self.error(ProviderErrorKind::InvalidOutput, message)
    }

    /// A call that ran out of time. A CLI still retrying a rate limit or an overload on
    /// its own when the time ran out has already spent the whole call on retries: that
    /// is reported as the rate limit / server error it is (with the API's message), and
    /// not retried again, so retries never stack.
    fn timeout_error(&self, timeout: Duration, seen: &Seen) -> ProviderError {
        let within = format_duration(timeout);
        let stdout = String::from_utf8_lossy(&seen.stdout()).into_owned();
        let stderr = String::from_utf8_lossy(&seen.stderr()).into_owned();
        let structured = match parse_output(self.spec.output, stdout.as_bytes()) {
            Err(ParseFailure::ProviderError(message)) => Some(message),
            _ => None,
        };
        let api = api_error_in(&stderr).or_else(|| api_error_in(&stdout));
        let evidence = format!(
            "{}\n{}\n{stderr}\n{stdout}",
            structured.as_deref().unwrap_or_default(),
            api.as_deref().unwrap_or_default()
        );
        match classify_message(&evidence) {
            Some(kind @ (ProviderErrorKind::RateLimit | ProviderErrorKind::Server)) => {
                let what = api
                    .or(structured)
                    .unwrap_or_else(|| tail_excerpt(&stderr, MESSAGE_EXCERPT_CHARS));
                let mut error = self.error(
                    kind,
                    format!(
                        "no answer within {within}; the CLI was still retrying on its own: {}; the process group was killed",
                        excerpt(&what, MESSAGE_EXCERPT_CHARS)
                    ),
                );
                error.retryable = false;
                error
            }
            _ => ProviderError::timed_out(
                self.id.clone(),
                timeout,
                Some("the process group was killed"),
            ),
        }
    }

    fn exit_error(&self, output: &ProcessOutput, stderr: &str) -> ProviderError {
        use std::os::unix::process::ExitStatusExt;
        let status = match (output.status.code(), output.status.signal()) {
            (Some(code), _) => format!("exited with status {code}"),
            (None, Some(signal)) => format!("was killed by signal {signal}"),
            (None, None) => "failed".to_owned(),
        };
        // A CLI that printed its error in its structured output (claude's `is_error`
        // result, codex's `turn.failed`, opencode's `error` event) said what went
        // wrong there; stderr then holds only warnings and stack traces. Likewise an
        // API error document on stderr (gemini prints it after a stack trace).
        let reported = match parse_output(self.spec.output, &output.stdout) {
            Err(ParseFailure::ProviderError(message)) => Some(message),
            _ => None,
        }
        .or_else(|| api_error_in(stderr));
        if let Some(message) = reported {
            let stdout = String::from_utf8_lossy(&output.stdout);
            let evidence = if classify_message(&message).is_some() {
                message.clone()
            } else {
                format!("{message}\n{stderr}\n{}", tail_excerpt(&stdout, 4096))
            };
            return self.classified(
                &evidence,
                ProviderErrorKind::Unknown,
                format!("{status}: {}", excerpt(&message, MESSAGE_EXCERPT_CHARS)),
            );
        }
        // The error may be on stderr, or in a structured error on stdout.
        let stdout = String::from_utf8_lossy(&output.stdout);
        let detail = if !stderr.trim().is_empty() {
            tail_excerpt(stderr, MESSAGE_EXCERPT_CHARS)
        } else {
            tail_excerpt(&stdout, MESSAGE_EXCERPT_CHARS)
        };
        let evidence = format!("{stderr}\n{}", tail_excerpt(&stdout, 4096));
        let message = if detail.is_empty() {
            status
        } else {
            format!("{status}: {detail}")
        };
        self.classified(&evidence, ProviderErrorKind::Unknown, message)
    }

    /// An error whose kind is read from `evidence` (falling back to `default`), with a
    /// retry-after hint when the evidence is a rate limit or overload.
    fn classified(
        &self,
        evidence: &str,
        default: ProviderErrorKind,
        message: String,
    ) -> ProviderError {
        let kind = classify_message(evidence).unwrap_or(default);
        let mut error = self.error(kind, message);
        if error.retryable
            && let Some(delay) = retry_after_hint(evidence)
        {
            error = error.with_retry_after(delay);
        }
        error
    }

    fn error(&self, kind: ProviderErrorKind, message: impl Into<String>) -> ProviderError {
        let error = ProviderError::new(self.id.clone(), kind, message);
        tracing::debug!(provider = %self.id, kind = kind.as_str(), message = %error.message, "provider call failed");
        error
    }
}

/// Whether a CLI's output shows it retried a failed request by itself: codex's
/// `Reconnecting... 2/5` events, gemini's `Retrying with backoff` lines.
fn shows_own_retries(text: &str) -> bool {
    text.contains("Reconnecting... ") || text.contains("Retrying with backoff")
}

/// `4 MiB`, `512 KiB`, `100 B`.
pub fn format_bytes(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} B")
    }
}
