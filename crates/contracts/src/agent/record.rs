//! [`AgentRecord`]: a profile as the registry holds it, with the fields the registry
//! owns (`createdAt`, `updatedAt`, `revision`).

use serde::{Deserialize, Serialize};

use super::AgentProfile;

/// A stored agent: the profile plus registry-owned fields. Serialises flat, so
/// `agent get` shows one object: the profile's fields, then `createdAt`, `updatedAt`
/// and `revision`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentRecord {
    /// The validated profile.
    #[serde(flatten)]
    pub profile: AgentProfile,
    /// When the agent was registered (RFC 3339, UTC).
    pub created_at: String,
    /// When the agent last changed (RFC 3339, UTC).
    pub updated_at: String,
    /// Registry revision counter: 1 on registration, +1 on every update. `agent update
    /// --if-version N` / MCP `ifVersion` compare against it (compare-and-swap).
    pub revision: u64,
}
