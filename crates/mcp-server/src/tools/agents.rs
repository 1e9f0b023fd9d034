//! The agent tools: list, get, register, update, remove, recommend, capabilities —
//! thin adapters from tool arguments to [`AgentRegistry`] calls.
//!
//! Argument types here derive `JsonSchema`: the catalog publishes their schemas, and
//! `arguments` checks calls against the same schemas. Outputs are the contracts' wire
//! types (`ax_contracts::agent::{AgentPage, Registered, ...}`), shared with the CLI.

use ax_agent_domain::AgentRegistry;
use ax_agent_domain::recommend::RecommendRequest;
use ax_agent_domain::store::{AgentFilter, PageRequest};
use ax_contracts::agent::{
    AgentCategory, AgentPage, AgentProfile, AgentSummary, REGISTRY_OWNED_FIELDS, Registered,
    Removed,
};
use ax_contracts::validation::{Issue, JsonPath, ValidationErrors, rule};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{output, typed};
use crate::failure::ToolFailure;

/// Page size of `agent_list` when none is given.
const DEFAULT_LIST_LIMIT: u64 = 50;

/// `agent_list` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ListArgs {
    /// Only agents of this team (exact match).
    #[schemars(length(max = 100))]
    team: Option<String>,
    /// Only agents carrying any of these tags.
    #[schemars(length(max = 20), inner(length(max = 50)))]
    tags: Option<Vec<String>>,
    /// Only agents having exactly this capability.
    #[schemars(length(max = 100))]
    capability: Option<String>,
    /// Only enabled (`true`) or only disabled (`false`) agents.
    enabled: Option<bool>,
    /// Page size, 1–100 (default 50).
    #[schemars(range(min = 1, max = 100))]
    limit: Option<u64>,
    /// `nextCursor` of the previous page.
    #[schemars(length(max = 20))]
    cursor: Option<String>,
}

/// `agent_get` / `agent_remove` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct IdArgs {
    /// The agent id.
    #[schemars(length(min = 1, max = 50))]
    agent_id: String,
}

/// `agent_update` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct UpdateArgs {
    /// The agent to change.
    #[schemars(length(min = 1, max = 50))]
    agent_id: String,
    /// Top-level profile fields to set; `null` removes an optional field. The merged
    /// profile must satisfy every rule of the contract; `agentId` cannot change and
    /// `createdAt`/`updatedAt`/`revision` are the registry's.
    patch: serde_json::Map<String, Value>,
    /// Only update if the agent is still at this revision (compare-and-swap); a
    /// mismatch answers `CONFLICT`.
    #[schemars(range(min = 1))]
    if_version: Option<u64>,
}

/// `agent_recommend` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RecommendArgs {
    /// The task, in the user's words.
    #[schemars(length(min = 1, max = 5000))]
    task: String,
    /// Only agents of this team.
    #[schemars(length(max = 100))]
    team: Option<String>,
    /// Only agents having every one of these capabilities.
    #[schemars(length(max = 50), inner(length(max = 100)))]
    required_capabilities: Option<Vec<String>>,
    /// Never recommend these agents.
    #[schemars(length(max = 100), inner(length(max = 50)))]
    exclude_agents: Option<Vec<String>>,
    /// How many agents to return in all (recommended + alternatives), 1–10 (default 3).
    #[schemars(range(min = 1, max = 10))]
    max_results: Option<usize>,
    /// Score every enabled agent instead of the candidates the term index picks
    /// (default false): exact, but slower in proportion to the registry's size; for
    /// comparison.
    exhaustive: Option<bool>,
}

/// `agent_capabilities` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CapabilitiesArgs {
    /// Only agents of this category.
    category: Option<AgentCategory>,
    /// Include disabled agents (default false).
    include_disabled: Option<bool>,
}

/// `agent_list`: one page of agents matching the filter.
pub(crate) async fn list(agents: &AgentRegistry, args: Value) -> Result<Value, ToolFailure> {
    let args: ListArgs = typed(args)?;
    let offset = match args.cursor.as_deref() {
        None => 0,
        Some(cursor) => cursor.parse::<u64>().map_err(|_| {
            ToolFailure::invalid(ValidationErrors::single(
                &JsonPath::root().key("cursor"),
                rule::FORMAT,
                "is not a cursor returned by agent_list",
            ))
        })?,
    };
    let limit = args.limit.unwrap_or(DEFAULT_LIST_LIMIT);
    let filter = AgentFilter {
        team: args.team,
        tags: args.tags.unwrap_or_default(),
        capability: args.capability,
        enabled: args.enabled,
    };
    let page = agents
        .list(
            &filter,
            PageRequest {
                offset,
                limit: Some(limit),
            },
        )
        .await?;
    let end = offset + page.agents.len() as u64;
    output(&AgentPage {
        agents: page.agents.iter().map(AgentSummary::from).collect(),
        total: page.total,
        next_cursor: (end < page.total && !page.agents.is_empty()).then(|| end.to_string()),
        offset: None,
        limit: None,
        next_offset: None,
    })
}

/// `agent_get`: the full stored profile.
pub(crate) async fn get(agents: &AgentRegistry, args: Value) -> Result<Value, ToolFailure> {
    let args: IdArgs = typed(args)?;
    output(&agents.get(&args.agent_id).await?)
}

/// `agent_register`: the profile is the arguments object itself.
///
/// INV-AGT-REG-001: no existence check here either — the store decides, so of many
/// concurrent registrations of one id (from any number of server processes) exactly
/// one succeeds and the rest get `AGENT_ALREADY_EXISTS`.
pub(crate) async fn register(agents: &AgentRegistry, args: Value) -> Result<Value, ToolFailure> {
    let record = agents.register_json(&args).await?;
    output(&Registered::from(&record))
}

/// Issues of a registration beyond undeclared fields, so that one answer lists all.
pub(crate) fn register_issues(args: &Value) -> Vec<Issue> {
    let mut issues = AgentProfile::from_json(args)
        .err()
        .map(|e| e.issues)
        .unwrap_or_default();
    // The contract accepts (and drops) the registry-owned fields so that an export
    // re-imports; over MCP they are undeclared and refused by name instead.
    issues.retain(|i| !REGISTRY_OWNED_FIELDS.contains(&i.path.as_str()));
    issues
}

/// `agent_update`: merge the patch, optionally as a compare-and-swap.
pub(crate) async fn update(agents: &AgentRegistry, args: Value) -> Result<Value, ToolFailure> {
    let args: UpdateArgs = typed(args)?;
    let patch = Value::Object(args.patch);
    match agents.update(&args.agent_id, &patch, args.if_version).await {
        Ok(record) => output(&record),
        // The registry checks the merged profile; its paths are the patch's fields.
        Err(ax_agent_domain::AgentError::Validation(errors)) => {
            Err(ToolFailure::invalid(under_patch(errors)))
        }
        Err(other) => Err(other.into()),
    }
}

/// Re-root validation paths under `patch` (`team` → `patch.team`).
fn under_patch(errors: ValidationErrors) -> ValidationErrors {
    ValidationErrors {
        issues: errors
            .issues
            .into_iter()
            .map(|mut issue| {
                issue.path = if issue.path == "$" {
                    "patch".to_owned()
                } else {
                    format!("patch.{}", issue.path)
                };
                issue
            })
            .collect(),
    }
}

/// `agent_remove`: a missing agent is `removed: false`, not an error.
pub(crate) async fn remove(agents: &AgentRegistry, args: Value) -> Result<Value, ToolFailure> {
    let args: IdArgs = typed(args)?;
    let removed = agents.remove(&args.agent_id).await?;
    output(&Removed {
        removed,
        agent_id: args.agent_id,
    })
}

/// `agent_recommend`.
pub(crate) async fn recommend(agents: &AgentRegistry, args: Value) -> Result<Value, ToolFailure> {
    let args: RecommendArgs = typed(args)?;
    let request = RecommendRequest {
        task: args.task,
        team: args.team,
        required_capabilities: args.required_capabilities.unwrap_or_default(),
        exclude_agents: args.exclude_agents.unwrap_or_default(),
        max_results: args.max_results,
    };
    if args.exhaustive == Some(true) {
        output(&agents.recommend_exhaustive(&request).await?)
    } else {
        output(&agents.recommend(&request).await?)
    }
}

/// `agent_capabilities`.
pub(crate) async fn capabilities(
    agents: &AgentRegistry,
    args: Value,
) -> Result<Value, ToolFailure> {
    let args: CapabilitiesArgs = typed(args)?;
    let index = agents
        .capabilities(
            args.category.map(AgentCategory::as_str),
            args.include_disabled.unwrap_or(false),
        )
        .await?;
    output(&index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_issues_are_reported_under_patch() {
        let errors = ValidationErrors::single(&JsonPath::root().key("team"), rule::TYPE, "x");
        assert_eq!(under_patch(errors).issues[0].path, "patch.team");
    }
}
