//! The user-visible error codes and the error body shared by the CLI's JSON output and
//! the MCP server (`{"error": {"code", "message", "details"?}}`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

wire_enum! {
    /// Every error code a user or MCP client can see. The `SCREAMING_SNAKE_CASE` names
    /// are the contract.
    pub enum ErrorCode {
        /// The input broke one or more rules; details list each with its path.
        InvalidInput = "INVALID_INPUT",
        /// The CLI was used wrongly: bad arguments, unreadable input, an invalid
        /// `config.toml` or limit. CLI only: an MCP client's malformed request is a
        /// JSON-RPC protocol error, so MCP never sends it — which is why it is left out
        /// of the published schemas.
        #[schemars(skip)]
        UsageError = "USAGE_ERROR",
        /// An agent with this id is already registered (REQ-1).
        AgentAlreadyExists = "AGENT_ALREADY_EXISTS",
        /// No agent has this id.
        AgentNotFound = "AGENT_NOT_FOUND",
        /// A compare-and-swap update lost: the stored revision changed.
        Conflict = "CONFLICT",
        /// Fewer providers than required are available or succeeded.
        DiscussionInsufficientProviders = "DISCUSSION_INSUFFICIENT_PROVIDERS",
        /// A provider call ran out of time.
        DiscussionProviderTimeout = "DISCUSSION_PROVIDER_TIMEOUT",
        /// Every provider failed.
        DiscussionAllProvidersFailed = "DISCUSSION_ALL_PROVIDERS_FAILED",
        /// Consensus could not be established.
        DiscussionConsensusFailed = "DISCUSSION_CONSENSUS_FAILED",
        /// The pattern is unknown.
        DiscussionInvalidPattern = "DISCUSSION_INVALID_PATTERN",
        /// Roles do not fit the pattern.
        DiscussionInvalidRoles = "DISCUSSION_INVALID_ROLES",
        /// The synthesizer failed to produce the final answer.
        DiscussionSynthesisFailed = "DISCUSSION_SYNTHESIS_FAILED",
        /// The discussion configuration is invalid.
        DiscussionInvalidConfig = "DISCUSSION_INVALID_CONFIG",
        /// A named provider is not configured.
        DiscussionProviderNotFound = "DISCUSSION_PROVIDER_NOT_FOUND",
        /// A recursive discussion went deeper than allowed.
        DiscussionMaxDepthExceeded = "DISCUSSION_MAX_DEPTH_EXCEEDED",
        /// The recursive time budget is used up.
        DiscussionBudgetExhausted = "DISCUSSION_BUDGET_EXHAUSTED",
        /// The recursive call budget is used up.
        DiscussionMaxCallsExceeded = "DISCUSSION_MAX_CALLS_EXCEEDED",
        /// The discussion was cancelled.
        DiscussionCancelled = "DISCUSSION_CANCELLED",
        /// No discussion has this id.
        DiscussionNotFound = "DISCUSSION_NOT_FOUND",
        /// The storage was held by another process past the wait limit (the busy
        /// timeout); nothing was changed and the same request may simply be retried.
        StorageBusy = "STORAGE_BUSY",
        /// The storage could not be reached (a database server that is down, refusing
        /// connections or out of reach); the request may or may not have been applied
        /// if it broke mid-write, so a retry should check first.
        StorageUnavailable = "STORAGE_UNAVAILABLE",
        /// Anything else; the message says what.
        InternalError = "INTERNAL_ERROR",
    }
}

/// The cause a storage error carries when the backend gave up waiting for another
/// process's lock (SQLite's busy timeout): it says so in words instead of the
/// backend's own (`database is locked`), and lets a domain report
/// [`ErrorCode::StorageBusy`] without knowing which backend it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the database is busy ({})", LockedFor(self.waited))]
pub struct StorageBusy {
    /// How long the operation waited (the busy timeout).
    pub waited: std::time::Duration,
}

impl StorageBusy {
    /// Whether `err` or one of its causes is a [`StorageBusy`].
    pub fn in_chain(err: &(dyn std::error::Error + 'static)) -> bool {
        let mut next = Some(err);
        while let Some(e) = next {
            if e.is::<StorageBusy>() {
                return true;
            }
            next = e.source();
        }
        false
    }
}

/// The cause a storage error carries when the backend could not reach its storage
/// (a database server down, refusing connections, out of reach, or gone mid-query):
/// lets a domain or an edge report [`ErrorCode::StorageUnavailable`] without knowing
/// which backend it runs on, as [`StorageBusy`] does for a held lock. `target` names
/// where the storage was looked for (`user@host:port/db`) and never holds a secret.
#[derive(Debug, thiserror::Error)]
#[error("database unreachable ({target})")]
pub struct StorageUnavailable {
    /// Where the storage was looked for, without credentials.
    pub target: String,
    /// The backend's own failure (connection refused, timed out, closed).
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StorageUnavailable {
    /// Whether `err` or one of its causes is a [`StorageUnavailable`].
    pub fn in_chain(err: &(dyn std::error::Error + 'static)) -> bool {
        let mut next = Some(err);
        while let Some(e) = next {
            if e.is::<StorageUnavailable>() {
                return true;
            }
            next = e.source();
        }
        false
    }
}

/// `locked by another process for more than 10 s` (or `250 ms` under a second): how
/// a busy storage error words the wait, wherever it names the file too.
pub struct LockedFor(pub std::time::Duration);

impl std::fmt::Display for LockedFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.0;
        write!(f, "locked by another process for more than ")?;
        if d >= std::time::Duration::from_secs(1) && d.subsec_millis() == 0 {
            write!(f, "{} s", d.as_secs())
        } else if d >= std::time::Duration::from_secs(1) {
            write!(f, "{:.1} s", d.as_secs_f64())
        } else {
            write!(f, "{} ms", d.as_millis())
        }
    }
}

/// The body of an error as the CLI (`--format json`) and MCP tools report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// What kind of error.
    pub code: ErrorCode,
    /// One sentence for people.
    pub message: String,
    /// Structured details, e.g. `{"issues": [...]}` for `INVALID_INPUT` or `{"agentId": ...}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// `{"error": ErrorBody}`, the envelope every failed tool call and JSON CLI error uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ErrorBody,
}

/// An error and its causes on one line, `outer: inner: innermost`, skipping a cause
/// whose text the line already holds (many errors repeat their source's message).
/// Used wherever an error reaches a person as one sentence: CLI messages, MCP error
/// bodies, provider failure messages.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Layer(&'static str, #[source] Option<Box<Layer>>);

    #[test]
    fn a_chain_reads_outer_to_inner_without_repeats() {
        let inner = Layer("disk I/O error", None);
        let middle = Layer("opening database: disk I/O error", Some(Box::new(inner)));
        let outer = Layer("cannot start", Some(Box::new(middle)));
        assert_eq!(
            error_chain(&outer),
            "cannot start: opening database: disk I/O error"
        );
    }

    #[test]
    fn wire_names_match_as_str() {
        for code in [
            ErrorCode::InvalidInput,
            ErrorCode::AgentAlreadyExists,
            ErrorCode::DiscussionMaxCallsExceeded,
            ErrorCode::StorageBusy,
            ErrorCode::StorageUnavailable,
            ErrorCode::InternalError,
        ] {
            assert_eq!(
                serde_json::to_value(code).expect("serializes"),
                serde_json::Value::String(code.as_str().into())
            );
        }
    }
}
