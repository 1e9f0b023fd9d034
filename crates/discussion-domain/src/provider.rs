//! The `ProviderExecutor` port: run one prompt on one provider. Adapters
//! (`ax-adapter-providers`) implement it for command-line AI tools, OpenAI-compatible
//! HTTP servers and a deterministic mock.
//!
//! The executor in this crate calls [`ProviderExecutor::execute`] only while it holds
//! a permit of the process-wide limiter (INV-DISC-RATE-001), wraps the call in the
//! request's timeout, and cancels a call by dropping its future. Implementations must
//! therefore stop all work when the future is dropped (a command provider kills its
//! whole process group).

use std::time::Duration;

use async_trait::async_trait;
use ax_contracts::discussion::Role;
use serde::Serialize;

/// One prompt for one provider.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderRequest {
    /// Configured provider id, e.g. `claude`, `local`, `sim`.
    pub provider_id: String,
    /// The user prompt.
    pub prompt: String,
    /// The answer the engine expects, as data. Providers backed by a model ignore it
    /// (the prompt asks for the same in words); the mock provider answers by it, so
    /// no wording of a prompt decides what the mock answers.
    pub expects: Expects,
    /// System prompt (an agent's), when the provider supports one; otherwise adapters
    /// prepend it to the prompt.
    pub system_prompt: Option<String>,
    /// Sampling temperature, when the provider supports it.
    pub temperature: Option<f64>,
    /// Output token limit, when the provider supports it.
    pub max_tokens: Option<u32>,
    /// How long the call may run, counted from when it starts running.
    pub timeout: Duration,
}

/// What answer a call asks for. Set by the prompt builder that words the request
/// ([`crate::prompts`]), so the words and the data cannot disagree; read by the mock
/// provider and by tests' fake providers instead of searching the prompt's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expects {
    /// Free text: `turn` says which turn of the pattern it is; `role` is the
    /// speaker's role, if it has one (a proponent argues for, an opponent against).
    Text {
        /// The pattern's turn.
        turn: TextTurn,
        /// The speaker's role.
        role: Option<Role>,
    },
    /// `VOTE:`, `CONFIDENCE:` and `REASON:` lines.
    Vote {
        /// Whether the previous voting round's votes are quoted (the voter may keep
        /// or change its vote).
        after_votes: bool,
    },
    /// `POSITION: AGREE` or `DISAGREE` on a drafted conclusion, and `REASON:`.
    Position,
    /// The synthesis sections (`AGREEMENTS:`, `DISAGREEMENTS:`, `INSIGHTS:`,
    /// `CONCLUSION:`).
    Synthesis {
        /// Whether the writer judges between the sides (a moderator or a debate's
        /// judge) rather than summarises.
        judging: bool,
    },
}

impl Default for Expects {
    /// An independent first answer, e.g. `ax providers check`'s probe.
    fn default() -> Self {
        Self::Text {
            turn: TextTurn::Opening,
            role: None,
        }
    }
}

/// Which free-text turn of a pattern a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextTurn {
    /// An answer without having read the others (a first round, a first speaker).
    Opening,
    /// An answer to what the others said (later rounds of `synthesis` and
    /// `round-robin`).
    FollowUp,
    /// A debate's opening argument or rebuttal for the speaker's side.
    Argument,
    /// `critique`: the proposer's first proposal.
    Proposal,
    /// `critique`: a reviewer's critique of the proposal.
    Critique,
    /// `critique`: the proposer's revision after the critiques.
    Revision,
}

/// A provider's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderResponse {
    /// The answer text.
    pub content: String,
    /// Prompt tokens, when the provider reports them.
    pub input_tokens: Option<u64>,
    /// Answer tokens, when the provider reports them.
    pub output_tokens: Option<u64>,
    /// Wall time of the call.
    pub duration: Duration,
    /// True when the answer was produced by the mock provider, not a model.
    pub simulated: bool,
}

/// Why a provider call failed, and what kind of provider it is: their names are
/// user-visible, so they are declared with the other wire names in `contracts`.
pub use ax_contracts::provider::{ProviderErrorKind, ProviderKind};

/// A classified provider failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{provider_id}: {message}")]
pub struct ProviderError {
    /// The provider that failed.
    pub provider_id: String,
    /// The class of failure.
    pub kind: ProviderErrorKind,
    /// What happened, for people (includes a short stderr excerpt where useful).
    pub message: String,
    /// Whether trying again may succeed (rate limit, overload, network).
    pub retryable: bool,
    /// How long the provider asked us to wait before trying again.
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    /// A call that ran out of time: kind `timeout`, not retryable, worded the one way
    /// every timeout is (`no answer within 5s`, then `; <detail>` when the adapter
    /// knows more, e.g. what the CLI said last). Adapters that stop a call at its limit
    /// and the engine's own deadline ([`within_time_limit`]) both build it here.
    pub fn timed_out(
        provider_id: impl Into<String>,
        limit: Duration,
        detail: Option<&str>,
    ) -> Self {
        let mut message = format!("no answer within {}", format_duration(limit));
        if let Some(detail) = detail.filter(|d| !d.is_empty()) {
            message.push_str("; ");
            message.push_str(detail);
        }
        Self::new(provider_id, ProviderErrorKind::Timeout, message)
    }

    /// A failure of `kind`; retryable exactly for rate limits, server and network errors
    /// (INV-PROV-ERR-001).
    pub fn new(
        provider_id: impl Into<String>,
        kind: ProviderErrorKind,
        message: impl Into<String>,
    ) -> Self {
        let retryable = matches!(
            kind,
            ProviderErrorKind::RateLimit | ProviderErrorKind::Server | ProviderErrorKind::Network
        );
        Self {
            provider_id: provider_id.into(),
            kind,
            message: message.into(),
            retryable,
            retry_after: None,
        }
    }

    /// The same failure with a server-requested delay before retrying.
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }
}

/// What the executor knows about a configured provider.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderInfo {
    /// Provider id used in configurations (`claude`, `local`, ...).
    pub id: String,
    /// `command`, `openai` or `mock`.
    pub kind: ProviderKind,
    /// One line for `ax providers list`, e.g. the command or base URL.
    pub description: String,
    /// True for the mock provider: its answers are simulated.
    pub simulated: bool,
    /// Optional cap on this provider's concurrent calls, below the process-wide limit.
    pub max_concurrent: Option<usize>,
    /// The provider's configured default timeout, if any.
    #[serde(skip)]
    pub default_timeout: Option<Duration>,
}

/// Runs prompts on providers.
#[async_trait]
pub trait ProviderExecutor: Send + Sync {
    /// Run one prompt. Must return within `request.timeout` (as
    /// [`ProviderErrorKind::Timeout`], INV-PROV-TIME-001), must stop all work —
    /// including child processes — when the returned future is dropped
    /// (INV-PROV-KILL-001), and must report a failure as its class
    /// (INV-PROV-ERR-001). Every provider kind proves this with the kit in
    /// [`crate::conformance::provider`] (feature `conformance`).
    async fn execute(&self, request: ProviderRequest) -> Result<ProviderResponse, ProviderError>;

    /// Whether the provider can be called now (e.g. its executable is on `PATH`).
    async fn is_available(&self, provider_id: &str) -> bool;

    /// Every configured provider, in a stable order.
    fn providers(&self) -> Vec<ProviderInfo>;

    /// Why `provider_id` cannot be called now, in words a person can act on (which
    /// program is missing, which API key variable is unset, which server is not
    /// listening); `None` when it can be, or when the adapter cannot tell. Reported in
    /// a discussion's `failedProviders` instead of a generic "not available".
    fn explain_unavailable(&self, _provider_id: &str) -> Option<String> {
        None
    }
}

/// One provider call held to its time limit — the one place a call's limit is enforced
/// and its timeout worded (INV-PROV-TIME-001 on the engine's side): discussions and
/// `ax providers check` both call through here. A panicking adapter becomes an
/// `unknown` failure instead of taking the discussion (or an MCP server) down.
pub async fn within_time_limit(
    executor: &dyn ProviderExecutor,
    request: ProviderRequest,
) -> Result<ProviderResponse, ProviderError> {
    use futures::FutureExt;
    let provider = request.provider_id.clone();
    let limit = request.timeout;
    let execute = std::panic::AssertUnwindSafe(executor.execute(request)).catch_unwind();
    match tokio::time::timeout(limit, execute).await {
        Err(_) => Err(ProviderError::timed_out(provider, limit, None)),
        Ok(Err(_panic)) => Err(ProviderError::new(
            provider,
            ProviderErrorKind::Unknown,
            "the provider adapter panicked",
        )),
        Ok(Ok(outcome)) => outcome,
    }
}

/// `250ms`, `1.5s`, `90s` → `1m30s`, `2h`: how every message and listing words a
/// duration, so a limit reads the same wherever it is shown.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1000 {
        return format!("{millis}ms");
    }
    if !millis.is_multiple_of(1000) && millis < 60_000 {
        return format!("{:.1}s", duration.as_secs_f64());
    }
    let secs = duration.as_secs();
    let (hours, minutes, seconds) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    if seconds > 0 || out.is_empty() {
        out.push_str(&format!("{seconds}s"));
    }
    out
}
