//! [`AgentProfile`]: the typed agent profile. JSON names are camelCase and are the
//! contract; profiles written for the reference tool (AutomatosX v13) load unchanged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

fn default_true() -> bool {
    true
}

/// A named profile for an AI persona. Optional fields that were absent stay absent on
/// output, so an import/export round trip returns what was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentProfile {
    /// Unique, case-sensitive, immutable id: 1–50 chars, `^[a-zA-Z][a-zA-Z0-9_-]*$`.
    pub agent_id: String,
    /// What the agent is for: 1–2000 chars.
    pub description: String,
    /// Name shown to people (≤100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Role (≤200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Team (≤100); filterable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// System prompt given to the provider (≤10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Semantic version of the profile, `MAJOR.MINOR.PATCH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Whether the agent can be recommended and take part (default `true`).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Remaining optional fields, validated by the profile validator and kept verbatim.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl AgentProfile {
    /// `tags`, or nothing.
    pub fn tags(&self) -> Vec<&str> {
        self.str_list("tags")
    }

    /// `capabilities`, or nothing.
    pub fn capabilities(&self) -> Vec<&str> {
        self.str_list("capabilities")
    }

    fn str_list(&self, key: &str) -> Vec<&str> {
        self.rest
            .get(key)
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}
