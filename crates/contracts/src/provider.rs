//! What `ax providers` and `ax doctor` report about providers, as it leaves the
//! process (`--format json`): one type per shape, like the registry's and the
//! discussions' answers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

wire_enum! {
    /// The kinds of provider: the `kind` values of `config.toml` and of
    /// `ax providers list`.
    pub enum ProviderKind {
        /// A command-line program.
        Command = "command",
        /// An OpenAI-compatible HTTP server.
        OpenAi = "openai",
        /// The simulated provider.
        Mock = "mock",
    }
}

wire_enum! {
    /// The class of a provider failure, as results (`failedProviders[].code`) and
    /// `config.toml` (a mock's `fail_kind`) name it.
    pub enum ProviderErrorKind {
        /// The call ran out of time.
        Timeout = "timeout",
        /// The provider refused because of rate limits (HTTP 429 and the like).
        RateLimit = "rate_limit",
        /// Credentials missing or rejected (HTTP 401/403, "not logged in").
        Auth = "auth",
        /// The provider could not be reached.
        Network = "network",
        /// The provider failed on its side (HTTP 5xx, overload).
        Server = "server",
        /// The provider answered with something unusable (garbage, too large, empty).
        InvalidOutput = "invalid_output",
        /// The provider is not configured or its executable is not installed.
        NotFound = "not_found",
        /// The call was cancelled.
        Cancelled = "cancelled",
        /// Anything else (e.g. a crash with a non-zero exit).
        Unknown = "unknown",
    }
}

/// One configured provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderStatus {
    /// The id used in `--providers` and configurations.
    pub id: String,
    /// `command`, `openai` or `mock`.
    pub kind: ProviderKind,
    /// Whether a discussion can call it now.
    pub available: bool,
    /// Why an installed program is still not usable (e.g. it is another program of
    /// the same name than the one the preset targets); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable_reason: Option<String>,
    /// True for the mock providers: their answers are simulated.
    pub simulated: bool,
    /// Its own cap on concurrent calls, below the process-wide limit.
    pub max_concurrent: Option<usize>,
    /// What it runs: the command line or the base URL.
    pub description: String,
}

/// The process-wide limit on provider calls in flight and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitInForce {
    /// The limit.
    pub value: usize,
    /// `--max-concurrent`, `AX_MAX_CONCURRENT_PROVIDER_CALLS`, `config.toml` or `default`.
    pub source: String,
}

/// Who a discussion without `--providers` would ask.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefaultParticipants {
    /// Their ids.
    pub providers: Vec<String>,
    /// True when they are the mock providers.
    pub simulated: bool,
    /// Why these, for people.
    pub reason: String,
}

/// `ax providers list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderList {
    /// Every configured provider, in a stable order.
    pub providers: Vec<ProviderStatus>,
    /// The limit in force.
    pub max_concurrent_provider_calls: LimitInForce,
    /// Who a discussion without `--providers` would ask.
    pub default_participants: DefaultParticipants,
}

/// One provider's answer to `ax providers check`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderCheck {
    /// The provider asked.
    pub provider: String,
    /// Whether it answered.
    pub ok: bool,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// Whether the answer was simulated (present when it answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulated: Option<bool>,
    /// `kind: message` of its failure (present when it did not answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `ax providers check`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderChecks {
    /// One entry per provider asked.
    pub checks: Vec<ProviderCheck>,
}
