//! What `ax providers` and `ax doctor` report about providers, as it leaves the
//! process (`--format json`): one type per shape, like the registry's and the
//! discussions' answers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One configured provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderStatus {
    /// The id used in `--providers` and configurations.
    pub id: String,
    /// `command`, `openai` or `mock`.
    pub kind: String,
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
