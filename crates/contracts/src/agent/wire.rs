//! The registry's answers as they leave the process: one type per shape, used by the
//! CLI's `--format json` and by the MCP tools alike, so the two cannot drift apart
//! (an absent optional field is left out in both, never written as `null`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::AgentRecord;
use crate::validation::Issue;

/// One agent in a listing: what a person or client needs to pick one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentSummary {
    /// The agent id.
    pub agent_id: String,
    /// Name shown to people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// What the agent is for.
    pub description: String,
    /// Its team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Whether it can be recommended and take part.
    pub enabled: bool,
    /// Its capabilities (empty when it declares none).
    pub capabilities: Vec<String>,
}

impl From<&AgentRecord> for AgentSummary {
    fn from(record: &AgentRecord) -> Self {
        let p = &record.profile;
        Self {
            agent_id: p.agent_id.clone(),
            display_name: p.display_name.clone(),
            description: p.description.clone(),
            team: p.team.clone(),
            enabled: p.enabled,
            capabilities: p.capabilities.clone().unwrap_or_default(),
        }
    }
}

/// One page of a listing. MCP pages with an opaque `nextCursor`; the CLI pages with
/// `--offset`/`--limit` and reports `offset`, `limit` and `nextOffset`. Each fills its
/// own fields; the rest are left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentPage {
    /// The agents of this page, ordered by `agentId`.
    pub agents: Vec<AgentSummary>,
    /// How many agents match the filter in all.
    pub total: u64,
    /// Pass as `cursor` for the next page; absent on the last page (MCP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Agents skipped before this page (CLI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// The page size asked for (CLI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `--offset` of the next page; absent on the last page (CLI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

/// A registration that succeeded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    /// Always true (a failed registration is an error).
    pub registered: bool,
    /// The new agent's id.
    pub agent_id: String,
    /// When it was registered (RFC 3339, UTC).
    pub created_at: String,
}

impl From<&AgentRecord> for Registered {
    fn from(record: &AgentRecord) -> Self {
        Self {
            registered: true,
            agent_id: record.profile.agent_id.clone(),
            created_at: record.created_at.clone(),
        }
    }
}

/// The answer to a removal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Removed {
    /// False when there was no such agent (not an error over MCP; exit 3 in the CLI).
    pub removed: bool,
    /// The id asked for.
    pub agent_id: String,
}

/// An export written to a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Exported {
    /// How many agents were written.
    pub exported: usize,
    /// The file written.
    pub path: PathBuf,
}

/// One scored agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScoredAgent {
    /// The agent.
    pub agent_id: String,
    /// Score in 0..1.
    pub confidence: f64,
    /// Which signals matched, for people.
    pub reason: String,
}

/// The answer to `recommend`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    /// The best agent; `null` only when nothing scored and the `standard` agent is
    /// missing, disabled or excluded.
    pub recommended: Option<String>,
    /// Its confidence, 0–1.
    pub confidence: f64,
    /// Why it was chosen.
    pub reason: String,
    /// The runners-up, best first.
    pub alternatives: Vec<ScoredAgent>,
}

/// The capability index. Maps are ordered by key so output is stable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityIndex {
    /// Every capability, sorted.
    pub capabilities: Vec<String>,
    /// Capability → agent ids having it, sorted.
    pub agents_by_capability: BTreeMap<String, Vec<String>>,
    /// Agent id → its capabilities, in profile order.
    pub capabilities_by_agent: BTreeMap<String, Vec<String>>,
    /// Agent id → `selectionMetadata.agentCategory`, for agents that declare one.
    pub categories_by_agent: BTreeMap<String, String>,
}

/// A profile that could not be imported because it is invalid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvalidImport {
    /// Where it came from (a file, `agents[3]`, ...).
    pub source: String,
    /// Its id, when it had a readable one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// Every rule it broke.
    pub issues: Vec<Issue>,
}

/// The outcome of an import (`ax agent import --format json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// Newly registered ids.
    pub imported: Vec<String>,
    /// Ids that overwrote a registered agent (`--on-conflict replace`).
    pub replaced: Vec<String>,
    /// Ids already registered and kept (`--on-conflict skip`).
    pub skipped: Vec<String>,
    /// Profiles that broke the contract.
    pub invalid: Vec<InvalidImport>,
    /// With `--on-conflict fail`: the id that stopped the import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<String>,
    /// Files of a directory that were not read: a symbolic link out of the
    /// directory, a loop or dangling link, a FIFO, a socket, a device, a directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_files: Vec<SkippedFile>,
    /// `true` when nothing was written: the import is all or nothing (the default)
    /// and a profile was invalid, a file unreadable, or `--on-conflict fail` met a
    /// registered id. The lists above then say what was found, not what was written.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub aborted: bool,
}

/// A file an import did not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkippedFile {
    /// The file as found in the directory.
    pub path: String,
    /// Why it was not read, e.g. "a symbolic link to a file outside the directory".
    pub reason: String,
}
